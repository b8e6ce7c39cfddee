"""The custody log: append-only, one hash chain per jurisdiction."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DDL, JSON, BigInteger, ForeignKey, Index, String, event
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


#: The database itself refuses to change or remove a logged entry, whatever the application does.
APPEND_ONLY_DDL = {
    "postgresql": [
        """CREATE OR REPLACE FUNCTION custody_entries_append_only() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION 'the custody log is append-only (% refused)', TG_OP; END;
           $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER custody_entries_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
           ON custody_entries FOR EACH STATEMENT EXECUTE FUNCTION custody_entries_append_only()""",
    ],
    "sqlite": [
        """CREATE TRIGGER custody_entries_no_update BEFORE UPDATE ON custody_entries
           BEGIN SELECT RAISE(ABORT, 'the custody log is append-only (UPDATE refused)'); END""",
        """CREATE TRIGGER custody_entries_no_delete BEFORE DELETE ON custody_entries
           BEGIN SELECT RAISE(ABORT, 'the custody log is append-only (DELETE refused)'); END""",
    ],
}

DROP_APPEND_ONLY_DDL = {
    "postgresql": ["DROP TRIGGER IF EXISTS custody_entries_append_only ON custody_entries",
                   "DROP FUNCTION IF EXISTS custody_entries_append_only()"],
    "sqlite": ["DROP TRIGGER IF EXISTS custody_entries_no_update",
               "DROP TRIGGER IF EXISTS custody_entries_no_delete"],
}

for _dialect, _statements in APPEND_ONLY_DDL.items():
    for _sql in _statements:
        # DDL() formats with %, so a literal % is written %%.
        event.listen(CustodyEntry.__table__, "after_create",
                     DDL(_sql.replace("%", "%%")).execute_if(dialect=_dialect))
