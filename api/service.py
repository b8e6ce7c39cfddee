"""Key projects and enterprises under assigned service (包保 / 双百 / 365): projects, assignments, problems, figures.

Design: docs/service.md §1 and field/service/. Views authenticate; the rules are field/service/policy.py's.
"""

from __future__ import annotations

import json
import uuid

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from field.service import ledger, policy, problems, projects
from field.service.models import (EnterpriseOutcome, FourOnesEntry, KeyProject, ServiceAssignment,
                                  ServiceProblem)
from field.core.pages import paginate
from schemas import service as sch
from schemas.common import PageArgsSchema, page_of
from schemas.sync import register_entity_schema

from .auth import authenticated, current_user
from .clock import office_day
from .db import db
from .located import GEOJSON_MIME

register_entity_schema("key_project", sch.KeyProjectSchema())
register_entity_schema("service_assignment", sch.ServiceAssignmentSchema())
register_entity_schema("service_problem", sch.ServiceProblemSchema())

blp = Blueprint("service", __name__, url_prefix="/api/v1",
                description="Key projects and enterprises under assigned service (包保 / 双百 / 365): projects, the "
                            "officials serving them, the problems they raise and how fast they are solved")

_GEOJSON_DOC = {"200": {"description": "RFC 7946 FeatureCollection of the projects (WGS-84): the point, else the "
                                       "footprint", "content": {GEOJSON_MIME: {"schema": {"type": "object"}}}}}


@blp.route("/key-projects")
class Projects(MethodView):
    @blp.arguments(sch.KeyProjectQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(sch.KeyProjectSchema))
    @authenticated()
    def get(self, query, cursor, limit):
        """Key projects (office staff: their scope; an official: the projects they serve)"""
        return paginate(db(), projects.projects_query(current_user(), **query), [KeyProject.name, KeyProject.id],
                        cursor=cursor, limit=limit)

    @blp.arguments(sch.KeyProjectCreateSchema)
    @blp.response(201, sch.KeyProjectSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @authenticated()
    def post(self, body):
        """Add a key project (admins)"""
        project = projects.create_project(db(), current_user(), **body)
        return project


@blp.route("/key-projects/export.geojson")
@blp.arguments(sch.KeyProjectQuerySchema, location="query")
@blp.doc(responses=_GEOJSON_DOC)
@authenticated()
def export_projects(query):
    """The key projects of the list's filters as GeoJSON"""
    features = []
    for p in db().execute(projects.projects_query(current_user(), **query).order_by(KeyProject.name)).scalars():
        geometry = ({"type": "Point", "coordinates": [round(p.position.lon, 7), round(p.position.lat, 7)]}
                    if p.position else p.footprint_geojson)
        features.append({"type": "Feature", "id": str(p.id), "geometry": geometry, "properties": {
            "name": p.name, "stage": p.stage.value, "investment_10k": str(p.investment_10k),
            "enterprise_id": str(p.enterprise_id) if p.enterprise_id else None}})
    return Response(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    mimetype=GEOJSON_MIME)


@blp.route("/key-projects/<uuid:project_id>")
class ProjectById(MethodView):
    @blp.response(200, sch.KeyProjectSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, project_id: uuid.UUID):
        """One key project"""
        return projects.get_project(db(), current_user(), project_id)

    @blp.arguments(sch.KeyProjectUpdateSchema)
    @blp.response(200, sch.KeyProjectSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def patch(self, body, project_id: uuid.UUID):
        """Change a project: name, investment, place, stage (forward only) (admins)"""
        user = current_user()
        policy.require(user, "projects.write")
        project = projects.update_project(db(), user, projects.get_project(db(), user, project_id), body)
        return project


@blp.route("/service-assignments")
class Assignments(MethodView):
    @blp.arguments(sch.ServiceAssignmentQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(sch.ServiceAssignmentSchema))
    @authenticated()
    def get(self, query, cursor, limit):
        """Who serves what (office staff: their scope; an official: their own)"""
        return paginate(db(), projects.assignments_query(current_user(), **query),
                        [ServiceAssignment.starts_on, ServiceAssignment.id], cursor=cursor, limit=limit)

    @blp.arguments(sch.ServiceAssignmentCreateSchema)
    @blp.response(201, sch.ServiceAssignmentSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @authenticated()
    def post(self, body):
        """Assign an official to a project (chief, secretary) or an enterprise (department head) (admins)"""
        row = projects.assign(db(), current_user(), **body)
        return row


@blp.route("/key-projects/<uuid:project_id>/problems", methods=["POST"])
@blp.arguments(sch.ServiceProblemCreateSchema)
@blp.response(201, sch.ServiceProblemSchema)
@blp.alt_response(404, response="NOT_FOUND")
@authenticated()
def raise_problem(body, project_id: uuid.UUID):
    """Record a problem the project raised (office staff, or an official serving the project)"""
    user = current_user()
    problem = problems.raise_problem(db(), user, projects.get_project(db(), user, project_id), **body)
    return problem


@blp.route("/enterprises/<uuid:enterprise_id>/problems", methods=["POST"])
@blp.arguments(sch.ServiceProblemCreateSchema)
@blp.response(201, sch.ServiceProblemSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@authenticated()
def raise_enterprise_problem(body, enterprise_id: uuid.UUID):
    """Record a problem an enterprise raised outside any key project (office staff, or its linked department head)"""
    user = current_user()
    enterprise = problems.enterprise_problem_target(db(), user, enterprise_id)
    return problems.raise_problem(db(), user, None, enterprise=enterprise, **body)


@blp.route("/service-problems")
@blp.arguments(sch.ServiceProblemQuerySchema, location="query")
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, page_of(sch.ServiceProblemSchema))
@authenticated()
def list_problems(query, cursor, limit):
    """Problems the caller may see, newest first; ``overdue=true``: open past the deadline"""
    stmt = problems.problems_query(current_user(), today=office_day(), **query)
    return paginate(db(), stmt, [ServiceProblem.created_at, ServiceProblem.id], cursor=cursor, limit=limit,
                    descending=True)


@blp.route("/service-problems/<uuid:problem_id>")
@blp.response(200, sch.ServiceProblemSchema)
@blp.alt_response(404, response="NOT_FOUND")
@authenticated()
def get_problem(problem_id: uuid.UUID):
    """One problem with its progress"""
    return problems.get_problem(db(), current_user(), problem_id)


@blp.route("/service-problems/<uuid:problem_id>/progress", methods=["POST"])
@blp.arguments(sch.ServiceProgressSchema)
@blp.response(200, sch.ServiceProblemSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@authenticated()
def progress(body, problem_id: uuid.UUID):
    """Note progress on an open problem"""
    user = current_user()
    problem = problems.note_progress(db(), user, problems.get_problem(db(), user, problem_id), **body)
    return problem


@blp.route("/service-problems/<uuid:problem_id>/closure", methods=["POST"])
@blp.arguments(sch.ServiceClosureSchema)
@blp.response(200, sch.ServiceProblemSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@authenticated()
def closure(body, problem_id: uuid.UUID):
    """Solved or not, as the enterprise confirms it (office staff)"""
    user = current_user()
    policy.require(user, "problems.close")
    problem = problems.close(db(), user, problems.get_problem(db(), user, problem_id), **body)
    return problem


@blp.route("/service-problems/<uuid:problem_id>/case", methods=["POST"])
@blp.arguments(sch.ServiceProblemCaseSchema)
@blp.response(201, sch.ServiceProblemOpenedSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@authenticated()
def to_case(body, problem_id: uuid.UUID):
    """Escalate an overdue (or unsolved) problem to a case naming the units that had to act (office staff)"""
    user = current_user()
    policy.require(user, "problems.case")
    case = problems.open_case(db(), user, problems.get_problem(db(), user, problem_id), today=office_day(), **body)
    return {"case_id": case.id, "number": case.number}


@blp.route("/service-figures")
@blp.arguments(sch.ServiceFiguresArgsSchema, location="query")
@blp.response(200, sch.ServiceFigureRowSchema(many=True))
@blp.alt_response(403, response="FORBIDDEN")
@authenticated()
def service_figures(args):
    """Problems raised in the period, solved, unsolved, overdue, median working days to solve; per campaign"""
    return problems.figures(db(), current_user(), start=args["start"], end=args["end"], today=office_day())


@blp.route("/four-ones")
class FourOnes(MethodView):
    @blp.arguments(sch.FourOnesQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(sch.FourOnesSchema))
    @authenticated()
    def get(self, query, cursor, limit):
        """The four-ones ledger (四个一): office staff every official's in scope; an official their own"""
        return paginate(db(), ledger.ledger_query(current_user(), **query), [FourOnesEntry.year, FourOnesEntry.id],
                        cursor=cursor, limit=limit)

    @blp.arguments(sch.FourOnesCreateSchema)
    @blp.response(201, sch.FourOnesSchema)
    @authenticated()
    def post(self, body):
        """Write a line of one's own ledger"""
        entry = ledger.add_entry(db(), current_user(), **body)
        return entry


@blp.route("/enterprise-outcomes")
class Outcomes(MethodView):
    @blp.arguments(sch.EnterpriseOutcomeQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(sch.EnterpriseOutcomeSchema))
    @blp.alt_response(403, response="FORBIDDEN")
    @authenticated()
    def get(self, query, cursor, limit):
        """The enterprises' outcomes per period (office staff)"""
        return paginate(db(), ledger.outcomes_query(current_user(), **query),
                        [EnterpriseOutcome.period_start, EnterpriseOutcome.id], cursor=cursor, limit=limit)

    @blp.arguments(sch.EnterpriseOutcomeCreateSchema)
    @blp.response(201, sch.EnterpriseOutcomeSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @authenticated()
    def post(self, body):
        """Enter an enterprise's output growth and loss reduced for a period (office staff)"""
        row = ledger.record_outcome(db(), current_user(), **body)
        return row
