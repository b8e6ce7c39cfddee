"""The change log the sync feed reads: one row per change of something a phone may hold (field/core/sync.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Change(Base):
    """One entry of the change log the sync feed reads (field/core/sync.py).

    ``seq`` order is commit order: change rows are written at commit time by writers that
    are serialised (SQLite: every transaction is IMMEDIATE; PostgreSQL: a transaction-level
    advisory lock), so a reader never sees a later seq before an earlier one.
    """

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_jurisdiction_seq", "jurisdiction_id", "seq"),)

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=True)
    #: Feed name (unit, person, enterprise, monitoring_point, squad, …).
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    #: No foreign key: the log is written last in the transaction and read by range only.
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    #: Who may receive the entry beyond the office: None (everyone in scope), or a kind
    #: (``point``, ``squad``, ``user``) and the id it names (field/core/sync.py AUDIENCES).
    audience_kind: Mapped[str | None] = mapped_column(String(16))
    audience_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
