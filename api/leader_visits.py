"""Leader visits to monitoring points and the visit-obligation compliance report (design: field/reports/leader_visits.py)."""

from __future__ import annotations

import uuid

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from field.reports import compliance as leader_compliance, leader_visits
from field.reports.models import LeaderVisit
from field.core.models.platform import Role
from field.core.pages import paginate
from schemas.common import PageArgsSchema, page_of
from schemas.reports import (
    ComplianceArgsSchema,
    ComplianceSchema,
    LeaderVisitAmendSchema,
    LeaderVisitCreateSchema,
    LeaderVisitQuerySchema,
    LeaderVisitSchema,
)

from .auth import authenticated, current_user
from .db import db
from .located import located
from .submissions import receipt, status_of

blp = Blueprint("leader_visits", __name__, url_prefix="/api/v1",
                description="Visits of monitoring points' leaders (挂包领导) and who is behind on their obligation")


def _far_m() -> float:
    return float(current_app.config["FAR_FROM_TARGET_M"])


@blp.route("/leader-visits")
class LeaderVisits(MethodView):
    @located(blp, geojson=True)
    @blp.arguments(LeaderVisitQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(LeaderVisitSchema))
    @authenticated(Role.admin, Role.reviewer, Role.leader)
    def get(self, query, cursor, limit):
        """Visits the caller may see, latest visit first (a leader: to their points)"""
        stmt = leader_visits.visits_query(current_user(), **query)
        return paginate(db(), stmt, [LeaderVisit.visited_at, LeaderVisit.id], cursor=cursor, limit=limit,
                        descending=True)

    @located(blp)
    @blp.arguments(LeaderVisitCreateSchema)
    @blp.response(201, LeaderVisitSchema)
    @blp.alt_response(200, schema=LeaderVisitSchema, description="A repeat: the stored visit")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated(Role.leader)
    def post(self, body):
        """Log a visit to a point the caller leads

        Safe to send again: 201 the first time, 200 with the stored visit after; the same
        id with another body is a 409. A visit far from the enterprise is flagged, not refused.
        """
        visit_id = body.pop("id")
        result = leader_visits.log_visit(db(), receipt(), visit_id, far_m=_far_m(), **body)
        return result.record, status_of(result)


@blp.route("/leader-visits/<uuid:leader_visit_id>")
class LeaderVisitById(MethodView):
    @located(blp)
    @blp.response(200, LeaderVisitSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, leader_visit_id: uuid.UUID):
        """One visit"""
        return leader_visits.get_visit(db(), current_user(), leader_visit_id)

    @located(blp)
    @blp.arguments(LeaderVisitAmendSchema)
    @blp.response(200, LeaderVisitSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def put(self, body, leader_visit_id: uuid.UUID):
        """Amend a visit the office asked more information about (its leader)"""
        visit = leader_visits.get_visit(db(), current_user(), leader_visit_id)
        note = body.pop("amendment_note")
        leader_visits.amend_visit(db(), current_user(), visit, note=note, far_m=_far_m(), **body)
        return visit


@blp.route("/leader-compliance")
@blp.arguments(ComplianceArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, page_of(ComplianceSchema))
@authenticated(Role.admin, Role.reviewer, Role.leader)
def compliance(args, cursor, limit):
    """Each point's leader against their visit obligation over a period

    Office staff: every point with a leader in their scope; a leader: their own points.
    Weeks run Monday to Sunday, months and quarters are calendar ones, in China time.
    """
    return leader_compliance.compliance_page(db(), current_user(), args["period"], leader_id=args["leader_id"],
                                         cursor=cursor, limit=limit)
