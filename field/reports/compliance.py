"""Leaders' compliance with their points' visit frequency: calendar periods (a week, a month, a quarter in
the office's zone), and per point and period whether a counted visit took place."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Iterable

from sqlalchemy import Date, Integer, Select, String, case, cast, func, literal, select
from sqlalchemy.orm import Session

from field.core.errors import InvalidInput, NotAllowed
from field.core.models.base import utcnow
from field.core.models.platform import OFFICE_ROLES, Role, User
from field.core.models.records import ReviewState
from field.core.office import OFFICE_TZ, OFFICE_TZ_NAME, office_date
from field.core.pages import Page, paginate
from field.directory.models import MonitoringPoint, VisitFrequency
from field.directory.monitoring import visible_points

from .models import LeaderVisit
from .policy import POLICY


@dataclass(frozen=True, order=True)
class Period:
    """One calendar week, month or quarter: ``start`` to ``end``, both days included."""

    start: date
    end: date

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


def period_of(frequency: VisitFrequency, day: date) -> Period:
    frequency = VisitFrequency(frequency)
    if frequency is VisitFrequency.weekly:
        start = day - timedelta(days=day.weekday())
        return Period(start, start + timedelta(days=6))
    first_month = day.month if frequency is VisitFrequency.monthly else 3 * ((day.month - 1) // 3) + 1
    months = 1 if frequency is VisitFrequency.monthly else 3
    start = date(day.year, first_month, 1)
    after = date(start.year + (first_month + months - 1) // 12, (first_month + months - 1) % 12 + 1, 1)
    return Period(start, after - timedelta(days=1))


def periods_overlapping(frequency: VisitFrequency, first: date, last: date) -> list[Period]:
    """Every period of ``frequency`` with at least one day in ``first`` … ``last`` (none if last < first)."""
    out = []
    day = first
    while day <= last:
        period = period_of(frequency, day)
        out.append(period)
        day = period.end + timedelta(days=1)
    return out


_PERIOD_FORMS = (
    (re.compile(r"^(\d{4})$"), "year"),
    (re.compile(r"^(\d{4})-Q([1-4])$"), "quarter"),
    (re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"), "month"),
    (re.compile(r"^(\d{4})-W(\d{2})$"), "week"),
)


def parse_period(text: str) -> Period:
    """``2026`` | ``2026-Q2`` | ``2026-05`` | ``2026-W19`` (ISO week) → the days it spans."""
    text = (text or "").strip().upper()
    for pattern, form in _PERIOD_FORMS:
        m = pattern.match(text)
        if not m:
            continue
        year = int(m.group(1))
        if not 2000 <= year <= 2100:
            break
        if form == "year":
            return Period(date(year, 1, 1), date(year, 12, 31))
        if form == "quarter":
            return period_of(VisitFrequency.quarterly, date(year, 3 * int(m.group(2)) - 2, 1))
        if form == "month":
            return period_of(VisitFrequency.monthly, date(year, int(m.group(2)), 1))
        try:
            return period_of(VisitFrequency.weekly, date.fromisocalendar(year, int(m.group(2)), 1))
        except ValueError:
            break
    raise InvalidInput("period", "A year (2026), quarter (2026-Q2), month (2026-05) or ISO week (2026-W19), "
                                 "years 2000-2100.")


@dataclass(frozen=True)
class PeriodStatus:
    start: date
    end: date
    visited: bool


@dataclass
class Compliance:
    """One point's record against its visit obligation over ``range``."""

    point: MonitoringPoint
    range: Period
    periods_due: int = 0
    periods_visited: int = 0
    missed: list[Period] = field(default_factory=list)
    last_visit_at: datetime | None = None
    current_period: PeriodStatus | None = None
    last_completed_period: PeriodStatus | None = None

    @property
    def point_id(self) -> uuid.UUID:
        return self.point.id

    @property
    def leader(self) -> User | None:
        return self.point.leader

    @property
    def obligation(self) -> VisitFrequency:
        return self.point.visit_frequency

    @property
    def periods_missed(self) -> int:
        return len(self.missed)

    @property
    def behind(self) -> bool:
        return any(p is not None and not p.visited for p in (self.current_period, self.last_completed_period))


def _active_span(point: MonitoringPoint, today: date) -> tuple[date, date]:
    """The days the point owes visits for, up to today (empty when it starts later)."""
    last = min(point.active_to, today) if point.active_to is not None else today
    return point.active_from, last


def _local_start_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=OFFICE_TZ)


def _period_start_sql(session: Session):
    """SQL: the start date of the period (per the point's frequency) holding a visit's local date."""
    if session.get_bind().dialect.name == "postgresql":
        local = func.timezone(OFFICE_TZ_NAME, LeaderVisit.visited_at)

        def trunc(unit):
            return cast(func.date_trunc(unit, local), Date)

        week, month, quarter = trunc("week"), trunc("month"), trunc("quarter")
    else:
        local = func.date(LeaderVisit.visited_at, "+8 hours")  # stored as naive UTC text
        week = func.date(local, "-6 days", "weekday 1")  # the Monday on or before
        month = func.date(local, "start of month")
        back = (cast(func.strftime("%m", local), Integer) - 1) % 3
        quarter = func.date(local, "start of month", literal("-", String) + cast(back, String) + " months")
    return case((MonitoringPoint.visit_frequency == VisitFrequency.weekly.value, week),
                (MonitoringPoint.visit_frequency == VisitFrequency.monthly.value, month),
                else_=quarter)


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _counted(stmt: Select) -> Select:
    return stmt.join(MonitoringPoint, MonitoringPoint.id == LeaderVisit.point_id).where(
        LeaderVisit.review_state != ReviewState.rejected)


def _assess(point: MonitoringPoint, wanted: Period, today: date, visited: set[date],
            last_visit_at: datetime | None) -> Compliance:
    result = Compliance(point=point, range=wanted, last_visit_at=last_visit_at)
    first, last = _active_span(point, today)
    for period in periods_overlapping(point.visit_frequency, max(first, wanted.start), min(last, wanted.end)):
        result.periods_due += 1
        if period.start in visited:
            result.periods_visited += 1
        elif period.end < today:
            result.missed.append(period)
    current = period_of(point.visit_frequency, today)
    if first <= today and (point.active_to is None or point.active_to >= current.start):
        result.current_period = PeriodStatus(current.start, current.end, current.start in visited)
    before = period_of(point.visit_frequency, current.start - timedelta(days=1))
    if first <= before.end and (point.active_to is None or point.active_to >= before.start):
        result.last_completed_period = PeriodStatus(before.start, before.end, before.start in visited)
    return result


def compliance_query(user: User, *, leader_id: uuid.UUID | None = None) -> Select:
    """The points with a visit obligation that ``user`` may report on."""
    if user.role not in OFFICE_ROLES | {Role.leader}:
        raise NotAllowed("Visit compliance is for the office and the leaders.")
    stmt = select(MonitoringPoint).where(visible_points(user), MonitoringPoint.leader_id.is_not(None),
                                         MonitoringPoint.visit_frequency.is_not(None))
    if user.role is Role.leader:
        stmt = stmt.where(MonitoringPoint.leader_id == user.id)
    if leader_id is not None:
        stmt = stmt.where(MonitoringPoint.leader_id == leader_id)
    return stmt


def assess(session: Session, points: Iterable[MonitoringPoint], wanted: Period, today: date) -> list[Compliance]:
    """Each point's compliance over ``wanted``, as of ``today`` (two grouped queries for all the points)."""
    points = list(points)
    if not points:
        return []
    # The window of visit dates that matter: the periods of the range and the two before today.
    window_start = min(min(period_of(p.visit_frequency, wanted.start).start,
                           period_of(p.visit_frequency, period_of(p.visit_frequency, today).start
                                     - timedelta(days=1)).start) for p in points)
    window_end = max(max(period_of(p.visit_frequency, wanted.end).end, period_of(p.visit_frequency, today).end)
                     for p in points)
    ids = [p.id for p in points]
    period_start = _period_start_sql(session).label("period_start")
    rows = session.execute(_counted(
        select(LeaderVisit.point_id, period_start, func.count(LeaderVisit.id)))
        .where(LeaderVisit.point_id.in_(ids),
               LeaderVisit.visited_at >= _local_start_utc(window_start),
               LeaderVisit.visited_at < _local_start_utc(window_end + timedelta(days=1)))
        .group_by(LeaderVisit.point_id, period_start)).all()
    visited: dict[uuid.UUID, set[date]] = {}
    for point_id, start, _count in rows:
        visited.setdefault(point_id, set()).add(_as_date(start))
    last = dict(session.execute(_counted(select(LeaderVisit.point_id, func.max(LeaderVisit.visited_at)))
                                .where(LeaderVisit.point_id.in_(ids)).group_by(LeaderVisit.point_id)).all())
    return [_assess(p, wanted, today, visited.get(p.id, set()), last.get(p.id)) for p in points]


def compliance_page(session: Session, user: User, period: str | None, *, leader_id: uuid.UUID | None = None,
                    today: date | None = None, cursor: str | None = None, limit: int = 50) -> Page[Compliance]:
    """A page of points with their compliance over ``period`` (default: the current year)."""
    POLICY.require(user, "compliance")
    today = today or office_date(utcnow())
    wanted = parse_period(period) if period else Period(date(today.year, 1, 1), date(today.year, 12, 31))
    stmt = compliance_query(user, leader_id=leader_id)
    page = paginate(session, stmt, [MonitoringPoint.created_at, MonitoringPoint.id], cursor=cursor, limit=limit)
    return Page(assess(session, page.items, wanted, today), page.next_cursor)
