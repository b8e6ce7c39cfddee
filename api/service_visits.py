"""Service visits from the phone, visit obligations per role, and the serving officials' visit compliance.

Design: field/service/visits.py, obligations.py and compliance.py; docs/service.md §1.
"""

from __future__ import annotations

import uuid

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from field.core.pages import paginate
from field.service import compliance, obligations, visits
from field.service.models import ServiceVisit
from schemas import service_visits as sch
from schemas.common import PageArgsSchema, page_of

from .auth import authenticated, current_user
from .clock import office_day
from .db import db
from .located import located
from .submissions import receipt, status_of

blp = Blueprint("service_visits", __name__, url_prefix="/api/v1",
                description="Visits of the officials serving key projects and enterprises (包保走访), the visits each "
                            "role owes, and who is behind")


def _far_m() -> float:
    return float(current_app.config["FAR_FROM_TARGET_M"])


@blp.route("/service-visits")
class ServiceVisits(MethodView):
    @located(blp, geojson=True)
    @blp.arguments(sch.ServiceVisitQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(sch.ServiceVisitSchema))
    @authenticated()
    def get(self, query, cursor, limit):
        """Service visits the caller may see, latest first (office staff: their scope; an official: their own)"""
        stmt = visits.visits_query(current_user(), **query)
        return paginate(db(), stmt, [ServiceVisit.visited_at, ServiceVisit.id], cursor=cursor, limit=limit,
                        descending=True)

    @located(blp)
    @blp.arguments(sch.ServiceVisitCreateSchema)
    @blp.response(201, sch.ServiceVisitSchema)
    @blp.alt_response(200, schema=sch.ServiceVisitSchema, description="A repeat: the stored visit")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body):
        """Log a visit to a project the caller serves (chief, secretary) or an enterprise they are linked to

        Safe to send again: 201 the first time, 200 with the stored visit after; the same id with
        another body is a 409. Photos: upload them with this record's id (tus or multipart). A visit
        far from the project is flagged, not refused.
        """
        visit_id = body.pop("id")
        result = visits.log_visit(db(), receipt(), visit_id, far_m=_far_m(), **body)
        return result.record, status_of(result)


@blp.route("/service-visits/<uuid:service_visit_id>")
class ServiceVisitById(MethodView):
    @located(blp)
    @blp.response(200, sch.ServiceVisitSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, service_visit_id: uuid.UUID):
        """One service visit"""
        return visits.get_visit(db(), current_user(), service_visit_id)

    @located(blp)
    @blp.arguments(sch.ServiceVisitAmendSchema)
    @blp.response(200, sch.ServiceVisitSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def put(self, body, service_visit_id: uuid.UUID):
        """Amend a visit the office asked more information about (its official)"""
        visit = visits.get_visit(db(), current_user(), service_visit_id)
        note = body.pop("amendment_note")
        visits.amend_visit(db(), current_user(), visit, note=note, far_m=_far_m(), **body)
        return visit


@blp.route("/visit-obligations")
class VisitObligations(MethodView):
    @blp.response(200, sch.VisitObligationSchema(many=True))
    @authenticated()
    def get(self):
        """The visits each service role owes in the caller's jurisdiction (its own setting, an ancestor's, or the
        default)"""
        return obligations.obligations_for(db(), current_user())

    @blp.arguments(sch.VisitObligationSetSchema)
    @blp.response(200, sch.VisitObligationSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @authenticated()
    def put(self, body):
        """Set the visits a role owes per week or month, for the admin's jurisdiction and those below it (admins)"""
        return obligations.set_obligation(db(), current_user(), **body)


@blp.route("/service-compliance")
@blp.arguments(sch.ServiceComplianceArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, page_of(sch.ServiceComplianceSchema))
@authenticated()
def service_compliance(args, cursor, limit):
    """Each assignment against its role's visit obligation over a period

    Office staff: every assignment in their scope; an official: their own. Weeks run Monday to
    Sunday, months are calendar ones, in China time.
    """
    return compliance.compliance_page(db(), current_user(), args["period"], official_id=args["official_id"],
                                      campaign=args["campaign"], today=office_day(), cursor=cursor, limit=limit)
