"""The tables of the sessions' database and their upgrades (created and migrated by the code)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (JSON, Boolean, Column, Date, DateTime, ForeignKey, Integer, MetaData, String, Table, Text,
                        UniqueConstraint, func, insert, inspect, select, text)
from sqlalchemy.engine import Engine

SCHEMA_VERSION = 2
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
    Column("closed", Boolean, nullable=False, default=False),
    Column("workspace", String(500), nullable=False, default=""), *_authored())
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
def _versioned() -> list[Column]:
    """An item edited by several people: its session, version, data, author and soft deletion."""
    return [Column("id", Integer, primary_key=True),
            Column("session_id", ForeignKey("sessions.id"), nullable=False, index=True),
            Column("version", Integer, nullable=False, default=1), Column("data", JSON, nullable=False), *_authored(),
            Column("participant_id", ForeignKey("participants.id")),
            Column("updated_at", DateTime), Column("deleted_at", DateTime), Column("deleted_by", String(120))]


sheets = Table("action_sheets", metadata, *_versioned())
sheet_history = Table(
    "action_sheet_history", metadata, Column("id", Integer, primary_key=True),
    Column("sheet_id", ForeignKey("action_sheets.id"), nullable=False, index=True),
    Column("version", Integer, nullable=False), Column("data", JSON, nullable=False), *_authored())
stakeholders = Table("stakeholders", metadata, *_versioned())
join_attempts = Table(
    "join_attempts", metadata, Column("id", Integer, primary_key=True),
    Column("client", String(120), nullable=False, index=True), Column("network", String(120), nullable=False, index=True),
    Column("code", String(16), nullable=False, index=True),
    Column("at", DateTime, nullable=False, default=_now))
# columns added after version 1, for databases created before them
ADDED_COLUMNS = {"sessions": [("workspace", "VARCHAR(500) NOT NULL DEFAULT ''")],
                 "action_sheets": [("participant_id", "INTEGER")], "stakeholders": [("participant_id", "INTEGER")]}


def migrate(engine: Engine) -> None:
    """Create missing tables, add the columns of later versions, record the schema version."""
    metadata.create_all(engine)
    with engine.begin() as conn:
        existing = inspect(conn)
        for table, columns in ADDED_COLUMNS.items():
            present = {c["name"] for c in existing.get_columns(table)}
            for name, ddl in columns:
                if name not in present:
                    conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}"))
        current = conn.execute(select(func.max(schema_version.c.version))).scalar()
        if current is None or current < SCHEMA_VERSION:
            conn.execute(insert(schema_version).values(version=SCHEMA_VERSION))



