"""Who may do what with approvals: the one table, read by the domain (API views only authenticate).

Office staff (admin, reviewer) act within their jurisdiction's subtree. The approval system pushes
with an admin account of its district. An official assigned as chief responsible or service
secretary of a key project sees the approval cases linked to that project (领办/代办), nothing else.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_, select

from field.core.errors import NotAllowed
from field.core.models.platform import OFFICE_ROLES, Role, User
from field.core.office import office_today
from field.core.scope import in_scope
from field.service.models import ServiceAssignment, ServiceRole

from .models import ApprovalCase

ADMIN = frozenset({Role.admin})
EVERYONE = frozenset(Role)

#: operation → the roles that may attempt it (objects are then looked up within scope).
RULES: dict[str, frozenset[Role]] = {
    "push": ADMIN,                     # POST /approvals/events, /approvals/import
    "matters.read": EVERYONE,          # the catalogue of matters is public within scope
    "matters.write": ADMIN,
    "cases.read": EVERYONE,            # filtered: office in scope, officials their projects' cases
    "notices.write": OFFICE_ROLES,
    "notices.attach": OFFICE_ROLES,
    "alerts": OFFICE_ROLES,            # the queue, the scan, opening a case from an alert
    "figures": OFFICE_ROLES,
}

#: The service roles that follow their project's approvals.
FOLLOWING_ROLES = (ServiceRole.chief, ServiceRole.secretary)


def require(user: User, operation: str) -> None:
    if user.role not in RULES[operation]:
        raise NotAllowed(f"Approvals: {operation} is for {', '.join(sorted(r.value for r in RULES[operation]))}.")


def visible_cases(user: User) -> ColumnElement[bool]:
    """The approval cases ``user`` may see: office staff their subtree; others those of projects they serve."""
    if user.role in OFFICE_ROLES:
        return in_scope(ApprovalCase.jurisdiction_id, user)
    today = office_today()
    served = select(ServiceAssignment.project_id).where(
        ServiceAssignment.official_id == user.id, ServiceAssignment.role.in_(FOLLOWING_ROLES),
        ServiceAssignment.project_id.is_not(None), ServiceAssignment.starts_on <= today,
        or_(ServiceAssignment.ends_on.is_(None), ServiceAssignment.ends_on >= today))
    return and_(in_scope(ApprovalCase.jurisdiction_id, user), ApprovalCase.key_project_id.in_(served))
