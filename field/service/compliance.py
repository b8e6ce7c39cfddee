"""Serving officials against their visit obligation: per assignment and period, whether the visits owed were made.

Rule. An assignment (an official serving a project or an enterprise in a role, from ``starts_on`` to
``ends_on``) owes, in every calendar week (Monday to Sunday) or month of its role's obligation
(field/service/obligations.py) that overlaps its span, at least ``visits`` service visits by its official to its
target (to the project; for an enterprise, to the enterprise or a project of it), in the office's time zone. A
period that holds ``starts_on`` owes the full number even when the assignment began in the middle of it, as a
monitoring point's leader owes the visit of the month it was designated in. A rejected visit does not count;
any other does, whatever its flags and review state. For an asked range (a year, quarter, month or ISO week,
the forms of the leader-visit report) each assignment gives:

- ``periods_due``: the periods that overlap the range and the assignment's span and have begun by today;
- ``periods_met``: those with at least ``visits`` visits (anywhere in the period: the period is the unit);
- ``periods_missed``: those that have ended short, listed in ``missed`` with the count made;
- ``current_period`` / ``last_completed_period`` (relative to today) with their counts, and ``behind`` when
  either is short.

Computed in the database: one ``GROUP BY assignment, period start`` over the visits of the page's assignments
(the period's start computed by SQL per the assignment's unit: ``date_trunc`` on PostgreSQL, ``date()``
modifiers on SQLite), and one ``max(visited_at)`` per assignment. In Python: the periods each assignment owes
(calendar arithmetic, no rows read) compared with the counts. Campaign figures (``campaign_figures``) add the
same per campaign over the assignments of the scope: periods due, met, missed, and the compliance rate
met / (met + missed): a current period still short is not counted against anyone yet.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Iterable

from sqlalchemy import Date, Select, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from field.core.models.base import utcnow
from field.core.models.platform import OFFICE_ROLES, User
from field.core.models.records import ReviewState
from field.core.office import office_date
from field.core.pages import Page, paginate
from field.core.scope import in_scope
from field.directory.models import VisitFrequency
from field.core.office import OFFICE_TZ
from field.reports.compliance import Period, parse_period, period_of, periods_overlapping

from .models import Campaign, ObligationPeriod, ServiceAssignment, ServiceVisit
from .obligations import Obligation, effective

_FREQUENCY = {ObligationPeriod.week: VisitFrequency.weekly, ObligationPeriod.month: VisitFrequency.monthly}


@dataclass(frozen=True)
class PeriodCount:
    start: date
    end: date
    visits: int
    met: bool


@dataclass
class ServiceCompliance:
    """One assignment's record against its obligation over ``range``."""

    assignment: ServiceAssignment
    obligation: Obligation
    range: Period
    periods_due: int = 0
    periods_met: int = 0
    missed: list[PeriodCount] = field(default_factory=list)
    visits: int = 0
    last_visit_at: datetime | None = None
    current_period: PeriodCount | None = None
    last_completed_period: PeriodCount | None = None

    @property
    def periods_missed(self) -> int:
        return len(self.missed)

    @property
    def behind(self) -> bool:
        return any(p is not None and not p.met for p in (self.current_period, self.last_completed_period))


def _period_starts_sql(session: Session):
    """SQL: the Monday and the first of the month on or before a visit's local date."""
    if session.get_bind().dialect.name == "postgresql":
        local = func.timezone("Asia/Shanghai", ServiceVisit.visited_at)
        return cast(func.date_trunc("week", local), Date), cast(func.date_trunc("month", local), Date)
    local = func.date(ServiceVisit.visited_at, "+8 hours")  # stored as naive UTC text
    return func.date(local, "-6 days", "weekday 1"), func.date(local, "start of month")


def _local_start_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=OFFICE_TZ)


def _as_date(value) -> date:
    """A period start as the database gives it: a date (PostgreSQL) or ISO text (SQLite)."""
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def _span(a: ServiceAssignment, today: date) -> tuple[date, date]:
    return a.starts_on, min(a.ends_on, today) if a.ends_on is not None else today


def _status(period: Period, counts: dict[date, int], needed: int) -> PeriodCount:
    made = counts.get(period.start, 0)
    return PeriodCount(period.start, period.end, made, made >= needed)


def _judge(a: ServiceAssignment, ob: Obligation, wanted: Period, today: date, counts: dict[date, int],
           last: datetime | None) -> ServiceCompliance:
    frequency = _FREQUENCY[ob.per]
    result = ServiceCompliance(assignment=a, obligation=ob, range=wanted, last_visit_at=last)
    first, final = _span(a, today)
    for period in periods_overlapping(frequency, max(first, wanted.start), min(final, wanted.end)):
        status = _status(period, counts, ob.visits)
        result.periods_due += 1
        result.visits += status.visits
        if status.met:
            result.periods_met += 1
        elif period.end < today:
            result.missed.append(status)
    current = period_of(frequency, today)
    if first <= today and (a.ends_on is None or a.ends_on >= current.start):
        result.current_period = _status(current, counts, ob.visits)
    before = period_of(frequency, current.start - timedelta(days=1))
    if first <= before.end and (a.ends_on is None or a.ends_on >= before.start):
        result.last_completed_period = _status(before, counts, ob.visits)
    return result


def _visits_of_assignment():
    """Join condition: a visit of the assignment's official to its target."""
    return and_(ServiceVisit.official_id == ServiceAssignment.official_id, or_(
        and_(ServiceAssignment.project_id.is_not(None), ServiceVisit.project_id == ServiceAssignment.project_id),
        and_(ServiceAssignment.enterprise_id.is_not(None),
             ServiceVisit.enterprise_id == ServiceAssignment.enterprise_id)))


def assess(session: Session, assignments: Iterable[ServiceAssignment], wanted: Period,
           today: date) -> list[ServiceCompliance]:
    """Each assignment's compliance over ``wanted`` as of ``today`` (two grouped queries for all of them)."""
    assignments = list(assignments)
    if not assignments:
        return []
    obligations = effective(session, {a.jurisdiction_id for a in assignments})
    ob = {a.id: obligations[(a.jurisdiction_id, a.role)] for a in assignments}
    # The visit dates that matter: the periods of the range and the two up to today, in either unit.
    bounds = [period_of(f, d) for f in _FREQUENCY.values()
              for d in (wanted.start, wanted.end, today, period_of(f, today).start - timedelta(days=1))]
    window_start, window_end = min(p.start for p in bounds), max(p.end for p in bounds)
    ids = [a.id for a in assignments]
    weekly = [a.id for a in assignments if ob[a.id].per is ObligationPeriod.week]
    week, month = _period_starts_sql(session)
    start = (case((ServiceAssignment.id.in_(weekly), week), else_=month) if weekly else month).label("start")
    joined = (select(ServiceAssignment.id, start, func.count(ServiceVisit.id))
              .join(ServiceVisit, _visits_of_assignment())
              .where(ServiceAssignment.id.in_(ids), ServiceVisit.review_state != ReviewState.rejected,
                     ServiceVisit.visited_at >= _local_start_utc(window_start),
                     ServiceVisit.visited_at < _local_start_utc(window_end + timedelta(days=1)))
              .group_by(ServiceAssignment.id, start))
    counts: dict[uuid.UUID, dict[date, int]] = {}
    for assignment_id, period_start, count in session.execute(joined).all():
        counts.setdefault(assignment_id, {})[_as_date(period_start)] = count
    last = dict(session.execute(
        select(ServiceAssignment.id, func.max(ServiceVisit.visited_at)).join(ServiceVisit, _visits_of_assignment())
        .where(ServiceAssignment.id.in_(ids), ServiceVisit.review_state != ReviewState.rejected)
        .group_by(ServiceAssignment.id)).all())
    return [_judge(a, ob[a.id], wanted, today, counts.get(a.id, {}), last.get(a.id)) for a in assignments]


def compliance_query(user: User, *, official_id: uuid.UUID | None = None,
                     campaign: Campaign | None = None) -> Select:
    """The assignments ``user`` may report on: office staff their scope's, anyone else their own."""
    stmt = select(ServiceAssignment).where(in_scope(ServiceAssignment.jurisdiction_id, user))
    if user.role not in OFFICE_ROLES:
        stmt = stmt.where(ServiceAssignment.official_id == user.id)
    if official_id is not None:
        stmt = stmt.where(ServiceAssignment.official_id == official_id)
    if campaign is not None:
        stmt = stmt.where(ServiceAssignment.campaign == Campaign(campaign))
    return stmt


def compliance_page(session: Session, user: User, period: str | None, *, official_id: uuid.UUID | None = None,
                    campaign: Campaign | None = None, today: date | None = None, cursor: str | None = None,
                    limit: int = 50) -> Page[ServiceCompliance]:
    """A page of assignments with their compliance over ``period`` (default: the current year)."""
    today = today or office_date(utcnow())
    wanted = parse_period(period) if period else Period(date(today.year, 1, 1), date(today.year, 12, 31))
    stmt = compliance_query(user, official_id=official_id, campaign=campaign)
    page = paginate(session, stmt, [ServiceAssignment.starts_on, ServiceAssignment.id], cursor=cursor, limit=limit)
    return Page(assess(session, page.items, wanted, today), page.next_cursor)


def campaign_figures(session: Session, user: User, *, start: date, end: date, today: date) -> dict[str, dict]:
    """Per campaign (and ``all``): visit periods due, met and missed over ``start`` … ``end``, and the rate."""
    stmt = compliance_query(user).where(ServiceAssignment.starts_on <= end, or_(
        ServiceAssignment.ends_on.is_(None), ServiceAssignment.ends_on >= start))
    sums: dict[str, list[int]] = {"all": [0, 0, 0]}
    for c in assess(session, session.execute(stmt).scalars(), Period(start, end), today):
        for key in ("all", Campaign(c.assignment.campaign).value):
            row = sums.setdefault(key, [0, 0, 0])
            row[0] += c.periods_due
            row[1] += c.periods_met
            row[2] += c.periods_missed
    return {key: {"visit_periods_due": due, "visit_periods_met": met, "visit_periods_missed": missed,
                  "visit_compliance": round(met / (met + missed), 4) if met + missed else None}
            for key, (due, met, missed) in sums.items()}
