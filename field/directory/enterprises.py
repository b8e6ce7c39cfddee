"""Enterprises: keyed by their unified social credit code, located, flagged, each maybe a monitoring point."""

from __future__ import annotations

import uuid
from typing import Iterable, Iterator

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from field.core import sync
from field.core.credit_code import InvalidCreditCode, validate_credit_code
from field.core.errors import Conflict, FieldProblem, InvalidInput
from field.core.locations import Area, GivenLocation, place
from field.core.models.platform import Jurisdiction, User
from field.core.models.base import utcnow
from .models import Enterprise, MonitoringPoint
from .monitoring import follow_enterprise, visible_points, visible_points_of
from field.core.pages import Page, paginate
from field.core.scope import in_scope
from field.core.scoped import clean, get_live, live, located_page, require_admin, target_jurisdiction, text_matches
from .policy import POLICY

#: The flags an enterprise carries, in the order the CSV and the API list them.
FLAGS = ("above_designated_size", "key_enterprise", "key_project")


def checked_credit_code(code: str, field: str = "credit_code") -> str:
    """The normalised code, or a 422 naming ``field`` with the reason (and position, expected character)."""
    try:
        return validate_credit_code(code)
    except InvalidCreditCode as exc:
        extra = {k: v for k, v in (("position", exc.position), ("expected", exc.expected)) if v is not None}
        raise InvalidInput(field, f"Not a valid unified social credit code: {exc.reason}.", **extra) from None


def _check_code_free(session: Session, code: str, exclude: uuid.UUID | None = None) -> None:
    stmt = select(Enterprise.id).where(Enterprise.credit_code == code, live(Enterprise))
    if exclude is not None:
        stmt = stmt.where(Enterprise.id != exclude)
    if session.execute(stmt).first():
        # Codes are national: the row may be in another district, which we do not name.
        raise Conflict(f"An enterprise with credit code {code} is in the directory already.",
                       fields=[FieldProblem("credit_code", "Already registered.")])


def create_enterprise(session: Session, actor: User | None, *, name: str, credit_code: str,
                      jurisdiction_id: uuid.UUID | None = None, address: str | None = None,
                      location: GivenLocation | None = None, above_designated_size: bool = False,
                      key_enterprise: bool = False, key_project: bool = False, contact_name: str | None = None,
                      contact_phone: str | None = None) -> Enterprise:
    require_admin(actor, "the directory")
    code = checked_credit_code(credit_code)
    jurisdiction = target_jurisdiction(session, actor, jurisdiction_id)
    stored = location.to_stored() if location else None
    _check_code_free(session, code)
    enterprise = Enterprise(
        name=name.strip(), credit_code=code, jurisdiction_id=jurisdiction.id, address=clean(address),
        above_designated_size=above_designated_size, key_enterprise=key_enterprise, key_project=key_project,
        contact_name=clean(contact_name), contact_phone=clean(contact_phone))
    place(enterprise, stored)
    session.add(enterprise)
    session.flush()
    sync.record(session, "enterprise", enterprise.id, enterprise.jurisdiction_id)
    return enterprise


def update_enterprise(session: Session, actor: User | None, enterprise: Enterprise, changes: dict) -> Enterprise:
    require_admin(actor, "the directory")
    before_jurisdiction = enterprise.jurisdiction_id
    if "credit_code" in changes:
        code = checked_credit_code(changes["credit_code"])
        if code != enterprise.credit_code:
            _check_code_free(session, code, exclude=enterprise.id)
            enterprise.credit_code = code
    if "jurisdiction_id" in changes and changes["jurisdiction_id"] != enterprise.jurisdiction_id:
        enterprise.jurisdiction_id = target_jurisdiction(session, actor, changes["jurisdiction_id"]).id
    if "name" in changes:
        enterprise.name = changes["name"].strip()
    for key in ("address", "contact_name", "contact_phone"):
        if key in changes:
            setattr(enterprise, key, clean(changes[key]))
    for flag in FLAGS:
        if flag in changes:
            setattr(enterprise, flag, changes[flag])
    if "location" in changes:
        place(enterprise, changes["location"].to_stored() if changes["location"] else None)
    enterprise.updated_at = utcnow()
    session.flush()
    sync.record(session, "enterprise", enterprise.id, [before_jurisdiction, enterprise.jurisdiction_id])
    if enterprise.jurisdiction_id != before_jurisdiction:
        follow_enterprise(session, enterprise)
    return enterprise


def delete_enterprise(session: Session, actor: User | None, enterprise: Enterprise) -> None:
    require_admin(actor, "the directory")
    if session.execute(select(MonitoringPoint.id).where(
            MonitoringPoint.enterprise_id == enterprise.id, live(MonitoringPoint))).first():
        # Only an admin gets here, and an admin sees every point of the scope.
        raise Conflict(f"{enterprise.name} is a monitoring point; delete the point first.")
    enterprise.deleted_at = utcnow()
    session.flush()
    sync.record(session, "enterprise", enterprise.id, enterprise.jurisdiction_id)


def with_point_status(session: Session, user: User, enterprises: list[Enterprise]) -> list[Enterprise]:
    """Set each enterprise's ``visible_point``: its monitoring point if ``user`` may know of it, else None."""
    points = visible_points_of(session, user, [e.id for e in enterprises])
    for enterprise in enterprises:
        enterprise.visible_point = points.get(enterprise.id)
    return enterprises


def get_enterprise(session: Session, user: User, enterprise_id: uuid.UUID, *, action: str | None = None) -> Enterprise:
    POLICY.require(user, action)
    enterprise = get_live(session, Enterprise, enterprise_id, user, "enterprise")
    return with_point_status(session, user, [enterprise])[0]


def enterprises_query(user: User, *, q: str | None = None, credit_code: str | None = None,
                      monitoring_point: bool | None = None, above_designated_size: bool | None = None,
                      key_enterprise: bool | None = None, key_project: bool | None = None) -> Select:
    stmt = select(Enterprise).where(live(Enterprise), in_scope(Enterprise.jurisdiction_id, user))
    if q:
        stmt = stmt.where(text_matches(q, Enterprise.name, Enterprise.credit_code, Enterprise.address))
    if credit_code:
        stmt = stmt.where(Enterprise.credit_code == checked_credit_code(credit_code))
    if monitoring_point is not None:
        # Through the covert rule: to whoever may not know, a covert point is an ordinary enterprise.
        points = select(MonitoringPoint.enterprise_id).where(visible_points(user))
        stmt = stmt.where(Enterprise.id.in_(points) if monitoring_point else Enterprise.id.not_in(points))
    for flag, wanted in (("above_designated_size", above_designated_size), ("key_enterprise", key_enterprise),
                         ("key_project", key_project)):
        if wanted is not None:
            stmt = stmt.where(getattr(Enterprise, flag).is_(wanted))
    return stmt


def list_enterprises(session: Session, user: User, filters: dict, area: Area, *, cursor: str | None,
                     limit: int) -> Page:
    page = located_page(session, user, enterprises_query(user, **filters), [Enterprise.created_at, Enterprise.id],
                        Enterprise.geom, area, cursor=cursor, limit=limit, location_of=lambda e: e.location)
    with_point_status(session, user, page.items)
    return page


def export_enterprises(session: Session, user: User, filters: dict,
                       batch: int = 500) -> Iterator[tuple[Enterprise, str]]:
    """Every enterprise of the user's scope matching ``filters`` with its jurisdiction's code and its
    visible point status, read in keyset batches so memory stays flat.

    The query is built now, not when the first row is asked for: a streamed response reads the
    rows after the request's session has let ``user`` go, so the rows are read as the user
    loaded afresh."""
    stmt = enterprises_query(user, **filters)
    return _export_batches(session, user.id, stmt, batch)


def _export_batches(session: Session, user_id: uuid.UUID, stmt, batch: int) -> Iterator[tuple[Enterprise, str]]:
    user = session.get(User, user_id)
    cursor = None
    while True:
        page = paginate(session, stmt, [Enterprise.created_at, Enterprise.id], cursor=cursor, limit=batch)
        codes = dict(session.execute(select(Jurisdiction.id, Jurisdiction.code).where(
            Jurisdiction.id.in_({e.jurisdiction_id for e in page.items}))).all())
        for enterprise in with_point_status(session, user, page.items):
            yield enterprise, codes[enterprise.jurisdiction_id]
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def load_enterprises(session: Session, user: User, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Enterprise]:
    rows = list(session.execute(enterprises_query(user).where(Enterprise.id.in_(list(ids)))).scalars())
    return {e.id: e for e in with_point_status(session, user, rows)}


sync.register_feed("enterprise", load_enterprises)
