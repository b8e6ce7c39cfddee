"""The office's additions to the official working-day calendar: overrides and declared years."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
    """A year declared with its official schedule before the chinese-calendar release has it.

    Applies to its jurisdiction and everything below; where two levels declared the same
    year, the lower one's schedule wins as a whole (docs/calendar.md).
    """

    __tablename__ = "calendar_years"
    __table_args__ = (UniqueConstraint("jurisdiction_id", "year"),)

    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    #: Declared with no holidays at all, on purpose: Monday to Friday all year.
    weekends_only: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Where the schedule comes from (the State Council notice's number), as the admin gave it.
    source: Mapped[str] = mapped_column(String(200), default="")
    #: NULL: imported on the server with ``fieldwatch calendar import``.
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    days: Mapped[list[CalendarYearDay]] = relationship(
        lazy="selectin", order_by="CalendarYearDay.day", cascade="all, delete-orphan")

    @property
    def holidays(self) -> list[date]:
        return [d.day for d in self.days if not d.working]

    @property
    def makeup_workdays(self) -> list[date]:
        return [d.day for d in self.days if d.working]


class CalendarYearDay(Base):
    """One day of a declared year's schedule: a holiday, or a make-up working day (调休)."""

    __tablename__ = "calendar_year_days"

    calendar_year_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("calendar_years.id", ondelete="CASCADE"),
                                                        primary_key=True)
    #: One row per day: the key itself refuses a day that is both a holiday and a make-up day.
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    #: True: a make-up working day (a weekend worked); False: a holiday.
    working: Mapped[bool] = mapped_column(Boolean)
