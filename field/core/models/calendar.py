"""The office's own additions to the official working-day calendar."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, IdMixin, TimestampMixin


class CalendarOverride(IdMixin, TimestampMixin, Base):
    """A local holiday or an extra working day; it applies to its jurisdiction and all below."""

    __tablename__ = "calendar_overrides"
    __table_args__ = (UniqueConstraint("jurisdiction_id", "day"),)

    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    #: True: a working day (e.g. a make-up day); False: a day off (local holiday, closure).
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))


class CalendarYear(IdMixin, TimestampMixin, Base):
    """A year the admin declares covered although the official table does not have it yet."""

    __tablename__ = "calendar_years"
    __table_args__ = (UniqueConstraint("jurisdiction_id", "year"),)

    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
