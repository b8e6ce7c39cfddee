"""Inspectors' units: which unit an inspector works for, and so what of filings, measures and inspection
records each user may see (office staff: their scope; an inspector: their unit's and their own)."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from field.core.errors import InvalidInput, NotAllowed, NotFound
from field.core.models.base import utcnow
from field.core.models.platform import OFFICE_ROLES, Jurisdiction, Role, User
from field.core.scope import get_in_scope, in_scope, jurisdiction_in_scope
from field.core.scoped import resolve_live
from field.directory.models import Enterprise, Unit, UnitKind
from field.records import lifecycle as records

from .models import InspectionFiling, InspectorUnit


#: Units an inspector may work for: enforcement is done by departments and their sections.
INSPECTING_UNIT_KINDS = frozenset({UnitKind.department, UnitKind.section})


def unit_of(session: Session, user: User) -> Unit | None:
    """The unit ``user`` inspects for, if they are an inspector assigned to a live one."""
    if user.role is not Role.inspector:
        return None
    row = session.get(InspectorUnit, user.id)
    if row is None or row.unit.deleted_at is not None:
        return None
    return row.unit


def _require_unit(session: Session, user: User) -> Unit:
    if user.role is not Role.inspector:
        raise NotAllowed("Only inspectors file inspections and record them.")
    unit = unit_of(session, user)
    if unit is None:
        raise NotAllowed("You are not assigned to a unit yet; an admin assigns inspectors to their unit.")
    return unit


def _inspector_in_scope(session: Session, actor: User, user_id: uuid.UUID) -> User:
    if actor.role is not Role.admin:
        raise NotAllowed("Only an admin assigns inspectors to units.")
    return get_in_scope(session, User, user_id, actor, "user")


def assign_unit(session: Session, actor: User, user_id: uuid.UUID, unit_id: uuid.UUID) -> InspectorUnit:
    """Set the unit an inspector works for (replacing any earlier one); records keep the unit they had."""
    user = _inspector_in_scope(session, actor, user_id)
    if user.role is not Role.inspector:
        raise InvalidInput("user_id", f"{user.display_name} is not an inspector (role {user.role.value}).")
    unit = resolve_live(session, Unit, unit_id, actor, "unit_id", "unit")
    if unit.kind not in INSPECTING_UNIT_KINDS:
        raise InvalidInput("unit_id", f"Inspectors work for a department or a section, not a {unit.kind.value}.")
    if not jurisdiction_in_scope(session.get(Jurisdiction, unit.jurisdiction_id), user):
        raise InvalidInput("unit_id", f"{unit.name} lies outside {user.display_name}'s jurisdiction.")
    row = session.get(InspectorUnit, user.id)
    if row is None:
        row = InspectorUnit(user_id=user.id)
        session.add(row)
    row.unit_id, row.unit, row.assigned_by_id, row.assigned_at = unit.id, unit, actor.id, utcnow()
    session.flush()
    return row


def get_assignment(session: Session, actor: User, user_id: uuid.UUID) -> InspectorUnit:
    user = _inspector_in_scope(session, actor, user_id)
    row = session.get(InspectorUnit, user.id)
    if row is None:
        raise NotFound("unit assignment")
    return row


def own_assignment(session: Session, user: User) -> InspectorUnit:
    row = session.get(InspectorUnit, user.id) if user.role is Role.inspector else None
    if row is None:
        raise NotFound("unit assignment")
    return row


def remove_assignment(session: Session, actor: User, user_id: uuid.UUID) -> None:
    session.delete(get_assignment(session, actor, user_id))
    session.flush()


def _unit_visible(user: User, jurisdiction_column, unit_column, submitter_column=None) -> ColumnElement[bool]:
    """Office staff: their scope. An inspector: their unit's (and what they submitted). Others: nothing."""
    scope = in_scope(jurisdiction_column, user)
    if user.role in OFFICE_ROLES:
        return scope
    if user.role is not Role.inspector:
        return false()
    mine = unit_column.in_(select(InspectorUnit.unit_id).where(InspectorUnit.user_id == user.id))
    if submitter_column is not None:
        mine = or_(mine, submitter_column == user.id)
    return and_(scope, mine)


def _require_reader(user: User) -> None:
    if user.role not in OFFICE_ROLES and user.role is not Role.inspector:
        raise NotAllowed("Inspection filings and records are for inspectors and office staff.")


def _visible_filings(user: User) -> ColumnElement[bool]:
    return _unit_visible(user, InspectionFiling.jurisdiction_id, InspectionFiling.unit_id,
                         InspectionFiling.submitted_by_id)


def _visible_filing(session: Session, user: User, filing_id: uuid.UUID) -> InspectionFiling | None:
    return session.execute(select(InspectionFiling).where(
        InspectionFiling.id == filing_id, _visible_filings(user))).scalar_one_or_none()


def _resolve_enterprise(session: Session, user: User, enterprise_id: uuid.UUID, field: str) -> Enterprise:
    return resolve_live(session, Enterprise, enterprise_id, user, field, "enterprise")
