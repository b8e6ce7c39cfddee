"""Units (departments, public-service companies, their sections and windows, as a tree) and their staff."""

from __future__ import annotations

import uuid
from typing import Iterable

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from field.core import sync
from field.core.errors import Conflict, FieldProblem, InvalidInput
from field.core.locations import Area, GivenLocation, place
from field.core.models.platform import User
from field.core.models.base import utcnow
from .models import Person, PersonRank, Unit, UnitKind
from field.core.pages import Page, keyed
from field.core.scope import in_scope
from field.core.queries import narrowed
from field.core.scoped import (
    clean,
    get_live,
    live,
    located_page,
    require_admin,
    resolve_live,
    target_jurisdiction,
    text_matches,
)
from .policy import POLICY

#: Which kinds a unit of each kind may hang below (None: the top of the tree).
ALLOWED_PARENTS: dict[UnitKind, frozenset[UnitKind | None]] = {
    UnitKind.department: frozenset({None, UnitKind.department}),
    UnitKind.public_service: frozenset({None, UnitKind.public_service}),
    UnitKind.section: frozenset({UnitKind.department, UnitKind.public_service, UnitKind.section}),
    UnitKind.window: frozenset({UnitKind.department, UnitKind.public_service, UnitKind.section}),
}


def check_parent_kind(kind: UnitKind, parent: Unit | None) -> None:
    parent_kind = parent.kind if parent is not None else None
    if parent_kind not in ALLOWED_PARENTS[kind]:
        if parent is None:
            raise InvalidInput("parent_id", f"A {kind.value} belongs to a department or public-service company.")
        raise InvalidInput("parent_id", f"A {kind.value} cannot sit below a {parent_kind.value}.")


def _check_unique_name(session: Session, jurisdiction_id: uuid.UUID, parent_id: uuid.UUID | None, name: str,
                       exclude: uuid.UUID | None = None) -> None:
    stmt = select(Unit.id).where(live(Unit), Unit.jurisdiction_id == jurisdiction_id, Unit.name == name,
                                 Unit.parent_id.is_(None) if parent_id is None else Unit.parent_id == parent_id)
    if exclude is not None:
        stmt = stmt.where(Unit.id != exclude)
    if session.execute(stmt).first():
        raise Conflict(f"A unit named {name!r} exists at this place in the tree.",
                       fields=[FieldProblem("name", "Already taken by a sibling unit.")])


def create_unit(session: Session, actor: User | None, *, name: str, kind: UnitKind,
                jurisdiction_id: uuid.UUID | None = None, parent_id: uuid.UUID | None = None,
                address: str | None = None, location: GivenLocation | None = None) -> Unit:
    require_admin(actor, "the directory")
    kind = UnitKind(kind)
    parent = resolve_live(session, Unit, parent_id, actor, "parent_id", "unit") if parent_id else None
    check_parent_kind(kind, parent)
    if parent is not None:
        if jurisdiction_id is not None and jurisdiction_id != parent.jurisdiction_id:
            raise InvalidInput("jurisdiction_id", "A unit is in its parent unit's jurisdiction.")
        jurisdiction_id = parent.jurisdiction_id
    jurisdiction = target_jurisdiction(session, actor, jurisdiction_id)
    name = name.strip()
    _check_unique_name(session, jurisdiction.id, parent.id if parent else None, name)
    unit = Unit(name=name, kind=kind, jurisdiction_id=jurisdiction.id, parent_id=parent.id if parent else None,
                address=clean(address))
    place(unit, location.to_stored() if location else None)
    session.add(unit)
    session.flush()
    sync.record(session, "unit", unit.id, unit.jurisdiction_id)
    return unit


def _descendants(session: Session, unit: Unit) -> list[Unit]:
    found, frontier = [], [unit.id]
    while frontier:
        children = list(session.execute(select(Unit).where(Unit.parent_id.in_(frontier), live(Unit))).scalars())
        found += children
        frontier = [c.id for c in children]
    return found


def update_unit(session: Session, actor: User | None, unit: Unit, changes: dict) -> Unit:
    """Apply an admin's changes; moving a top unit to another jurisdiction moves its subtree and staff."""
    require_admin(actor, "the directory")
    before_jurisdiction = unit.jurisdiction_id
    kind = UnitKind(changes.get("kind", unit.kind))
    if "parent_id" in changes:
        parent_id = changes["parent_id"]
        parent = resolve_live(session, Unit, parent_id, actor, "parent_id", "unit") if parent_id else None
        ancestor = parent
        while ancestor is not None:
            if ancestor.id == unit.id:
                raise InvalidInput("parent_id", "A unit cannot sit below itself or its own sections.")
            ancestor = session.get(Unit, ancestor.parent_id) if ancestor.parent_id else None
    else:
        parent = session.get(Unit, unit.parent_id) if unit.parent_id else None
    check_parent_kind(kind, parent)
    if kind is UnitKind.window and session.execute(
            select(Unit.id).where(Unit.parent_id == unit.id, live(Unit))).first():
        raise InvalidInput("kind", "A window has no units below it; this unit has some.")
    jurisdiction_id = parent.jurisdiction_id if parent is not None else unit.jurisdiction_id
    if "jurisdiction_id" in changes and changes["jurisdiction_id"] != jurisdiction_id:
        if parent is not None:
            raise InvalidInput("jurisdiction_id", "A unit is in its parent unit's jurisdiction.")
        jurisdiction_id = target_jurisdiction(session, actor, changes["jurisdiction_id"]).id
    name = changes["name"].strip() if "name" in changes else unit.name
    _check_unique_name(session, jurisdiction_id, parent.id if parent else None, name, exclude=unit.id)
    unit.name, unit.kind, unit.parent_id = name, kind, parent.id if parent else None
    if "address" in changes:
        unit.address = clean(changes["address"])
    if "location" in changes:
        place(unit, changes["location"].to_stored() if changes["location"] else None)
    if jurisdiction_id != before_jurisdiction:
        unit.jurisdiction_id = jurisdiction_id
        moved = _descendants(session, unit)
        for child in moved:
            child.jurisdiction_id = jurisdiction_id
            sync.record(session, "unit", child.id, [before_jurisdiction, jurisdiction_id])
        staff = session.execute(select(Person).where(
            Person.unit_id.in_([unit.id] + [c.id for c in moved]), live(Person))).scalars()
        for person in staff:
            person.jurisdiction_id = jurisdiction_id
            sync.record(session, "person", person.id, [before_jurisdiction, jurisdiction_id])
    unit.updated_at = utcnow()
    session.flush()
    sync.record(session, "unit", unit.id, [before_jurisdiction, unit.jurisdiction_id])
    return unit


def delete_unit(session: Session, actor: User | None, unit: Unit) -> None:
    require_admin(actor, "the directory")
    children = session.execute(select(func.count(Unit.id)).where(Unit.parent_id == unit.id, live(Unit))).scalar_one()
    staff = session.execute(select(func.count(Person.id)).where(Person.unit_id == unit.id, live(Person))).scalar_one()
    if children or staff:
        raise Conflict(f"{unit.name} still has {children} unit(s) and {staff} person(s) below it; "
                       "delete or move them first.")
    unit.deleted_at = utcnow()
    session.flush()
    sync.record(session, "unit", unit.id, unit.jurisdiction_id)


def get_unit(session: Session, user: User, unit_id: uuid.UUID, *, action: str | None = None) -> Unit:
    """One live unit in scope; ``action`` (directory/policy.py): what the caller will do, checked first."""
    POLICY.require(user, action)
    return get_live(session, Unit, unit_id, user, "unit")


def units_query(user: User, *, parent_id: uuid.UUID | None = None, top_level: bool = False,
                kind: UnitKind | None = None, q: str | None = None) -> Select:
    stmt = select(Unit).where(live(Unit), in_scope(Unit.jurisdiction_id, user))
    if parent_id is not None:
        stmt = stmt.where(Unit.parent_id == parent_id)
    if top_level:
        stmt = stmt.where(Unit.parent_id.is_(None))
    if kind is not None:
        stmt = stmt.where(Unit.kind == kind)
    if q:
        stmt = stmt.where(text_matches(q, Unit.name, Unit.address))
    return stmt


def list_units(session: Session, user: User, filters: dict, area: Area, *, cursor: str | None, limit: int) -> Page:
    return located_page(session, user, units_query(user, **filters), [Unit.created_at, Unit.id], Unit.geom, area,
                        cursor=cursor, limit=limit, location_of=lambda u: u.location)


def load_units(session: Session, user: User, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Unit]:
    """The sync feed's view: the units among ``ids`` the user may see now."""
    rows = session.execute(units_query(user).where(Unit.id.in_(list(ids)))).scalars()
    return {u.id: u for u in rows}


# -- persons --------------------------------------------------------------------------------


def create_person(session: Session, actor: User | None, *, unit_id: uuid.UUID, name: str, post: str | None = None,
                  rank: PersonRank | None = None) -> Person:
    require_admin(actor, "the directory")
    unit = resolve_live(session, Unit, unit_id, actor, "unit_id", "unit")
    person = Person(unit_id=unit.id, unit=unit, jurisdiction_id=unit.jurisdiction_id, name=name.strip(),
                    post=clean(post), rank=PersonRank(rank) if rank else None)
    session.add(person)
    session.flush()
    sync.record(session, "person", person.id, person.jurisdiction_id)
    return person


def update_person(session: Session, actor: User | None, person: Person, changes: dict) -> Person:
    require_admin(actor, "the directory")
    before_jurisdiction = person.jurisdiction_id
    if "unit_id" in changes and changes["unit_id"] != person.unit_id:
        unit = resolve_live(session, Unit, changes["unit_id"], actor, "unit_id", "unit")
        person.unit_id, person.unit, person.jurisdiction_id = unit.id, unit, unit.jurisdiction_id
    if "name" in changes:
        person.name = changes["name"].strip()
    if "post" in changes:
        person.post = clean(changes["post"])
    if "rank" in changes:
        person.rank = PersonRank(changes["rank"]) if changes["rank"] else None
    person.updated_at = utcnow()
    session.flush()
    sync.record(session, "person", person.id, [before_jurisdiction, person.jurisdiction_id])
    return person


def delete_person(session: Session, actor: User | None, person: Person) -> None:
    require_admin(actor, "the directory")
    person.deleted_at = utcnow()
    session.flush()
    sync.record(session, "person", person.id, person.jurisdiction_id)


def get_person(session: Session, user: User, person_id: uuid.UUID, *, action: str | None = None) -> Person:
    POLICY.require(user, action)
    return get_live(session, Person, person_id, user, "person")


@keyed(Person.created_at, Person.id)
def persons_query(user: User, *, unit_id: uuid.UUID | None = None, rank: PersonRank | None = None,
                  q: str | None = None) -> Select:
    stmt = select(Person).where(live(Person), in_scope(Person.jurisdiction_id, user))
    stmt = narrowed(stmt, (Person.unit_id, unit_id), (Person.rank, rank))
    if q:
        stmt = stmt.where(text_matches(q, Person.name, Person.post))
    return stmt


def load_persons(session: Session, user: User, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Person]:
    rows = session.execute(persons_query(user).where(Person.id.in_(list(ids)))).scalars()
    return {p.id: p for p in rows}


sync.register_feed("unit", load_units)
sync.register_feed("person", load_persons)
