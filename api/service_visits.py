"""Visit obligations per role, and the serving officials' visit compliance. The visits themselves are a record
kind (field/service/visits.py registers it): api/records.py serves /service-visits like every kind.

Design: field/service/visits.py, obligations.py and compliance.py; docs/service.md §1.
"""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from field.service import compliance, obligations
from schemas import service_visits as sch
from schemas.common import PageArgsSchema, page_of

from .auth import authenticated, current_user
from .clock import office_day
from .db import db

blp = Blueprint("service_visits", __name__, url_prefix="/api/v1",
                description="Visits of the officials serving key projects and enterprises (包保走访), the visits each "
                            "role owes, and who is behind")


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
