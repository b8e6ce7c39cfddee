"""The working-day calendar of a jurisdiction: the official one plus the office's overrides.

Overrides entered for a jurisdiction apply to it and everything below it (a city's
local holiday holds in its districts); when two levels disagree about a day, the
lower level wins, being the more specific.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .errors import Conflict, InvalidInput, NotAllowed
from .models.calendar import CalendarOverride, CalendarYear
from .models.platform import Jurisdiction, Role, User
from .scope import get_one, in_scope
from .workdays import LIBRARY_YEARS, CalendarNotCovered, WorkCalendar

__all__ = ["calendar_for", "CalendarNotCovered", "add_override", "remove_override", "declare_year",
           "overrides_query", "LIBRARY_YEARS"]


def _ancestor_ids(session: Session, jurisdiction: Jurisdiction) -> list[uuid.UUID]:
    """The jurisdiction and those above it, from the top down (its path holds their codes)."""
    codes = [c for c in jurisdiction.path.strip("/").split("/") if c]
    rows = dict(session.execute(select(Jurisdiction.code, Jurisdiction.id).where(Jurisdiction.code.in_(codes))).all())
    return [rows[c] for c in codes if c in rows]


def calendar_for(session: Session, jurisdiction: Jurisdiction) -> WorkCalendar:
    chain = _ancestor_ids(session, jurisdiction)
    depth = {jid: i for i, jid in enumerate(chain)}
    overrides: dict[dt.date, tuple[int, bool]] = {}
    for o in session.execute(select(CalendarOverride).where(CalendarOverride.jurisdiction_id.in_(chain))).scalars():
        level = depth[o.jurisdiction_id]
        if o.day not in overrides or overrides[o.day][0] < level:
            overrides[o.day] = (level, o.working)
    years = set(session.execute(select(CalendarYear.year).where(CalendarYear.jurisdiction_id.in_(chain))).scalars())
    return WorkCalendar({d: w for d, (_, w) in overrides.items()}, covered_years_extra=years)


def _require_admin(actor: User) -> None:
    if actor.role is not Role.admin:
        raise NotAllowed("Only an admin changes the calendar.")


def add_override(session: Session, actor: User, *, day: dt.date, working: bool, note: str = "",
                 jurisdiction: Jurisdiction | None = None) -> CalendarOverride:
    _require_admin(actor)
    jurisdiction = jurisdiction or actor.jurisdiction
    override = CalendarOverride(jurisdiction_id=jurisdiction.id, day=day, working=working,
                                note=note.strip(), created_by_id=actor.id)
    try:
        with session.begin_nested():
            session.add(override)
    except IntegrityError:
        raise Conflict(f"{day.isoformat()} already has an override here; remove it first.") from None
    return override


def remove_override(session: Session, actor: User, override_id: uuid.UUID) -> None:
    _require_admin(actor)
    override = get_one(session, CalendarOverride, override_id, "calendar override",
                       in_scope(CalendarOverride.jurisdiction_id, actor))
    session.delete(override)
    session.flush()


def declare_year(session: Session, actor: User, year: int) -> CalendarYear:
    """Declare ``year`` covered: its holidays must have been entered as overrides first."""
    _require_admin(actor)
    if year in LIBRARY_YEARS:
        raise InvalidInput("year", f"{year} is in the official calendar already.")
    row = CalendarYear(jurisdiction_id=actor.jurisdiction_id, year=year, created_by_id=actor.id)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict(f"{year} is declared already.") from None
    return row


def overrides_query(actor: User):
    """Overrides that apply to the caller: those of their jurisdiction, below it, and above it."""
    stmt = select(CalendarOverride)
    codes = [c for c in actor.jurisdiction.path.strip("/").split("/") if c]
    above = select(Jurisdiction.id).where(Jurisdiction.code.in_(codes))
    from sqlalchemy import or_
    return stmt.where(or_(in_scope(CalendarOverride.jurisdiction_id, actor),
                          CalendarOverride.jurisdiction_id.in_(above)))
