"""The jurisdiction tree (province → city → district → street) and its boundaries."""

from __future__ import annotations

import re
import uuid

from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from field.core.pages import keyed
from field.core import geo
from field.core.errors import Conflict, InvalidInput, NotAllowed
from field.core.models.platform import LEVEL_DEPTH, Jurisdiction, JurisdictionLevel, Role, User
from field.core.scope import get_one, in_scope, jurisdiction_in_scope
from field.core.queries import narrowed
from .policy import POLICY

#: Digits of the code that a child shares with its parent, by the child's level:
#: 110000 → 110100 → 110105 → 110105001.
_SHARED_PREFIX = {JurisdictionLevel.city: 2, JurisdictionLevel.district: 4, JurisdictionLevel.street: 6}


def _check_code(code: str, level: JurisdictionLevel) -> None:
    want = 9 if level is JurisdictionLevel.street else 6
    if not re.fullmatch(rf"\d{{{want}}}", code):
        raise InvalidInput("code", f"A {level.value} code has {want} digits (GB/T 2260, GB/T 10114).")
    if level is JurisdictionLevel.province and not code.endswith("0000"):
        raise InvalidInput("code", "A province code ends in 0000.")
    if level is JurisdictionLevel.city and not code.endswith("00"):
        raise InvalidInput("code", "A city code ends in 00.")


def create_jurisdiction(
    session: Session, *, actor: User | None, code: str, name: str, level: JurisdictionLevel,
    parent_id: uuid.UUID | None = None, boundary: BaseGeometry | None = None,
) -> Jurisdiction:
    """Add a jurisdiction; ``actor`` None is the command line (the first province)."""
    POLICY.require(actor, "jurisdictions.change")
    level = JurisdictionLevel(level)
    _check_code(code, level)
    parent = None
    if actor is not None and actor.role is not Role.admin:
        raise NotAllowed("Only an admin manages jurisdictions.")
    if parent_id is not None:
        parent = session.get(Jurisdiction, parent_id)
        # Out of scope reads the same as absent: the caller learns nothing about other districts.
        if parent is None or (actor is not None and not jurisdiction_in_scope(parent, actor)):
            raise InvalidInput("parent_id", "No such jurisdiction.")
        if LEVEL_DEPTH[level] != LEVEL_DEPTH[parent.level] + 1:
            raise InvalidInput("level", f"A {level.value} cannot sit directly under a {parent.level.value}.")
        shared = _SHARED_PREFIX[level]
        if code[:shared] != parent.code[:shared]:
            raise InvalidInput("code", f"Must start with {parent.code[:shared]}, like its parent {parent.code}.")
    elif level is not JurisdictionLevel.province:
        raise InvalidInput("parent_id", f"A {level.value} needs a parent.")
    elif actor is not None:
        raise NotAllowed("Provinces are added from the command line.")
    if session.execute(select(Jurisdiction.id).where(Jurisdiction.code == code)).first():
        raise Conflict(f"A jurisdiction with code {code} exists.")
    try:
        shape = geo.as_multipolygon(boundary) if boundary is not None else None
    except ValueError as exc:
        raise InvalidInput("boundary", str(exc)) from None
    if shape is not None and not shape.is_valid:
        raise InvalidInput("boundary", "The boundary is not a valid polygon (self-intersecting?).")
    j = Jurisdiction(
        code=code, name=name.strip(), level=level, parent_id=parent.id if parent else None,
        path=(parent.path if parent else "/") + code + "/", boundary=geo.to_db(shape),
    )
    session.add(j)
    session.flush()
    return j


@keyed(Jurisdiction.code, Jurisdiction.id)
def jurisdictions_query(actor: User, *, parent_id: uuid.UUID | None = None,
                        level: JurisdictionLevel | None = None):
    stmt = select(Jurisdiction).where(in_scope(Jurisdiction.id, actor))
    stmt = narrowed(stmt, (Jurisdiction.parent_id, parent_id), (Jurisdiction.level, level))
    return stmt


def get_jurisdiction(session: Session, actor: User, jurisdiction_id: uuid.UUID, *,
                     action: str | None = None) -> Jurisdiction:
    POLICY.require(actor, action)
    return get_one(session, Jurisdiction, jurisdiction_id, "jurisdiction", in_scope(Jurisdiction.id, actor))


def update_jurisdiction(session: Session, actor: User, j: Jurisdiction, changes: dict) -> Jurisdiction:
    if actor.role is not Role.admin:
        raise NotAllowed("Only an admin manages jurisdictions.")
    if "name" in changes:
        j.name = changes["name"].strip()
    if "boundary" in changes:
        try:
            shape = geo.as_multipolygon(changes["boundary"]) if changes["boundary"] is not None else None
        except ValueError as exc:
            raise InvalidInput("boundary", str(exc)) from None
        j.boundary = geo.to_db(shape)
    session.flush()
    return j


def find_by_code(session: Session, code: str) -> Jurisdiction | None:
    return session.execute(select(Jurisdiction).where(Jurisdiction.code == code)).scalar_one_or_none()
