"""The working-day calendar of a jurisdiction: the official one, declared years and the office's overrides.

Overrides and declared years entered for a jurisdiction apply to it and everything below
it (a city's local holiday holds in its districts, and so does the schedule of 2027 that a
city declared); when two levels disagree, the lower level wins, being the more specific:
for an override, that day; for a declared year, its whole schedule (docs/calendar.md).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .errors import Conflict, NotAllowed
from .models.calendar import CalendarOverride, CalendarYear
from .pages import keyed
from .models.platform import Jurisdiction, Role, User
from .scope import get_one, in_scope
from .workdays import LIBRARY_YEARS, WorkCalendar, YearSchedule

__all__ = ["calendar_for", "add_override", "remove_override", "overrides_query", "declared_on_chain",
           "schedule_of", "ancestor_ids", "LIBRARY_YEARS"]


def ancestor_ids(session: Session, jurisdiction: Jurisdiction) -> list[uuid.UUID]:
    """The jurisdiction and those above it, from the top down (its path holds their codes)."""
    codes = [c for c in jurisdiction.path.strip("/").split("/") if c]
    rows = dict(session.execute(select(Jurisdiction.code, Jurisdiction.id).where(Jurisdiction.code.in_(codes))).all())
    return [rows[c] for c in codes if c in rows]


def declared_on_chain(session: Session, chain: list[uuid.UUID]) -> dict[int, CalendarYear]:
    """Per year, the declaration that applies at the end of ``chain`` (top-down ids): the lowest one."""
    depth = {jid: i for i, jid in enumerate(chain)}
    best: dict[int, CalendarYear] = {}
    for row in session.execute(select(CalendarYear).where(CalendarYear.jurisdiction_id.in_(chain))).scalars():
        if row.year not in best or depth[best[row.year].jurisdiction_id] < depth[row.jurisdiction_id]:
            best[row.year] = row
    return best


def schedule_of(row: CalendarYear) -> YearSchedule:
    return YearSchedule(row.year, frozenset(row.holidays), frozenset(row.makeup_workdays), row.weekends_only)


def calendar_for(session: Session, jurisdiction: Jurisdiction) -> WorkCalendar:
    chain = ancestor_ids(session, jurisdiction)
    depth = {jid: i for i, jid in enumerate(chain)}
    overrides: dict[dt.date, tuple[int, bool]] = {}
    for o in session.execute(select(CalendarOverride).where(CalendarOverride.jurisdiction_id.in_(chain))).scalars():
        level = depth[o.jurisdiction_id]
        if o.day not in overrides or overrides[o.day][0] < level:
            overrides[o.day] = (level, o.working)
    # A year the installed chinese-calendar knows is the library's: what was declared by hand
    # for it no longer counts (kept in the table, shown as superseded).
    schedules = [schedule_of(row) for year, row in declared_on_chain(session, chain).items()
                 if year not in LIBRARY_YEARS]
    return WorkCalendar({d: w for d, (_, w) in overrides.items()}, schedules)


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


@keyed(CalendarOverride.day, CalendarOverride.id)
def overrides_query(actor: User):
    """Overrides that apply to the caller: those of their jurisdiction, below it, and above it."""
    stmt = select(CalendarOverride)
    codes = [c for c in actor.jurisdiction.path.strip("/").split("/") if c]
    above = select(Jurisdiction.id).where(Jurisdiction.code.in_(codes))
    return stmt.where(or_(in_scope(CalendarOverride.jurisdiction_id, actor),
                          CalendarOverride.jurisdiction_id.in_(above)))
