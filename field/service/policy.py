"""Who may do what with key projects and their problems (the domain's table; API views only authenticate).

Office staff (admin, reviewer) keep the projects and assignments of their scope; admins change them.
An official assigned to a project (chief, secretary) or an enterprise (department head), for the
assignment's period, sees it and its problems, raises problems and notes progress.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select

from field.core.errors import NotAllowed
from field.core.models.platform import OFFICE_ROLES, Role, User
from field.core.office import office_today
from field.core.scope import in_scope

from .models import KeyProject, ServiceAssignment, ServiceProblem

RULES = {
    "projects.write": frozenset({Role.admin}),     # key projects and assignments
    "problems.close": OFFICE_ROLES,               # solved / unsolved with the enterprise's word
    "problems.case": OFFICE_ROLES,
    "figures": OFFICE_ROLES,
    "obligations.write": frozenset({Role.admin}),  # visits per role and period, for the admin's jurisdiction
}


def require(user: User, operation: str) -> None:
    if user.role not in RULES[operation]:
        raise NotAllowed(f"Key projects: {operation} is for {', '.join(sorted(r.value for r in RULES[operation]))}.")


def assigned_ids(user: User, column):
    today = office_today()
    return select(column).where(ServiceAssignment.official_id == user.id, column.is_not(None),
                                ServiceAssignment.starts_on <= today,
                                or_(ServiceAssignment.ends_on.is_(None), ServiceAssignment.ends_on >= today))


def visible_projects(user: User) -> ColumnElement[bool]:
    if user.role in OFFICE_ROLES:
        return in_scope(KeyProject.jurisdiction_id, user)
    return KeyProject.id.in_(assigned_ids(user, ServiceAssignment.project_id))


def visible_problems(user: User) -> ColumnElement[bool]:
    if user.role in OFFICE_ROLES:
        return in_scope(ServiceProblem.jurisdiction_id, user)
    return or_(ServiceProblem.project_id.in_(assigned_ids(user, ServiceAssignment.project_id)),
               ServiceProblem.enterprise_id.in_(assigned_ids(user, ServiceAssignment.enterprise_id)))
