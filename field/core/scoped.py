"""Live rows of the directory in the caller's scope: lookups by id, text search, area filters, located pages."""

from __future__ import annotations

import uuid
from typing import Callable, Sequence, TypeVar

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from . import geo
from .memo import remembered
from .errors import InvalidInput, NotAllowed
from .locations import Area, Location
from .models.platform import Jurisdiction, Role, User
from .pages import Page, paginate
from .scope import get_one, in_scope, resolve_jurisdiction

T = TypeVar("T")


def require_admin(actor: User | None, what: str) -> None:
    """``actor`` None is the command line, which may do anything."""
    if actor is not None and actor.role is not Role.admin:
        raise NotAllowed(f"Only an admin manages {what}.")


def live(model) -> ColumnElement[bool]:
    return model.deleted_at.is_(None)


def get_live(session: Session, model: type[T], object_id: uuid.UUID, user: User, what: str,
             *visible: ColumnElement[bool]) -> T:
    """A live row the user may see; deleted, foreign and missing ids are the same NotFound."""
    return get_one(session, model, object_id, what, live(model), in_scope(model.jurisdiction_id, user), *visible)


def resolve_live(session: Session, model: type[T], object_id: uuid.UUID, actor: User | None, field: str,
                 what: str) -> T:
    """A row named in a request body: absent, deleted and out of scope read the same (422 on ``field``)."""
    def look_up():
        stmt = select(model).where(model.id == object_id, live(model))
        if actor is not None:
            stmt = stmt.where(in_scope(model.jurisdiction_id, actor))
        return session.execute(stmt).unique().scalar_one_or_none()

    obj = remembered(session, ("live", model, object_id, getattr(actor, "id", None)), look_up)
    if obj is None:
        raise InvalidInput(field, f"No such {what}.")
    return obj


def target_jurisdiction(session: Session, actor: User | None, jurisdiction_id: uuid.UUID | None) -> Jurisdiction:
    """Where a new row goes: the one named (in the actor's scope), or the actor's own."""
    if jurisdiction_id is None:
        if actor is None:
            raise InvalidInput("jurisdiction_id", "Required.")
        return actor.jurisdiction
    return resolve_jurisdiction(session, actor, jurisdiction_id)


def text_matches(q: str, *columns) -> ColumnElement[bool]:
    """Case-insensitive substring search over ``columns`` (LIKE metacharacters in ``q`` are literal)."""
    needle = q.strip().lower()
    return or_(*[func.lower(column).contains(needle, autoescape=True) for column in columns])


def clean(value: str | None) -> str | None:
    """Trimmed text, None for blank."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def within_area(session: Session, user: User, stmt: Select, column, area: Area) -> Select:
    """``stmt`` narrowed to the area; every predicate goes through the spatial index (field/core/geo.py)."""
    if area.bbox is not None:
        stmt = stmt.where(geo.in_bbox(session, column, *area.bbox))
    if area.near is not None and area.radius_m is not None:
        stmt = stmt.where(geo.within_radius(session, column, area.near[0], area.near[1], area.radius_m))
    if area.within_jurisdiction_id is not None:
        j = session.execute(select(Jurisdiction).where(
            Jurisdiction.id == area.within_jurisdiction_id, in_scope(Jurisdiction.id, user))).scalar_one_or_none()
        if j is None:
            raise InvalidInput("within_jurisdiction", "No such jurisdiction.")
        if j.boundary is None:
            raise InvalidInput("within_jurisdiction", f"{j.name} ({j.code}) has no boundary on record.")
        stmt = stmt.where(geo.within_geometry(session, column, geo.from_db(j.boundary)))
    return stmt


def located_page(session: Session, user: User, stmt: Select, keys: Sequence, column, area: Area, *,
                 cursor: str | None, limit: int, location_of: Callable[[object], Location | None],
                 descending: bool = False, legs: tuple | None = None) -> Page:
    """A keyset page of ``stmt`` inside ``area`` (newest first when ``descending``); the nearest N
    instead when asked (no further page).

    With ``near`` given, each item gets ``distance_m`` (great-circle metres from the point).
    ``legs`` as in ``paginate``: a scope of a few jurisdictions read one at a time and merged.
    """
    stmt = within_area(session, user, stmt, column, area)
    if area.bbox is not None or area.near is not None or area.within_jurisdiction_id is not None:
        # The area narrows through the spatial index. Read jurisdiction by jurisdiction, a leg whose
        # jurisdiction lies outside the area would walk every one of its rows to find none: 1.5-2.6 s
        # for one district's box at 1,000,000 findings (bench/spatial.py), 15-50 ms without the legs.
        legs = None
    if area.nearest is not None:
        items = []
        for obj, metres in geo.nearest(session, stmt, column, area.near[0], area.near[1], area.nearest):
            obj.distance_m = metres
            items.append(obj)
        return Page(items, None)
    page = paginate(session, stmt, keys, cursor=cursor, limit=limit, descending=descending, legs=legs)
    if area.near is not None:
        for obj in page.items:
            location = location_of(obj)
            if location is not None:
                obj.distance_m = location.distance_m(*area.near)
    return page
