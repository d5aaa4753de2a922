"""What is written in working-group sessions: sessions, participants, findings, votes, action
sheets, stakeholders. SQLAlchemy on SQLite (a file in the workspace) or PostgreSQL
($PTI_DATABASE_URL). The schema is created and upgraded by the code; every row keeps its author,
organisation and time; deletions are soft (restorable); an action sheet edited from a stale version
is refused, never silently overwritten.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import (JSON, Boolean, Column, Date, DateTime, ForeignKey, Integer, MetaData, String,
                        Table, Text, UniqueConstraint, create_engine, event, func, insert, select, update)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from diagnostic.errors import InputError

SCHEMA_VERSION = 1
FINDING_KINDS = {"besoin": "Besoin", "ressource": "Ressource", "manque": "Manque", "piste": "Piste d'action"}
SHEET_STATUSES = {"brouillon": "Brouillon", "proposee": "Proposée", "validee": "Validée"}
COOPERATION_MODES = {"information": "Information", "consultation": "Consultation",
                     "co-construction": "Co-construction"}
STAGES = {"diagnostic": "Diagnostic", "mise_en_oeuvre": "Mise en œuvre et suivi", "evaluation": "Évaluation"}
SHEET_FIELDS = ["title", "axis", "objectives", "public", "pilot", "partners", "human_means",
                "financial_means", "calendar", "deliverables", "indicators", "finding_ids", "status"]
STAKEHOLDER_FIELDS = ["name", "mission", "history", "role", "fit", "impact", "influence", "modes"]
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud in a room

metadata = MetaData()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _authored() -> list[Column]:
    return [Column("author", String(120), nullable=False), Column("organisation", String(160), nullable=False),
            Column("created_at", DateTime, nullable=False, default=_now)]


schema_version = Table("schema_version", metadata, Column("version", Integer, primary_key=True))
sessions = Table(
    "sessions", metadata, Column("id", Integer, primary_key=True), Column("code", String(8), unique=True, nullable=False),
    Column("title", String(200), nullable=False), Column("theme", String(120), nullable=False, default=""),
    Column("territory", String(200), nullable=False, default=""), Column("day", Date),
    Column("votes_per_participant", Integer, nullable=False, default=5),
    Column("closed", Boolean, nullable=False, default=False), *_authored())
participants = Table(
    "participants", metadata, Column("id", Integer, primary_key=True),
    Column("session_id", ForeignKey("sessions.id"), nullable=False), Column("facilitator", Boolean, default=False),
    Column("token", String(32), unique=True, nullable=False), *_authored())
findings = Table(
    "findings", metadata, Column("id", Integer, primary_key=True),
    Column("session_id", ForeignKey("sessions.id"), nullable=False, index=True),
    Column("text", Text, nullable=False), Column("kind", String(20), nullable=False),
    Column("theme", String(120), nullable=False, default=""), Column("territory", String(200), nullable=False, default=""),
    Column("commune", String(5), nullable=False, default=""),
    Column("participant_id", ForeignKey("participants.id"), nullable=False), *_authored(),
    Column("deleted_at", DateTime), Column("deleted_by", String(120)))
votes = Table(
    "votes", metadata, Column("id", Integer, primary_key=True),
    Column("finding_id", ForeignKey("findings.id"), nullable=False, index=True),
    Column("participant_id", ForeignKey("participants.id"), nullable=False, index=True),
    Column("created_at", DateTime, nullable=False, default=_now),
    UniqueConstraint("finding_id", "participant_id", name="one_vote_per_finding"))
sheets = Table(
    "action_sheets", metadata, Column("id", Integer, primary_key=True),
    Column("session_id", ForeignKey("sessions.id"), nullable=False, index=True),
    Column("version", Integer, nullable=False, default=1), Column("data", JSON, nullable=False), *_authored(),
    Column("updated_at", DateTime), Column("deleted_at", DateTime), Column("deleted_by", String(120)))
sheet_history = Table(
    "action_sheet_history", metadata, Column("id", Integer, primary_key=True),
    Column("sheet_id", ForeignKey("action_sheets.id"), nullable=False, index=True),
    Column("version", Integer, nullable=False), Column("data", JSON, nullable=False), *_authored())
stakeholders = Table(
    "stakeholders", metadata, Column("id", Integer, primary_key=True),
    Column("session_id", ForeignKey("sessions.id"), nullable=False, index=True),
    Column("version", Integer, nullable=False, default=1), Column("data", JSON, nullable=False), *_authored(),
    Column("updated_at", DateTime), Column("deleted_at", DateTime), Column("deleted_by", String(120)))


class StaleEdit(Exception):
    """An edit made on an old version: someone saved in between. Both versions are kept here."""

    def __init__(self, current: dict, current_version: int, yours: dict):
        self.current, self.current_version, self.yours = current, current_version, yours
        super().__init__("Cette fiche a été modifiée par quelqu'un d'autre pendant votre saisie : "
                         "comparez les deux versions avant d'enregistrer à nouveau.")


@dataclass(frozen=True)
class Participant:
    id: int
    session_id: int
    name: str
    organisation: str
    facilitator: bool
    token: str  # secret of this browser's participant: lets a reloaded page find it again


def database_url(workspace: Path) -> str:
    """$PTI_DATABASE_URL when set (PostgreSQL), else a SQLite file in the workspace."""
    return os.environ.get("PTI_DATABASE_URL") or f"sqlite:///{Path(workspace) / 'seances.sqlite'}"


class Store:
    """Access to the sessions' database; safe to share between threads (one engine, a pool)."""

    def __init__(self, url: str):
        sqlite = url.startswith("sqlite")
        # a working group is 10-30 people, each page refreshing every 2 s: enough connections for all
        args = {"pool_size": 20, "max_overflow": 40, **({"connect_args": {"timeout": 30}} if sqlite else {})}
        self.engine: Engine = create_engine(url, pool_pre_ping=True, **args)  # writes
        self.reader: Engine = create_engine(url, pool_pre_ping=True, **args) if sqlite else self.engine
        if sqlite:
            # writers queue up (BEGIN IMMEDIATE) instead of failing; readers never wait (WAL)
            for engine in (self.engine, self.reader):
                event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
            event.listen(self.reader, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        self.migrate()

    def migrate(self) -> None:
        """Create missing tables and record the schema version (no manual step)."""
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            current = conn.execute(select(func.max(schema_version.c.version))).scalar()
            if current is None or current < SCHEMA_VERSION:
                conn.execute(insert(schema_version).values(version=SCHEMA_VERSION))

    # --- sessions and participants -------------------------------------------------------------

    def create_session(self, title: str, author: str, organisation: str, theme: str = "", territory: str = "",
                       day: date | None = None, votes_per_participant: int = 5) -> tuple[str, Participant]:
        """A new session and its facilitator; returns the join code."""
        _require(title, "titre de la séance")
        _require(author, "nom")
        _require(organisation, "organisation")
        for _ in range(20):
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
            try:
                with self.engine.begin() as conn:
                    sid = conn.execute(insert(sessions).values(
                        code=code, title=title.strip(), theme=theme, territory=territory, day=day,
                        votes_per_participant=votes_per_participant, author=author.strip(),
                        organisation=organisation.strip())).inserted_primary_key[0]
                    token = secrets.token_urlsafe(16)
                    pid = conn.execute(insert(participants).values(
                        session_id=sid, facilitator=True, author=author.strip(), token=token,
                        organisation=organisation.strip())).inserted_primary_key[0]
                return code, Participant(pid, sid, author.strip(), organisation.strip(), True, token)
            except IntegrityError:
                continue  # the code was taken: draw another one
        raise RuntimeError("aucun code de séance disponible")

    def session(self, code: str) -> dict:
        with self.reader.connect() as conn:
            row = conn.execute(select(sessions).where(sessions.c.code == code.strip().upper())).mappings().first()
        if row is None:
            raise InputError(f"aucune séance n'a le code « {code} ».", fix="Vérifiez le code affiché par l'animateur.")
        return dict(row)

    def session_code(self, session_id: int) -> str:
        with self.reader.connect() as conn:
            return conn.execute(select(sessions.c.code).where(sessions.c.id == session_id)).scalar_one()

    def join(self, code: str, name: str, organisation: str) -> Participant:
        """A participant joins with the code, a name and an organisation (no account)."""
        _require(name, "nom")
        _require(organisation, "organisation")
        found = self.session(code)
        token = secrets.token_urlsafe(16)
        with self.engine.begin() as conn:
            pid = conn.execute(insert(participants).values(
                session_id=found["id"], author=name.strip(), organisation=organisation.strip(),
                token=token)).inserted_primary_key[0]
        return Participant(pid, found["id"], name.strip(), organisation.strip(), False, token)

    def participant(self, token: str) -> Participant | None:
        """The participant holding this token (None if unknown)."""
        with self.reader.connect() as conn:
            row = conn.execute(select(participants).where(participants.c.token == str(token))).mappings().first()
        if row is None:
            return None
        return Participant(row["id"], row["session_id"], row["author"], row["organisation"], bool(row["facilitator"]),
                           row["token"])

    def close_session(self, who: Participant) -> None:
        if not who.facilitator:
            raise InputError("seul l'animateur peut clore la séance.")
        with self.engine.begin() as conn:
            conn.execute(update(sessions).where(sessions.c.id == who.session_id).values(closed=True))

    def _open(self, conn, session_id: int) -> None:
        closed = conn.execute(select(sessions.c.closed).where(sessions.c.id == session_id)).scalar()
        if closed:
            raise InputError("la séance est close : elle reste consultable mais plus modifiable.")

    # --- findings and votes --------------------------------------------------------------------

    def add_finding(self, who: Participant, text: str, kind: str, theme: str = "", territory: str = "",
                    commune: str = "") -> int:
        _require(text, "constat")
        if kind not in FINDING_KINDS:
            raise InputError(f"type de constat inconnu « {kind} ».", fix=f"Types : {', '.join(FINDING_KINDS)}.")
        with self.engine.begin() as conn:
            self._open(conn, who.session_id)
            return conn.execute(insert(findings).values(
                session_id=who.session_id, text=text.strip(), kind=kind, theme=theme, territory=territory,
                commune=commune, participant_id=who.id, author=who.name,
                organisation=who.organisation)).inserted_primary_key[0]

    def delete_finding(self, who: Participant, finding_id: int) -> None:
        self._soft_delete(findings, who, finding_id)

    def restore_finding(self, who: Participant, finding_id: int) -> None:
        self._restore(findings, who, finding_id)

    def vote(self, who: Participant, finding_id: int) -> None:
        """One dot on a finding, within the participant's allowance; a second dot is refused."""
        with self.engine.begin() as conn:
            self._open(conn, who.session_id)
            # lock the participant's row so that two clicks at once cannot exceed the allowance
            conn.execute(update(participants).where(participants.c.id == who.id).values(author=participants.c.author))
            allowance = conn.execute(select(sessions.c.votes_per_participant)
                                     .where(sessions.c.id == who.session_id)).scalar()
            used = conn.execute(select(func.count()).select_from(votes)
                                .where(votes.c.participant_id == who.id)).scalar()
            if used >= allowance:
                raise InputError(f"vous avez déjà utilisé vos {allowance} votes.",
                                 fix="Retirez un vote pour en placer un autre.")
            target = conn.execute(select(findings.c.session_id, findings.c.deleted_at)
                                  .where(findings.c.id == finding_id)).first()
            if target is None or target.session_id != who.session_id or target.deleted_at is not None:
                raise InputError("ce constat n'existe pas dans la séance.")
            try:
                with conn.begin_nested():
                    conn.execute(insert(votes).values(finding_id=finding_id, participant_id=who.id))
            except IntegrityError:
                raise InputError("vous avez déjà voté pour ce constat.") from None

    def unvote(self, who: Participant, finding_id: int) -> None:
        with self.engine.begin() as conn:
            self._open(conn, who.session_id)
            conn.execute(votes.delete().where((votes.c.finding_id == finding_id) & (votes.c.participant_id == who.id)))

    def votes_left(self, who: Participant) -> int:
        with self.reader.connect() as conn:
            allowance = conn.execute(select(sessions.c.votes_per_participant)
                                     .where(sessions.c.id == who.session_id)).scalar()
            used = conn.execute(select(func.count()).select_from(votes).where(votes.c.participant_id == who.id)).scalar()
        return allowance - used

    def ranking(self, session_id: int, include_deleted: bool = False) -> list[dict]:
        """The session's findings with their votes, most voted first (then oldest first)."""
        count = func.count(votes.c.id).label("votes")
        query = (select(findings, count).select_from(findings.outerjoin(votes, votes.c.finding_id == findings.c.id))
                 .where(findings.c.session_id == session_id).group_by(findings.c.id)
                 .order_by(count.desc(), findings.c.id))
        if not include_deleted:
            query = query.where(findings.c.deleted_at.is_(None))
        with self.reader.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def my_votes(self, who: Participant) -> set[int]:
        with self.reader.connect() as conn:
            return set(conn.execute(select(votes.c.finding_id).where(votes.c.participant_id == who.id)).scalars())

    # --- action sheets -------------------------------------------------------------------------

    def add_sheet(self, who: Participant, data: dict) -> int:
        clean = _sheet_data(data)
        with self.engine.begin() as conn:
            self._open(conn, who.session_id)
            sheet_id = conn.execute(insert(sheets).values(session_id=who.session_id, data=clean, author=who.name,
                                                          organisation=who.organisation)).inserted_primary_key[0]
            conn.execute(insert(sheet_history).values(sheet_id=sheet_id, version=1, data=clean, author=who.name,
                                                      organisation=who.organisation))
        return sheet_id

    def update_sheet(self, who: Participant, sheet_id: int, expected_version: int, data: dict) -> int:
        """Save a new version if nobody saved since `expected_version`; else raise StaleEdit."""
        clean = _sheet_data(data)
        with self.engine.begin() as conn:
            self._open(conn, who.session_id)
            _save_version(conn, sheets, sheet_id, expected_version, clean)
            conn.execute(insert(sheet_history).values(sheet_id=sheet_id, version=expected_version + 1, data=clean,
                                                      author=who.name, organisation=who.organisation))
        return expected_version + 1

    def sheets(self, session_id: int, include_deleted: bool = False) -> list[dict]:
        query = select(sheets).where(sheets.c.session_id == session_id).order_by(sheets.c.id)
        if not include_deleted:
            query = query.where(sheets.c.deleted_at.is_(None))
        with self.reader.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def history(self, sheet_id: int) -> list[dict]:
        with self.reader.connect() as conn:
            return [dict(r) for r in conn.execute(select(sheet_history).where(sheet_history.c.sheet_id == sheet_id)
                                                  .order_by(sheet_history.c.version)).mappings()]

    def delete_sheet(self, who: Participant, sheet_id: int) -> None:
        self._soft_delete(sheets, who, sheet_id)

    def restore_sheet(self, who: Participant, sheet_id: int) -> None:
        self._restore(sheets, who, sheet_id)

    # --- stakeholders --------------------------------------------------------------------------

    def save_stakeholder(self, who: Participant, data: dict, stakeholder_id: int | None = None,
                         expected_version: int | None = None) -> int:
        clean = _stakeholder_data(data)
        with self.engine.begin() as conn:
            self._open(conn, who.session_id)
            if stakeholder_id is None:
                return conn.execute(insert(stakeholders).values(session_id=who.session_id, data=clean, author=who.name,
                                                                organisation=who.organisation)).inserted_primary_key[0]
            _save_version(conn, stakeholders, stakeholder_id, expected_version, clean)
            return stakeholder_id

    def stakeholders(self, session_id: int) -> list[dict]:
        with self.reader.connect() as conn:
            return [dict(r) for r in conn.execute(select(stakeholders).where(
                (stakeholders.c.session_id == session_id) & stakeholders.c.deleted_at.is_(None))
                .order_by(stakeholders.c.id)).mappings()]

    def delete_stakeholder(self, who: Participant, stakeholder_id: int) -> None:
        self._soft_delete(stakeholders, who, stakeholder_id)

    # --- soft deletion -------------------------------------------------------------------------

    def _soft_delete(self, table: Table, who: Participant, row_id: int) -> None:
        with self.engine.begin() as conn:
            self._open(conn, who.session_id)
            conn.execute(update(table).where((table.c.id == row_id) & (table.c.session_id == who.session_id))
                         .values(deleted_at=_now(), deleted_by=who.name))

    def _restore(self, table: Table, who: Participant, row_id: int) -> None:
        with self.engine.begin() as conn:
            self._open(conn, who.session_id)
            conn.execute(update(table).where((table.c.id == row_id) & (table.c.session_id == who.session_id))
                         .values(deleted_at=None, deleted_by=None))


def _save_version(conn, table: Table, row_id: int, expected_version: int, data: dict) -> None:
    """Write version expected + 1 only if the row is still at the expected version (optimistic
    concurrency); otherwise raise StaleEdit with the saved version and the refused one."""
    done = conn.execute(update(table).where((table.c.id == row_id) & (table.c.version == expected_version))
                        .values(version=expected_version + 1, data=data, updated_at=_now())).rowcount
    if not done:
        current = conn.execute(select(table.c.data, table.c.version).where(table.c.id == row_id)).one()
        raise StaleEdit(current.data, current.version, data)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event issues BEGIN IMMEDIATE
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _require(value: str, label: str) -> None:
    if not str(value or "").strip():
        raise InputError(f"le champ « {label} » est vide.", field=label, fix="Remplissez-le avant d'enregistrer.")


def _sheet_data(data: dict) -> dict:
    clean = {key: data.get(key, [] if key in ("indicators", "finding_ids") else "") for key in SHEET_FIELDS}
    _require(clean["title"], "titre")
    if clean["status"] not in SHEET_STATUSES:
        clean["status"] = "brouillon"
    json.dumps(clean)  # only plain values are stored
    return clean


def _stakeholder_data(data: dict) -> dict:
    clean = {key: data.get(key, "") for key in STAKEHOLDER_FIELDS}
    _require(clean["name"], "partenaire")
    for key in ("fit", "impact", "influence"):
        value = int(clean[key] or 0)
        if not 1 <= value <= 5:
            raise InputError(f"« {key} » doit être une note de 1 à 5.", field=key)
        clean[key] = value
    modes = clean["modes"] or {}
    clean["modes"] = {stage: modes.get(stage, "information") for stage in STAGES}
    if not set(clean["modes"].values()) <= set(COOPERATION_MODES):
        raise InputError("mode de coopération inconnu.", fix=f"Modes : {', '.join(COOPERATION_MODES)}.")
    return clean


def all_sessions(store: Store) -> list[dict]:
    """Every session of the workspace, oldest first."""
    with store.reader.connect() as conn:
        return [dict(r) for r in conn.execute(select(sessions).order_by(sessions.c.id)).mappings()]
