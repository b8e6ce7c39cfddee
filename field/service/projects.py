"""Key projects and the officials assigned to them (docs/service.md §1)."""

from __future__ import annotations

import uuid
from datetime import date

from shapely.geometry import MultiPolygon, Point, shape
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from field.core import geo
from field.core.errors import Conflict, InvalidInput
from field.core.models.platform import User
from field.core.scope import get_one, in_scope
from field.directory.models import Enterprise

from .models import Campaign, KeyProject, ProjectStage, ServiceAssignment, ServiceRole
from .feed import note_assignment, note_project
from .policy import require, visible_projects

STAGES = list(ProjectStage)


def projects_query(actor: User, *, stage: ProjectStage | None = None, campaign: Campaign | None = None) -> Select:
    stmt = select(KeyProject).where(visible_projects(actor))
    if stage is not None:
        stmt = stmt.where(KeyProject.stage == stage)
    if campaign is not None:
        stmt = stmt.where(KeyProject.id.in_(select(ServiceAssignment.project_id).where(
            ServiceAssignment.campaign == campaign)))
    return stmt


def get_project(session: Session, actor: User, project_id: uuid.UUID) -> KeyProject:
    return get_one(session, KeyProject, project_id, "key project", visible_projects(actor))


def _enterprise(session: Session, actor: User, enterprise_id, field: str = "enterprise_id") -> Enterprise:
    found = session.execute(select(Enterprise).where(Enterprise.id == enterprise_id, Enterprise.deleted_at.is_(None),
                                                     in_scope(Enterprise.jurisdiction_id, actor))).scalar_one_or_none()
    if found is None:
        raise InvalidInput(field, "No such enterprise.")
    return found


def _geometry(values: dict) -> dict:
    out = {}
    if values.get("location") is not None:
        loc = values["location"].to_stored("location")
        out["location"] = geo.to_db(Point(loc.lon, loc.lat))
    if values.get("footprint") is not None:
        geom = values["footprint"]
        geom = geom if hasattr(geom, "geom_type") else shape(geom)
        if geom.geom_type == "Polygon":
            geom = MultiPolygon([geom])
        if geom.geom_type != "MultiPolygon" or not geom.is_valid:
            raise InvalidInput("footprint", "A valid Polygon or MultiPolygon.")
        out["footprint"] = geo.to_db(geom)
    return out


def create_project(session: Session, actor: User, *, name: str, investment_10k, stage: ProjectStage = STAGES[0],
                   enterprise_id: uuid.UUID | None = None, location=None, footprint=None) -> KeyProject:
    require(actor, "projects.write")
    if enterprise_id is not None:
        _enterprise(session, actor, enterprise_id)
    project = KeyProject(jurisdiction_id=actor.jurisdiction_id, name=name.strip(), investment_10k=investment_10k,
                         stage=ProjectStage(stage), enterprise_id=enterprise_id,
                         **_geometry({"location": location, "footprint": footprint}))
    session.add(project)
    session.flush()
    note_project(session, project)
    return project


def update_project(session: Session, actor: User, project: KeyProject, changes: dict) -> KeyProject:
    """Name, investment, place; the stage moves forward only (planned → … → in production)."""
    require(actor, "projects.write")
    if "stage" in changes:
        new = ProjectStage(changes.pop("stage"))
        if STAGES.index(new) < STAGES.index(project.stage):
            raise Conflict(f"A project moves forward: it is {project.stage.value} already.")
        project.stage = new
    if changes.get("enterprise_id") is not None:
        _enterprise(session, actor, changes["enterprise_id"])
    for key, value in _geometry(changes).items():
        setattr(project, key, value)
    for key in ("name", "investment_10k", "enterprise_id"):
        if key in changes:
            setattr(project, key, changes[key].strip() if key == "name" else changes[key])
    session.flush()
    note_project(session, project)
    return project


def assign(session: Session, actor: User, *, official_id: uuid.UUID, role: ServiceRole, campaign: Campaign,
           starts_on: date, ends_on: date | None = None, project_id: uuid.UUID | None = None,
           enterprise_id: uuid.UUID | None = None) -> ServiceAssignment:
    """An official serves a project (chief, secretary) or an enterprise (department head) over a period."""
    require(actor, "projects.write")
    role = ServiceRole(role)
    if (project_id is None) == (enterprise_id is None):
        raise InvalidInput("project_id", "Name a key project or an enterprise.")
    if role is ServiceRole.department_head and enterprise_id is None:
        raise InvalidInput("enterprise_id", "A department head is linked to an enterprise.")
    if project_id is not None:
        get_one(session, KeyProject, project_id, "key project", in_scope(KeyProject.jurisdiction_id, actor))
    else:
        _enterprise(session, actor, enterprise_id)
    official = session.get(User, official_id)
    if official is None or not official.jurisdiction.path.startswith(actor.jurisdiction.path):
        raise InvalidInput("official_id", "No such official.")
    if ends_on is not None and ends_on < starts_on:
        raise InvalidInput("ends_on", "Ends before it starts.")
    row = ServiceAssignment(jurisdiction_id=actor.jurisdiction_id, project_id=project_id,
                            enterprise_id=enterprise_id, official_id=official_id, role=role,
                            campaign=Campaign(campaign), starts_on=starts_on, ends_on=ends_on)
    session.add(row)
    session.flush()
    note_assignment(session, row)
    return row


def assignments_query(actor: User, *, official_id: uuid.UUID | None = None) -> Select:
    stmt = select(ServiceAssignment).where(in_scope(ServiceAssignment.jurisdiction_id, actor))
    if actor.role.value not in ("admin", "reviewer"):
        stmt = stmt.where(ServiceAssignment.official_id == actor.id)
    if official_id is not None:
        stmt = stmt.where(ServiceAssignment.official_id == official_id)
    return stmt
