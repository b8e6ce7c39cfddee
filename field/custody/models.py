"""The custody log: append-only, one hash chain per jurisdiction."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DDL, JSON, BigInteger, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from field.core.models.base import Base


class CustodyChain(Base):
    """The head of one jurisdiction's chain; its row is locked while an entry is appended."""

    __tablename__ = "custody_chains"

    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdictions.id"), primary_key=True)
    head_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    head_hash: Mapped[str] = mapped_column(String(64))


class CustodyEntry(Base):
    """One event: evidence received, verified, derived, attached, viewed, downloaded, exported;
    a field record created, amended, reviewed; an identity unmasked."""

    __tablename__ = "custody_entries"
    __table_args__ = (Index("ix_custody_entries_subject", "subject_type", "subject_id"),)

    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdictions.id"), primary_key=True)
    #: Position in the jurisdiction's chain, from 1 without gaps: a gap is a deleted entry.
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime]
    #: What happened: ``evidence.received``, ``record.created``, ``case.closed`` …
    kind: Mapped[str] = mapped_column(String(48))
    #: What it happened to: ``blob`` (subject_id is the SHA-256), ``finding``, ``case`` …
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[uuid.UUID | None]
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    #: SHA-256 over the canonical form of every column above (field/custody/chain.py).
    hash: Mapped[str] = mapped_column(String(64))


class CustodyCheckpoint(Base):
    """A signed checkpoint: the head (seq, hash) of every chain at one moment, as a C2SP signed note.

    The copy that matters is the one kept outside the database (printed, handed over, filed):
    whoever can rewrite the database can rewrite this table too. field/custody/checkpoints.py.
    """

    __tablename__ = "custody_checkpoints"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    made_at: Mapped[datetime] = mapped_column(index=True)
    #: Name of the signing key (the log's origin) and the 4-byte key id, in hex.
    key_name: Mapped[str] = mapped_column(String(128))
    key_id: Mapped[str] = mapped_column(String(8))
    #: How many chains the note lists.
    chains: Mapped[int] = mapped_column(Integer)
    #: The signed note exactly as written out (UTF-8 text, signature lines included).
    note: Mapped[str] = mapped_column(Text)


def _append_only(table: str, said: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The triggers by which the database itself refuses to change or remove ``table``'s rows (``said``: how
    the refusal names it), for PostgreSQL and SQLite, and the statements that drop them."""
    create = {
        "postgresql": [
            f"""CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION '{said} (% refused)', TG_OP; END;
           $$ LANGUAGE plpgsql""",
            f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
           ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()""",
        ],
        "sqlite": [
            f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
           BEGIN SELECT RAISE(ABORT, '{said} (UPDATE refused)'); END""",
            f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
           BEGIN SELECT RAISE(ABORT, '{said} (DELETE refused)'); END""",
        ],
    }
    drop = {
        "postgresql": [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
                       f"DROP FUNCTION IF EXISTS {table}_append_only()"],
        "sqlite": [f"DROP TRIGGER IF EXISTS {table}_no_update", f"DROP TRIGGER IF EXISTS {table}_no_delete"],
    }
    return create, drop


#: The database itself refuses to change or remove a logged entry, whatever the application does.
APPEND_ONLY_DDL, DROP_APPEND_ONLY_DDL = _append_only("custody_entries", "the custody log is append-only")
#: Checkpoints too are written once.
CHECKPOINTS_APPEND_ONLY_DDL, DROP_CHECKPOINTS_APPEND_ONLY_DDL = _append_only(
    "custody_checkpoints", "custody checkpoints are append-only")

for _table, _ddl in ((CustodyEntry.__table__, APPEND_ONLY_DDL),
                     (CustodyCheckpoint.__table__, CHECKPOINTS_APPEND_ONLY_DDL)):
    for _dialect, _statements in _ddl.items():
        for _sql in _statements:
            # DDL() formats with %, so a literal % is written %%.
            event.listen(_table, "after_create", DDL(_sql.replace("%", "%%")).execute_if(dialect=_dialect))
