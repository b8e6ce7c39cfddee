"""Leader visits (挂包领导走访) to monitoring points, and who is behind on their visit obligation.

Design
======

Model. ``LeaderVisit`` (field/models/reports.py) is a field record of kind
``leader_visit``: ``point_id``, ``enterprise_id`` (the point's), ``visited_at`` (when the
visit took place), ``notes``, and on the envelope the location (required: it is the
evidence of the visit) with its accuracy. ``distance_m`` is the great-circle distance to
the enterprise's stored location; a visit further than ``far_m`` beyond its own accuracy
(``FAR_FROM_TARGET_M``, 300 m by default: the threshold of inspection check-ins) is
flagged ``far_from_target``, not refused: the reviewer decides.

Only the point's current leader logs a visit (any other point, or a point that is not
visible to them, is a 422 on ``point_id``), and only within the point's active span
(``active_from`` … ``active_to``, local dates) and not later than the server's clock
allows (``visited_at`` more than a day ahead is refused). Submission goes through
``field.records.submit`` (one row per UUID, 409 for another body); the answer to
needs_info is an amendment (``amend_visit``).

Visibility: office staff see every visit in their jurisdiction subtree; a leader sees the
visits to the points they lead now (their predecessors' too) and the visits they logged.
Nobody else sees any (404; the list is 403).

Obligation rule. A point with a leader has a ``visit_frequency``: weekly, monthly or
quarterly, meaning at least one visit per calendar week (Monday–Sunday), calendar month,
or calendar quarter (Jan–Mar, Apr–Jun, Jul–Sep, Oct–Dec), in the office's local time
(China Standard Time, UTC+8). A period owes a visit when the point was active on at
least one of its days (so the period holding ``active_from`` owes one even when the
designation started mid-period). For an asked range (``period=``: a year ``2026``, a
quarter ``2026-Q2``, a month ``2026-05`` or an ISO week ``2026-W19``), the report gives
per point:

- ``periods_due``: the periods that overlap the range and the active span and have
  begun by today;
- ``periods_visited``: those of them with at least one visit (anywhere in the period,
  even outside the range: the period is the unit of the obligation);
- ``periods_missed``: those that have ended without a visit, listed in ``missed``;
  ``periods_due`` − ``visited`` − ``missed`` is 1 when the current period is still open
  without a visit, else 0;
- ``last_visit_at``: the latest visit to the point ever;
- ``current_period`` and ``last_completed_period`` (relative to today, whatever the range)
  with whether each has a visit, and ``behind``: true when either of them owes a visit
  and has none. So at the start of each period everyone who has not visited yet is
  behind: the office sees who still has to go; ``last_completed_period`` says who missed.

A visit counts whatever its flags and review state, except a rejected one. The counts
are per point, whoever the leader was: the directory keeps no history of assignments.

Computed in the database: one ``GROUP BY point, period`` over the page's points' visits
in the window that matters (the range and the last two periods before today), with the
period's start computed by SQL for the point's frequency (``date_trunc`` on PostgreSQL,
``date()`` modifiers on SQLite), and one ``max(visited_at)`` per point. Computed in
Python: the list of periods each point owes (calendar arithmetic over at most a year of
periods per point, no rows read) and its comparison with the visited periods.

Endpoints (api/leader_visits.py): ``POST/GET /api/v1/leader-visits``,
``GET/PUT /api/v1/leader-visits/<id>``, ``GET /api/v1/leader-compliance?period=``
(office staff: every point with a leader in scope; a leader: their own points).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable

from shapely.geometry import Point
from sqlalchemy import ColumnElement, Date, Integer, Select, String, case, cast, false, func, literal, or_, select
from sqlalchemy.orm import Session

from field.core import geo
from field.records import lifecycle as records
from field.core.errors import InvalidInput, NotAllowed
from field.core.locations import GivenLocation
from field.core.models.platform import OFFICE_ROLES, Role, User
from field.core.models.records import ReviewState
from field.core.models.base import utcnow
from field.directory.models import MonitoringPoint, VisitFrequency
from .models import LeaderVisit
from field.directory.monitoring import visible_points
from field.core.pages import Page, paginate
from field.records.lifecycle import Receipt, Submitted
from field.core.office import OFFICE_TZ, office_date
from .reports import canonical_body
from field.core.scope import get_one, in_scope
from field.core.scoped import clean

#: Metres beyond its accuracy that a visit may be from the enterprise before it is flagged
#: (the app passes its FAR_FROM_TARGET_M, whose default this is).
DEFAULT_FAR_M = 300.0
#: How far ahead of the server's clock a visit time may be (phones' clocks drift; offline queues don't).
FUTURE_SLACK = timedelta(days=1)


# -- periods ---------------------------------------------------------------------------------------


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


# -- logging a visit -------------------------------------------------------------------------------


def _led_point(session: Session, user: User, point_id: uuid.UUID) -> MonitoringPoint:
    point = session.execute(select(MonitoringPoint).where(
        MonitoringPoint.id == point_id, MonitoringPoint.leader_id == user.id, visible_points(user),
    )).unique().scalar_one_or_none()
    if point is None:
        raise InvalidInput("point_id", "No such monitoring point of yours: only a point's leader logs visits to it.")
    return point


def _check_time(point: MonitoringPoint, visited_at: datetime, now: datetime) -> None:
    if visited_at > now + FUTURE_SLACK:
        raise InvalidInput("visited_at", "A visit that has taken place: the time is in the future.")
    day = office_date(visited_at)
    if day < point.active_from or (point.active_to is not None and day > point.active_to):
        until = point.active_to.isoformat() if point.active_to else "now"
        raise InvalidInput("visited_at", f"The point is a monitoring point from {point.active_from.isoformat()} "
                                         f"to {until}; {day.isoformat()} is outside.")


def _visit_values(session: Session, user: User, point_id: uuid.UUID, visited_at: datetime,
                  location: GivenLocation, notes: str | None, far_m: float) -> dict:
    point = _led_point(session, user, point_id)
    _check_time(point, visited_at, utcnow())
    stored = location.to_stored()
    target = point.enterprise.location
    distance = stored.distance_m(target.lon, target.lat) if target is not None else None
    far = distance is not None and distance - (stored.accuracy_m or 0.0) > far_m
    return dict(point_id=point.id, enterprise_id=point.enterprise_id, jurisdiction_id=point.jurisdiction_id,
                visited_at=visited_at.astimezone(timezone.utc), notes=clean(notes), distance_m=distance,
                flag_far_from_target=far,
                location=geo.to_db(Point(stored.lon, stored.lat)), accuracy_m=stored.accuracy_m)


def log_visit(session: Session, receipt: Receipt, visit_id: uuid.UUID, *, point_id: uuid.UUID,
              device_time: datetime, visited_at: datetime, location: GivenLocation, notes: str | None = None,
              declared_attachments: list | tuple = (), far_m: float = DEFAULT_FAR_M) -> Submitted[LeaderVisit]:
    """Create a leader's visit once per id (the same id and content again answers the stored one)."""
    user = receipt.user
    if user.role is not Role.leader:
        raise NotAllowed("Only a monitoring point's leader logs leader visits.")

    def build() -> LeaderVisit:
        values = _visit_values(session, user, point_id, visited_at, location, notes, far_m)
        return LeaderVisit(device_time=device_time.astimezone(timezone.utc),
                           declared_attachments=list(declared_attachments), **values)

    body = canonical_body({"id": visit_id, "point_id": point_id, "device_time": device_time,
                           "visited_at": visited_at, "location": location, "notes": notes,
                           "declared_attachments": declared_attachments})
    return records.submit(session, LeaderVisit, visit_id, body, receipt, build)


def amend_visit(session: Session, user: User, visit: LeaderVisit, *, note: str | None = None,
                point_id: uuid.UUID, device_time: datetime, visited_at: datetime, location: GivenLocation,
                notes: str | None = None, declared_attachments: list | tuple = (),
                far_m: float = DEFAULT_FAR_M) -> LeaderVisit:
    """The leader's amended version of a visit in needs_info; every check again."""

    def apply() -> None:
        for name, value in _visit_values(session, user, point_id, visited_at, location, notes, far_m).items():
            setattr(visit, name, value)
        visit.device_time = device_time.astimezone(timezone.utc)
        visit.declared_attachments = list(declared_attachments)

    body = canonical_body({"id": visit.id, "point_id": point_id, "device_time": device_time,
                           "visited_at": visited_at, "location": location, "notes": notes,
                           "declared_attachments": declared_attachments})
    records.amend(session, user, visit, body, apply, note)
    return visit


# -- reading ---------------------------------------------------------------------------------------


def _led_points(user: User) -> Select:
    return select(MonitoringPoint.id).where(visible_points(user), MonitoringPoint.leader_id == user.id)


def visible_visits(user: User) -> ColumnElement[bool]:
    if user.role in OFFICE_ROLES:
        return in_scope(LeaderVisit.jurisdiction_id, user)
    if user.role is Role.leader:
        return or_(LeaderVisit.point_id.in_(_led_points(user)), LeaderVisit.submitted_by_id == user.id)
    return false()


def get_visit(session: Session, user: User, visit_id: uuid.UUID) -> LeaderVisit:
    return get_one(session, LeaderVisit, visit_id, "leader visit", visible_visits(user))


def visits_query(user: User, *, point_id: uuid.UUID | None = None, since: datetime | None = None,
                 until: datetime | None = None) -> Select:
    if user.role not in OFFICE_ROLES | {Role.leader}:
        raise NotAllowed("Leader visits are for the office and the leaders.")
    stmt = select(LeaderVisit).where(visible_visits(user))
    if point_id is not None:
        stmt = stmt.where(LeaderVisit.point_id == point_id)
    if since is not None:
        stmt = stmt.where(LeaderVisit.visited_at >= since)
    if until is not None:
        stmt = stmt.where(LeaderVisit.visited_at < until)
    return stmt


# -- compliance ------------------------------------------------------------------------------------


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
        local = func.timezone("Asia/Shanghai", LeaderVisit.visited_at)

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
    today = today or office_date(utcnow())
    wanted = parse_period(period) if period else Period(date(today.year, 1, 1), date(today.year, 12, 31))
    stmt = compliance_query(user, leader_id=leader_id)
    page = paginate(session, stmt, [MonitoringPoint.created_at, MonitoringPoint.id], cursor=cursor, limit=limit)
    return Page(assess(session, page.items, wanted, today), page.next_cursor)


__all__ = ["Period", "period_of", "periods_overlapping", "parse_period", "log_visit", "amend_visit",
           "visible_visits", "get_visit", "visits_query", "Compliance", "PeriodStatus", "assess",
           "compliance_query", "compliance_page", "DEFAULT_FAR_M"]
