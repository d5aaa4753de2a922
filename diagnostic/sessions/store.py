"""What is written in working-group sessions: sessions, participants, findings, votes, action
sheets, stakeholders. SQLAlchemy on SQLite (one file for the whole server) or PostgreSQL
($PTI_DATABASE_URL). Every row keeps its author, organisation and time; deletions are soft
(restorable); an action sheet edited from a stale version is refused, never silently overwritten.

The rules are enforced here, where the data is written, whatever page or script calls: the caller
is recognised by its secret token (a forged participant gets nothing), a closed session is
read-only, only the facilitator or the author removes or restores an item, votes stay within the
allowance under concurrent clicks, texts have a maximum length, join attempts are rate-limited.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, event, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from diagnostic.errors import InputError
from diagnostic.io.text import clean_text
from diagnostic.sessions.schema import (_now, findings, join_attempts, migrate, participants, sessions,
                                        sheet_history, sheets, stakeholders, votes)

FINDING_KINDS = {"besoin": "Besoin", "ressource": "Ressource", "manque": "Manque", "piste": "Piste d'action"}
SHEET_STATUSES = {"brouillon": "Brouillon", "proposee": "Proposée", "validee": "Validée"}
COOPERATION_MODES = {"information": "Information", "consultation": "Consultation",
                     "co-construction": "Co-construction"}
STAGES = {"diagnostic": "Diagnostic", "mise_en_oeuvre": "Mise en œuvre et suivi", "evaluation": "Évaluation"}
SHEET_FIELDS = ["title", "axis", "objectives", "public", "pilot", "partners", "human_means",
                "financial_means", "calendar", "deliverables", "indicators", "finding_ids", "status"]
SHEET_LABELS = {"title": "Intitulé", "axis": "Axe du pacte", "objectives": "Objectifs", "public": "Public visé",
                "pilot": "Pilote (portage)", "partners": "Partenaires associés", "human_means": "Moyens humains",
                "financial_means": "Moyens financiers", "calendar": "Calendrier", "deliverables": "Livrables",
                "indicators": "Indicateurs de suivi", "finding_ids": "Constats liés", "status": "Statut"}
STAKEHOLDER_FIELDS = ["name", "mission", "history", "role", "fit", "impact", "influence", "modes"]
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud in a room
CODE_LENGTH = 8  # 32^8 ≈ 10^12 codes: with the rate limit below, guessing one is hopeless
# maximum lengths, in characters (the page shows a counter with the same limits)
LIMITS = {"finding": 500, "name": 80, "organisation": 120, "title": 200, "field": 3000, "short": 300}
JOIN_WINDOW = timedelta(minutes=1)
LIVE_MAX_AGE = 0.3  # seconds a ranking read is shared by the pages of a session
JOINS_PER_CLIENT = 10  # attempts (right or wrong code) of one browser in a minute
JOINS_PER_NETWORK = 120  # of one address (a room behind one router shares it)
JOINS_PER_SESSION = 60  # attempts on one session's code in a minute (a room of 30, twice)


class StaleEdit(Exception):
    """An edit made on an old version: someone saved in between. Both versions are kept here."""

    def __init__(self, current: dict, current_version: int, yours: dict):
        self.current, self.current_version, self.yours = current, current_version, yours
        super().__init__("Cette fiche a été modifiée par quelqu'un d'autre pendant votre saisie : "
                         "comparez les deux versions avant d'enregistrer à nouveau.")

    def changed(self) -> list[str]:
        """The fields whose saved value differs from the one typed."""
        return [key for key in self.yours if self.current.get(key) != self.yours.get(key)]


@dataclass(frozen=True)
class Participant:
    id: int
    session_id: int
    name: str
    organisation: str
    facilitator: bool
    token: str  # secret of this device's participant: kept in the browser, never in an address


def normalise_code(code: str) -> str:
    """A join code as typed or read aloud: case, spaces and dashes do not matter."""
    return "".join(c for c in str(code).upper() if c.isalnum())


def display_code(code: str) -> str:
    """The code as projected: two groups of four (« ABCD EFGH »)."""
    return f"{code[:4]} {code[4:]}" if len(code) == 8 else code


class Store:
    """Access to the sessions' database; safe to share between threads (one engine, a pool)."""

    def __init__(self, url: str):
        sqlite = url.startswith("sqlite")
        if sqlite and url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
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
        migrate(self.engine)
        self._live: dict[int, tuple[float, list[dict]]] = {}
        self._live_lock = threading.Lock()

    # --- sessions and participants -------------------------------------------------------------

    def create_session(self, title: str, author: str, organisation: str, theme: str = "", territory: str = "",
                       day: date | None = None, votes_per_participant: int = 5,
                       workspace: str = "") -> tuple[str, Participant]:
        """A new session of a workspace and its facilitator; returns the join code (unique on the
        server, whatever the workspace)."""
        title, author, organisation = (_text(title, "titre de la séance", LIMITS["title"]), _name(author),
                                       _text(organisation, "organisation", LIMITS["organisation"]))
        if not 1 <= int(votes_per_participant) <= 50:
            raise InputError("le nombre de votes par participant va de 1 à 50.", field="votes")
        for _ in range(20):
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            try:
                with self.engine.begin() as conn:
                    sid = conn.execute(insert(sessions).values(
                        code=code, title=title, theme=theme, territory=territory, day=day,
                        votes_per_participant=int(votes_per_participant), workspace=str(workspace),
                        author=author, organisation=organisation)).inserted_primary_key[0]
                    token = secrets.token_urlsafe(24)
                    pid = conn.execute(insert(participants).values(
                        session_id=sid, facilitator=True, author=author, token=token,
                        organisation=organisation)).inserted_primary_key[0]
                return code, Participant(pid, sid, author, organisation, True, token)
            except IntegrityError:
                continue  # the code was taken: draw another one
        raise RuntimeError("aucun code de séance disponible")

    def session(self, code: str) -> dict:
        """The session of a join code, with the workspace it belongs to."""
        with self.reader.connect() as conn:
            row = conn.execute(select(sessions).where(sessions.c.code == normalise_code(code))).mappings().first()
        if row is None:
            raise InputError(f"aucune séance n'a le code « {str(code).strip()[:20]} ».",
                             fix="Vérifiez le code affiché par l'animateur.")
        return dict(row)

    def session_by_id(self, session_id: int) -> dict:
        with self.reader.connect() as conn:
            return dict(conn.execute(select(sessions).where(sessions.c.id == session_id)).mappings().one())

    def join(self, code: str, name: str, organisation: str, client: str = "", network: str = "",
             token: str | None = None) -> Participant:
        """A participant joins with the code, a name and an organisation (no account). A device that
        already joined this session (its `token`) gets its own identity back, votes included.
        Attempts are limited per browser (`client`), per address (`network`) and per session."""
        name, organisation = _name(name), _text(organisation, "organisation", LIMITS["organisation"])
        wanted = normalise_code(code)
        client, network = str(client)[:120], str(network)[:120]
        with self.engine.begin() as conn:
            since = _now() - JOIN_WINDOW

            def recent(condition) -> int:
                return conn.execute(select(func.count()).select_from(join_attempts)
                                    .where(condition & (join_attempts.c.at > since))).scalar()

            if ((client and recent(join_attempts.c.client == client) >= JOINS_PER_CLIENT)
                    or (network and recent(join_attempts.c.network == network) >= JOINS_PER_NETWORK)
                    or recent(join_attempts.c.code == wanted[:16]) >= JOINS_PER_SESSION):
                raise InputError("trop d'essais en peu de temps.", fix="Attendez une minute, puis vérifiez le code "
                                                                      "affiché par l'animateur.")
            conn.execute(insert(join_attempts).values(client=client, network=network, code=wanted[:16]))
        found = self.session(wanted)
        if token:
            again = self.participant(token)
            if again is not None and again.session_id == found["id"]:
                return again
        token = secrets.token_urlsafe(24)
        with self.engine.begin() as conn:
            pid = conn.execute(insert(participants).values(
                session_id=found["id"], author=name, organisation=organisation, token=token)).inserted_primary_key[0]
        return Participant(pid, found["id"], name, organisation, False, token)

    def participant(self, token: str | None) -> Participant | None:
        """The participant holding this token (None if unknown)."""
        if not token:
            return None
        with self.reader.connect() as conn:
            row = conn.execute(select(participants).where(participants.c.token == str(token)[:64])).mappings().first()
        return _participant(row) if row is not None else None

    def participants_of(self, session_id: int) -> list[Participant]:
        with self.reader.connect() as conn:
            rows = conn.execute(select(participants).where(participants.c.session_id == session_id)
                                .order_by(participants.c.id)).mappings()
            return [_participant(r) for r in rows]

    def set_facilitator(self, who: Participant, participant_id: int, facilitator: bool = True) -> None:
        """Hand over or share the facilitator's role (facilitators only; one always remains)."""
        with self.engine.begin() as conn:
            me = self._caller(conn, who, facilitator=True)
            target = conn.execute(select(participants.c.session_id).where(participants.c.id == participant_id)).first()
            if target is None or target.session_id != me.session_id:
                raise InputError("ce participant n'est pas dans la séance.")
            conn.execute(update(participants).where(participants.c.id == participant_id)
                         .values(facilitator=bool(facilitator)))
            left = conn.execute(select(func.count()).select_from(participants).where(
                (participants.c.session_id == me.session_id) & participants.c.facilitator.is_(True))).scalar()
            if not left:
                raise InputError("la séance doit garder au moins un animateur.")

    def close_session(self, who: Participant) -> None:
        with self.engine.begin() as conn:
            me = self._caller(conn, who, facilitator=True)
            conn.execute(update(sessions).where(sessions.c.id == me.session_id).values(closed=True))

    def _caller(self, conn, who: Participant, facilitator: bool = False, open_only: bool = True) -> Participant:
        """The caller as the database knows it (never as the object claims), checked against the
        session state and, when asked, the facilitator's role."""
        row = conn.execute(select(participants).where(participants.c.token == str(getattr(who, "token", ""))[:64])
                           ).mappings().first()
        if row is None or row["id"] != getattr(who, "id", None):
            raise InputError("participant inconnu : rejoignez la séance avec son code.")
        me = _participant(row)
        if facilitator and not me.facilitator:
            raise InputError("seul l'animateur de la séance peut le faire.")
        if open_only and conn.execute(select(sessions.c.closed).where(sessions.c.id == me.session_id)).scalar():
            raise InputError("la séance est close : elle reste consultable mais plus modifiable.")
        return me

    # --- findings and votes --------------------------------------------------------------------

    def add_finding(self, who: Participant, text: str, kind: str, theme: str = "", territory: str = "",
                    commune: str = "") -> int:
        text = _text(text, "constat", LIMITS["finding"], one_line=False)
        if kind not in FINDING_KINDS:
            raise InputError(f"type de constat inconnu « {kind} ».", fix=f"Types : {', '.join(FINDING_KINDS)}.")
        with self.engine.begin() as conn:
            me = self._caller(conn, who)
            return conn.execute(insert(findings).values(
                session_id=me.session_id, text=text, kind=kind, theme=theme[:120], territory=territory[:200],
                commune=commune[:5], participant_id=me.id, author=me.name,
                organisation=me.organisation)).inserted_primary_key[0]

    def delete_finding(self, who: Participant, finding_id: int) -> None:
        self._soft_delete(findings, who, finding_id)

    def restore_finding(self, who: Participant, finding_id: int) -> None:
        self._soft_delete(findings, who, finding_id, restore=True)

    def vote(self, who: Participant, finding_id: int) -> None:
        """One dot on a finding, within the participant's allowance; a second dot is refused."""
        with self.engine.begin() as conn:
            me = self._caller(conn, who)
            # lock the participant's row so that two clicks at once cannot exceed the allowance
            conn.execute(update(participants).where(participants.c.id == me.id).values(author=participants.c.author))
            allowance = conn.execute(select(sessions.c.votes_per_participant)
                                     .where(sessions.c.id == me.session_id)).scalar()
            used = conn.execute(select(func.count()).select_from(votes)
                                .where(votes.c.participant_id == me.id)).scalar()
            if used >= allowance:
                raise InputError(f"vous avez déjà utilisé vos {allowance} votes.",
                                 fix="Retirez un vote pour en placer un autre.")
            target = conn.execute(select(findings.c.session_id, findings.c.deleted_at)
                                  .where(findings.c.id == finding_id)).first()
            if target is None or target.session_id != me.session_id or target.deleted_at is not None:
                raise InputError("ce constat n'existe pas dans la séance.")
            try:
                with conn.begin_nested():
                    conn.execute(insert(votes).values(finding_id=finding_id, participant_id=me.id))
            except IntegrityError:
                raise InputError("vous avez déjà voté pour ce constat.") from None

    def unvote(self, who: Participant, finding_id: int) -> None:
        with self.engine.begin() as conn:
            me = self._caller(conn, who)
            conn.execute(votes.delete().where((votes.c.finding_id == finding_id) & (votes.c.participant_id == me.id)))

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

    def live_ranking(self, session_id: int) -> list[dict]:
        """The ranking as every open page refreshes it: read at most once per LIVE_MAX_AGE seconds
        for all the participants of a session together (30 pages every 2 s would otherwise read
        the same rows 15 times a second)."""
        with self._live_lock:
            at, rows = self._live.get(session_id, (0.0, None))
            if rows is None or time.monotonic() - at > LIVE_MAX_AGE:
                rows = self.ranking(session_id)
                self._live[session_id] = (time.monotonic(), rows)
        return rows

    def my_votes(self, who: Participant) -> set[int]:
        with self.reader.connect() as conn:
            return set(conn.execute(select(votes.c.finding_id).where(votes.c.participant_id == who.id)).scalars())

    # --- action sheets -------------------------------------------------------------------------

    def add_sheet(self, who: Participant, data: dict) -> int:
        clean = _sheet_data(data)
        with self.engine.begin() as conn:
            me = self._caller(conn, who)
            sheet_id = conn.execute(insert(sheets).values(session_id=me.session_id, data=clean, author=me.name,
                                                          organisation=me.organisation, participant_id=me.id)
                                    ).inserted_primary_key[0]
            conn.execute(insert(sheet_history).values(sheet_id=sheet_id, version=1, data=clean, author=me.name,
                                                      organisation=me.organisation))
        return sheet_id

    def update_sheet(self, who: Participant, sheet_id: int, expected_version: int, data: dict) -> int:
        """Save a new version if nobody saved since `expected_version`; else raise StaleEdit."""
        clean = _sheet_data(data)
        with self.engine.begin() as conn:
            me = self._caller(conn, who)
            _own_session(conn, sheets, sheet_id, me)
            _save_version(conn, sheets, sheet_id, expected_version, clean)
            conn.execute(insert(sheet_history).values(sheet_id=sheet_id, version=expected_version + 1, data=clean,
                                                      author=me.name, organisation=me.organisation))
        return expected_version + 1

    def sheets(self, session_id: int, include_deleted: bool = False) -> list[dict]:
        return self._items(sheets, session_id, include_deleted)

    def history(self, sheet_id: int) -> list[dict]:
        with self.reader.connect() as conn:
            return [dict(r) for r in conn.execute(select(sheet_history).where(sheet_history.c.sheet_id == sheet_id)
                                                  .order_by(sheet_history.c.version)).mappings()]

    def delete_sheet(self, who: Participant, sheet_id: int) -> None:
        self._soft_delete(sheets, who, sheet_id)

    def restore_sheet(self, who: Participant, sheet_id: int) -> None:
        self._soft_delete(sheets, who, sheet_id, restore=True)

    # --- stakeholders --------------------------------------------------------------------------

    def save_stakeholder(self, who: Participant, data: dict, stakeholder_id: int | None = None,
                         expected_version: int | None = None) -> int:
        clean = _stakeholder_data(data)
        with self.engine.begin() as conn:
            me = self._caller(conn, who)
            if stakeholder_id is None:
                return conn.execute(insert(stakeholders).values(
                    session_id=me.session_id, data=clean, author=me.name, organisation=me.organisation,
                    participant_id=me.id)).inserted_primary_key[0]
            _own_session(conn, stakeholders, stakeholder_id, me)
            _save_version(conn, stakeholders, stakeholder_id, expected_version, clean)
            return stakeholder_id

    def stakeholders(self, session_id: int, include_deleted: bool = False) -> list[dict]:
        return self._items(stakeholders, session_id, include_deleted)

    def delete_stakeholder(self, who: Participant, stakeholder_id: int) -> None:
        self._soft_delete(stakeholders, who, stakeholder_id)

    def restore_stakeholder(self, who: Participant, stakeholder_id: int) -> None:
        self._soft_delete(stakeholders, who, stakeholder_id, restore=True)

    # --- versioned items and soft deletion -----------------------------------------------------

    def _items(self, table, session_id: int, include_deleted: bool) -> list[dict]:
        """A session's action sheets or stakeholders, oldest first (removed ones when asked)."""
        query = select(table).where(table.c.session_id == session_id).order_by(table.c.id)
        if not include_deleted:
            query = query.where(table.c.deleted_at.is_(None))
        with self.reader.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def _soft_delete(self, table, who: Participant, row_id: int, restore: bool = False) -> None:
        """Remove (or restore) an item of the caller's session: its author or a facilitator only."""
        with self.engine.begin() as conn:
            me = self._caller(conn, who)
            row = _own_session(conn, table, row_id, me)
            if not me.facilitator and row.participant_id != me.id:
                raise InputError("seuls son auteur et l'animateur peuvent retirer ou restaurer cet élément.")
            values = {"deleted_at": None, "deleted_by": None} if restore else {"deleted_at": _now(),
                                                                                 "deleted_by": me.name}
            conn.execute(update(table).where(table.c.id == row_id).values(**values))


def _participant(row) -> Participant:
    return Participant(row["id"], row["session_id"], row["author"], row["organisation"], bool(row["facilitator"]),
                       row["token"])


def _own_session(conn, table, row_id: int, me: Participant):
    """The row, if it belongs to the caller's session (else a French refusal)."""
    row = conn.execute(select(table.c.session_id, table.c.participant_id).where(table.c.id == row_id)).first()
    if row is None or row.session_id != me.session_id:
        raise InputError("cet élément n'appartient pas à votre séance.")
    return row


def _save_version(conn, table, row_id: int, expected_version: int, data: dict) -> None:
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


def _text(value, label: str, limit: int, one_line: bool = True, required: bool = True) -> str:
    """A text typed by a participant: control characters removed, within its maximum length."""
    blank = value is None or (isinstance(value, float) and value != value)  # an empty table cell is NaN
    text = "" if blank else clean_text(str(value), one_line=one_line).strip()
    if required and not text:
        raise InputError(f"le champ « {label} » est vide.", field=label, fix="Remplissez-le avant d'enregistrer.")
    if len(text) > limit:
        raise InputError(f"le champ « {label} » dépasse {limit} caractères ({len(text)}).", field=label,
                         fix="Raccourcissez le texte.")
    return text


def _name(value) -> str:
    return _text(value, "nom", LIMITS["name"])


def _sheet_data(data: dict) -> dict:
    clean = {key: data.get(key, [] if key in ("indicators", "finding_ids") else "") for key in SHEET_FIELDS}
    for key in SHEET_FIELDS:
        if key not in ("indicators", "finding_ids", "status"):
            clean[key] = _text(clean[key], SHEET_LABELS[key], LIMITS["title"] if key == "title" else LIMITS["field"],
                               one_line=key == "title", required=key == "title")
    if clean["status"] not in SHEET_STATUSES:
        clean["status"] = "brouillon"
    clean["indicators"] = [{"indicateur": _text(i.get("indicateur"), "indicateur de suivi", 80, required=False),
                            "cible": _text(i.get("cible"), "valeur cible", LIMITS["short"], required=False)}
                           for i in (clean["indicators"] or [])[:30] if isinstance(i, dict)]
    clean["indicators"] = [i for i in clean["indicators"] if i["indicateur"] or i["cible"]]
    clean["finding_ids"] = [int(i) for i in (clean["finding_ids"] or [])][:200]
    json.dumps(clean)  # only plain values are stored
    return clean


def _stakeholder_data(data: dict) -> dict:
    clean = {key: data.get(key, "") for key in STAKEHOLDER_FIELDS}
    clean["name"] = _text(clean["name"], "partenaire", LIMITS["title"])
    for key, label in (("mission", "mission"), ("history", "historique"), ("role", "rôle")):
        clean[key] = _text(clean[key], label, LIMITS["field"], one_line=False, required=False)
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


def follow_up_text(indicators: list[dict], labels: dict[str, str]) -> str:
    """An action sheet's follow-up indicators in French: « Taux de pauvreté (cible : 12 %) ; … »."""
    parts = []
    for item in indicators or []:
        name = labels.get(item.get("indicateur") or "", item.get("indicateur") or "") or "Indicateur à préciser"
        parts.append(f"{name} (cible : {item['cible']})" if item.get("cible") else name)
    return " ; ".join(parts)


def all_sessions(store: Store, workspace: str | None = None) -> list[dict]:
    """Every session (of a workspace when given), oldest first."""
    query = select(sessions).order_by(sessions.c.id)
    if workspace is not None:
        query = query.where(sessions.c.workspace == str(workspace))
    with store.reader.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
