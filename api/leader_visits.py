"""Leader visits to monitoring points and the visit-obligation compliance report (design: field/reports/leader_visits.py)."""

from __future__ import annotations


from flask import current_app
from flask_smorest import Blueprint

from field.reports import compliance as leader_compliance
from schemas.common import PageArgsSchema, page_of
from schemas.reports import (
    ComplianceArgsSchema,
    ComplianceSchema,
)

from .auth import authenticated, current_user
from .db import db

blp = Blueprint("leader_visits", __name__, url_prefix="/api/v1",
                description="Visits of monitoring points' leaders (挂包领导) and who is behind on their obligation")


def _far_m() -> float:
    return float(current_app.config["FAR_FROM_TARGET_M"])


@blp.route("/leader-compliance")
@blp.arguments(ComplianceArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, page_of(ComplianceSchema))
@authenticated()
def compliance(args, cursor, limit):
    """Each point's leader against their visit obligation over a period

    Office staff: every point with a leader in their scope; a leader: their own points.
    Weeks run Monday to Sunday, months and quarters are calendar ones, in China time.
    """
    return leader_compliance.compliance_page(db(), current_user(), args["period"], leader_id=args["leader_id"],
                                         cursor=cursor, limit=limit)
