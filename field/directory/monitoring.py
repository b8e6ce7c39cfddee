"""Monitoring points (监测点), and the one rule that keeps covert points covert.

``visible_points(user)`` is that rule. Every query that can reveal a point, or the fact
that an enterprise is one, filters through it: point lists, counts, search and GeoJSON,
get-by-id, the enterprise's ``monitoring_point`` member and the ``monitoring_point``
filter of the enterprise list, the CSV export, and the sync feed's loaders. The change
log adds the other half (``_log``): entries about a point that is covert before and
after a change go only to the office and the point's own people, so even the timing of
a covert designation does not reach anyone else.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Iterable

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true
from sqlalchemy.orm import Session, contains_eager

from field.core import sync
from field.core.errors import Conflict, FieldProblem, InvalidInput
from field.core.locations import Area
from field.core.models.platform import OFFICE_ROLES, Jurisdiction, Role, User
from field.core.models.base import utcnow
from field.core.models.changes import Change
from .models import Enterprise, MonitoringPoint, VisitFrequency, monitoring_point_liaisons
from field.core.pages import Page
from field.core.scope import in_scope, jurisdiction_in_scope
from field.core.scoped import get_live, live, located_page, require_admin, resolve_live, text_matches
from field.core.queries import narrowed
from .policy import POLICY

#: Roles that see only the points they are assigned to (as liaison or leader).
OWN_POINTS_ONLY = frozenset({Role.liaison, Role.leader})


def _owned_by(user: User, point_id_column) -> ColumnElement[bool]:
    """The point is one ``user`` is liaison or leader of (deleted points included)."""
    return or_(
        point_id_column.in_(select(monitoring_point_liaisons.c.point_id)
                            .where(monitoring_point_liaisons.c.user_id == user.id)),
        point_id_column.in_(select(MonitoringPoint.id).where(MonitoringPoint.leader_id == user.id)),
    )


def visible_points(user: User) -> ColumnElement[bool]:
    """THE covert rule, as a predicate on ``MonitoringPoint``: the live points ``user`` may know of.

    - admins and reviewers: every point of their jurisdiction subtree, open or covert;
    - liaisons and leaders: only the points they are assigned to (in scope), open or covert;
    - everyone else (inspectors, squad members): the open points of their scope.
    """
    base = and_(live(MonitoringPoint), in_scope(MonitoringPoint.jurisdiction_id, user))
    if user.role in OFFICE_ROLES:
        return base
    if user.role in OWN_POINTS_ONLY:
        return and_(base, _owned_by(user, MonitoringPoint.id))
    return and_(base, MonitoringPoint.covert.is_(False))


def _open_point_viewers(user: User) -> ColumnElement[bool]:
    """Entries about an open point reach whoever sees open points, and the point's own people."""
    return _owned_by(user, Change.audience_id) if user.role in OWN_POINTS_ONLY else true()


# Entries about a covert point reach its liaisons and leader only (and the office, which gets all).
sync.register_audience("point", lambda user: _owned_by(user, Change.audience_id))
sync.register_audience("open_point", _open_point_viewers)


@dataclass(frozen=True)
class _Seen:
    """What decides who may see a point: taken before a change, compared after it."""

    covert: bool
    owners: frozenset[uuid.UUID]
    jurisdiction_id: uuid.UUID


def _seen(point: MonitoringPoint) -> _Seen:
    owners = {u.id for u in point.liaisons} | ({point.leader_id} if point.leader_id else set())
    return _Seen(point.covert, frozenset(owners), point.jurisdiction_id)


def _log(session: Session, point: MonitoringPoint, before: _Seen | None) -> None:
    """Feed entries for a change of ``point`` and of its enterprise's point status.

    Covert before and after: only the office and the point's people get the entries. A
    change that crosses between open and covert goes to everyone who sees open points:
    those who had the open point must drop it, and they learn nothing they did not know.
    Liaisons and leaders who are no longer the point's people get an entry of their own
    (a tombstone for them); other liaisons and leaders never hear of the point at all.
    """
    after = _seen(point)
    covert_throughout = after.covert and (before is None or before.covert)
    jurisdictions = [before.jurisdiction_id if before else None, after.jurisdiction_id]
    if covert_throughout:
        sync.record(session, "monitoring_point", point.id, jurisdictions, sync.Audience("point", point.id))
        sync.record(session, "enterprise", point.enterprise_id, jurisdictions, sync.Audience("point", point.id))
    else:
        sync.record(session, "monitoring_point", point.id, jurisdictions, sync.Audience("open_point", point.id))
        sync.record(session, "enterprise", point.enterprise_id, jurisdictions)
    for user_id in sorted(before.owners - after.owners) if before else ():
        sync.record(session, "monitoring_point", point.id, jurisdictions, sync.Audience("user", user_id))
        sync.record(session, "enterprise", point.enterprise_id, jurisdictions, sync.Audience("user", user_id))


def _assignee(session: Session, actor: User | None, user_id: uuid.UUID, role: Role, field: str,
              enterprise: Enterprise) -> User:
    """A liaison or leader named in a request: the right role, in the admin's scope, able to see the point."""
    user = session.get(User, user_id)
    if user is None or user.disabled or user.role is not role or (
            actor is not None and not jurisdiction_in_scope(user.jurisdiction, actor)):
        raise InvalidInput(field, f"No such user with the {role.value} role.")
    point_jurisdiction = session.get(Jurisdiction, enterprise.jurisdiction_id)
    if not jurisdiction_in_scope(point_jurisdiction, user):
        raise InvalidInput(field, f"{user.display_name} works outside the enterprise's jurisdiction "
                                  f"({point_jurisdiction.name}) and could not see the point.")
    return user


def _check_dates(active_from: date, active_to: date | None) -> None:
    if active_to is not None and active_to < active_from:
        raise InvalidInput("active_to", "Must not be before active_from.")


def _check_leader(leader: User | None, frequency: VisitFrequency | None) -> None:
    if leader is not None and frequency is None:
        raise InvalidInput("visit_frequency", "Say how often the leader must visit (weekly, monthly, quarterly).")


def create_point(session: Session, actor: User | None, *, enterprise_id: uuid.UUID, active_from: date,
                 covert: bool = False, leader_id: uuid.UUID | None = None,
                 visit_frequency: VisitFrequency | None = None, liaison_ids: Iterable[uuid.UUID] = (),
                 active_to: date | None = None) -> MonitoringPoint:
    require_admin(actor, "monitoring points")
    enterprise = resolve_live(session, Enterprise, enterprise_id, actor, "enterprise_id", "enterprise")
    if session.execute(select(MonitoringPoint.id).where(
            MonitoringPoint.enterprise_id == enterprise.id, live(MonitoringPoint))).first():
        raise Conflict(f"{enterprise.name} is a monitoring point already.",
                       fields=[FieldProblem("enterprise_id", "Already a monitoring point.")])
    leader = _assignee(session, actor, leader_id, Role.leader, "leader_id", enterprise) if leader_id else None
    liaisons = [_assignee(session, actor, uid, Role.liaison, f"liaison_ids.{i}", enterprise)
                for i, uid in enumerate(dict.fromkeys(liaison_ids))]
    frequency = VisitFrequency(visit_frequency) if visit_frequency else None
    _check_leader(leader, frequency)
    _check_dates(active_from, active_to)
    point = MonitoringPoint(enterprise_id=enterprise.id, enterprise=enterprise, jurisdiction_id=enterprise.jurisdiction_id,
                            covert=covert, leader_id=leader.id if leader else None, leader=leader,
                            visit_frequency=frequency, active_from=active_from, active_to=active_to,
                            liaisons=liaisons)
    session.add(point)
    session.flush()
    _log(session, point, None)
    return point


def update_point(session: Session, actor: User | None, point: MonitoringPoint, changes: dict) -> MonitoringPoint:
    require_admin(actor, "monitoring points")
    before = _seen(point)
    if "covert" in changes:
        point.covert = changes["covert"]
    if "leader_id" in changes:
        leader_id = changes["leader_id"]
        leader = _assignee(session, actor, leader_id, Role.leader, "leader_id", point.enterprise) if leader_id else None
        point.leader_id, point.leader = (leader.id if leader else None), leader
    if "visit_frequency" in changes:
        point.visit_frequency = VisitFrequency(changes["visit_frequency"]) if changes["visit_frequency"] else None
    if "liaison_ids" in changes:
        point.liaisons = [_assignee(session, actor, uid, Role.liaison, f"liaison_ids.{i}", point.enterprise)
                          for i, uid in enumerate(dict.fromkeys(changes["liaison_ids"]))]
    if "active_from" in changes:
        point.active_from = changes["active_from"]
    if "active_to" in changes:
        point.active_to = changes["active_to"]
    _check_leader(point.leader, point.visit_frequency)
    _check_dates(point.active_from, point.active_to)
    point.updated_at = utcnow()
    session.flush()
    _log(session, point, before)
    return point


def delete_point(session: Session, actor: User | None, point: MonitoringPoint) -> None:
    require_admin(actor, "monitoring points")
    before = _seen(point)
    point.deleted_at = utcnow()
    session.flush()
    _log(session, point, before)


def follow_enterprise(session: Session, enterprise: Enterprise) -> None:
    """The enterprise moved to another jurisdiction: its live point moves with it."""
    point = session.execute(select(MonitoringPoint).where(
        MonitoringPoint.enterprise_id == enterprise.id, live(MonitoringPoint))).unique().scalar_one_or_none()
    if point is not None and point.jurisdiction_id != enterprise.jurisdiction_id:
        before = _seen(point)
        point.jurisdiction_id = enterprise.jurisdiction_id
        point.updated_at = utcnow()
        session.flush()
        _log(session, point, before)


def get_point(session: Session, user: User, point_id: uuid.UUID, *, action: str | None = None) -> MonitoringPoint:
    POLICY.require(user, action)
    return get_live(session, MonitoringPoint, point_id, user, "monitoring point", visible_points(user))


def points_query(user: User, *, covert: bool | None = None, enterprise_id: uuid.UUID | None = None,
                 leader_id: uuid.UUID | None = None, liaison_id: uuid.UUID | None = None,
                 active_on: date | None = None, q: str | None = None) -> Select:
    stmt = (select(MonitoringPoint).join(Enterprise, MonitoringPoint.enterprise_id == Enterprise.id)
            .options(contains_eager(MonitoringPoint.enterprise)).where(visible_points(user)))
    if covert is not None:
        stmt = stmt.where(MonitoringPoint.covert.is_(covert))
    stmt = narrowed(stmt, (MonitoringPoint.enterprise_id, enterprise_id), (MonitoringPoint.leader_id, leader_id))
    if liaison_id is not None:
        stmt = stmt.where(MonitoringPoint.id.in_(select(monitoring_point_liaisons.c.point_id)
                                                 .where(monitoring_point_liaisons.c.user_id == liaison_id)))
    if active_on is not None:
        stmt = stmt.where(MonitoringPoint.active_from <= active_on,
                          or_(MonitoringPoint.active_to.is_(None), MonitoringPoint.active_to >= active_on))
    if q:
        stmt = stmt.where(text_matches(q, Enterprise.name, Enterprise.credit_code))
    return stmt


def list_points(session: Session, user: User, filters: dict, area: Area, *, cursor: str | None, limit: int) -> Page:
    """Points are where their enterprise is: the area applies to the enterprise's location."""
    return located_page(session, user, points_query(user, **filters),
                        [MonitoringPoint.created_at, MonitoringPoint.id], Enterprise.geom, area,
                        cursor=cursor, limit=limit, location_of=lambda p: p.enterprise.location)


def visible_points_of(session: Session, user: User, enterprise_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, MonitoringPoint]:
    """enterprise id → its point, for the enterprises whose point status ``user`` may know."""
    ids = list(enterprise_ids)
    if not ids:
        return {}
    rows = session.execute(select(MonitoringPoint).where(
        MonitoringPoint.enterprise_id.in_(ids), visible_points(user))).unique().scalars()
    return {p.enterprise_id: p for p in rows}


def count_points(session: Session, user: User) -> dict[str, int]:
    rows = session.execute(select(MonitoringPoint.covert, func.count(MonitoringPoint.id))
                           .where(visible_points(user)).group_by(MonitoringPoint.covert)).all()
    by_kind = {bool(covert): n for covert, n in rows}
    return {"open": by_kind.get(False, 0), "covert": by_kind.get(True, 0)}


def load_points(session: Session, user: User, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, MonitoringPoint]:
    rows = session.execute(points_query(user).where(MonitoringPoint.id.in_(list(ids)))).unique().scalars()
    return {p.id: p for p in rows}


sync.register_feed("monitoring_point", load_points)
