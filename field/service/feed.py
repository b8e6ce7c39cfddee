"""The sync feed of key projects, assignments and problems to the officials serving them (and the office).

Entries carry an audience (field/core/sync.py): a project's changes reach the officials assigned to it now
(``key_project``/P), an enterprise's own problems its linked department heads (``enterprise_head``/E), an
assignment its official alone (``user``/U). A new assignment notes its project and the target's problems
again for the official's eyes (``user``/U): earlier entries lie behind the cursor of a phone that synced
before. The loaders apply the API's visibility, so an entry of a project the official no longer serves
comes as a tombstone. An assignment that lapses by its end date writes no entry: the official's copy goes
with the next change of the project (a known limit).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from field.core import sync
from field.core.models.changes import Change
from field.core.models.platform import OFFICE_ROLES, User
from field.core.scope import in_scope

from .models import KeyProject, ServiceAssignment, ServiceProblem
from .policy import assigned_ids, visible_problems, visible_projects


def note_project(session: Session, project: KeyProject, official_id: uuid.UUID | None = None) -> None:
    audience = sync.Audience("user", official_id) if official_id else sync.Audience("key_project", project.id)
    sync.record(session, "key_project", project.id, project.jurisdiction_id, audience)


def note_problem(session: Session, problem: ServiceProblem, official_id: uuid.UUID | None = None) -> None:
    if official_id is not None:
        audience = sync.Audience("user", official_id)
    elif problem.project_id is not None:
        audience = sync.Audience("key_project", problem.project_id)
    else:
        audience = sync.Audience("enterprise_head", problem.enterprise_id)
    sync.record(session, "service_problem", problem.id, problem.jurisdiction_id, audience)


def note_assignment(session: Session, assignment: ServiceAssignment) -> None:
    """The assignment for its official, and what it lets them see now."""
    official = assignment.official_id
    sync.record(session, "service_assignment", assignment.id, assignment.jurisdiction_id,
                sync.Audience("user", official))
    if assignment.project_id is not None:
        note_project(session, session.get(KeyProject, assignment.project_id), official)
    target = (ServiceProblem.project_id == assignment.project_id if assignment.project_id is not None
              else ServiceProblem.enterprise_id == assignment.enterprise_id)
    for problem in session.execute(select(ServiceProblem).where(target)).scalars():
        note_problem(session, problem, official)


def _load(model, visible):
    def load(session: Session, user: User, ids: list[uuid.UUID]) -> dict:
        rows = session.execute(select(model).where(model.id.in_(ids), visible(user))).scalars()
        return {row.id: row for row in rows}
    return load


def _own_assignments(user: User):
    if user.role in OFFICE_ROLES:
        return in_scope(ServiceAssignment.jurisdiction_id, user)
    return ServiceAssignment.official_id == user.id


sync.register_audience("key_project", lambda user: Change.audience_id.in_(
    assigned_ids(user, ServiceAssignment.project_id)))
sync.register_audience("enterprise_head", lambda user: Change.audience_id.in_(
    assigned_ids(user, ServiceAssignment.enterprise_id)))
sync.register_feed("key_project", _load(KeyProject, visible_projects))
sync.register_feed("service_problem", _load(ServiceProblem, visible_problems))
sync.register_feed("service_assignment", _load(ServiceAssignment, _own_assignments))

__all__ = ["note_project", "note_problem", "note_assignment"]
