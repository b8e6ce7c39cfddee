"""Leader visits (挂包领导走访) to monitoring points, and who is behind on their visit obligation.

Design
======

Model. ``LeaderVisit`` (field/reports/models.py) is a field record of kind
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
``field.records.lifecycle.submit`` (one row per UUID, 409 for another body); the answer to
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

import uuid
from datetime import datetime, timedelta, timezone

from shapely.geometry import Point
from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.orm import Session

from field.core import geo
from field.core.errors import InvalidInput, NotAllowed
from field.core.locations import GivenLocation
from field.core.models.base import utcnow
from field.core.models.platform import OFFICE_ROLES, Role, User
from field.core.office import office_date
from field.core.pages import keyed
from field.core.scope import get_one, in_scope
from field.core.scoped import clean
from field.directory.models import MonitoringPoint
from field.directory.monitoring import visible_points
from field.records import lifecycle as records
from field.records.lifecycle import Receipt, Submitted
from field.records.kinds import RecordKind, first_text, register

from .models import LeaderVisit
from .reports import canonical_body


#: Metres beyond its accuracy that a visit may be from the enterprise before it is flagged
#: (the app passes its FAR_FROM_TARGET_M, whose default this is).
DEFAULT_FAR_M = 300.0
#: How far ahead of the server's clock a visit time may be (phones' clocks drift; offline queues don't).
FUTURE_SLACK = timedelta(days=1)


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


@keyed(LeaderVisit.visited_at, LeaderVisit.id, descending=True)
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


__all__ = ["log_visit", "amend_visit", "visible_visits", "get_visit", "visits_query", "DEFAULT_FAR_M"]


register(RecordKind(
    name="leader_visit", model=LeaderVisit, noun="leader visit", path="leader-visits",
    create=lambda s, receipt, body, ctx: log_visit(s, receipt, body.pop("id"), far_m=ctx.far_threshold_m, **body),
    amend=lambda s, user, visit, body, ctx: amend_visit(s, user, visit, note=body.pop("amendment_note"),
                                                        far_m=ctx.far_threshold_m, **body),
    get=get_visit, query=visits_query,
    roles={"list": (Role.admin, Role.reviewer, Role.leader), "create": (Role.leader,)},
    summary=lambda r: ([r.enterprise_id], None, first_text(r.notes))))
