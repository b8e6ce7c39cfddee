"""Contact-point reports: what monitoring points' liaisons report about their enterprise (design: field/reports/reports.py)."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from field.reports import reports
from field.reports.models import ContactReport
from field.core.models.platform import Role
from field.core.pages import paginate
from schemas.common import PageArgsSchema, page_of
from schemas.reports import ReportAmendSchema, ReportCreateSchema, ReportQuerySchema, ReportSchema

from .auth import authenticated, current_user
from .db import db
from .located import located
from .submissions import receipt, status_of

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports",
                description="Contact-point reports by liaisons: enforcement visits (matched against approved "
                            "filings), problems, suggestions, ratings. Seen by the office and the point's own "
                            "liaisons and leader only")


@blp.route("")
class Reports(MethodView):
    @located(blp, geojson=True)
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(ReportSchema))
    @authenticated(Role.admin, Role.reviewer, Role.liaison, Role.leader)
    def get(self, query, cursor, limit):
        """Reports the caller may see, newest first (a liaison or leader: their points')"""
        stmt = reports.reports_query(current_user(), **query)
        return paginate(db(), stmt, [ContactReport.received_at, ContactReport.id], cursor=cursor, limit=limit,
                        descending=True)

    @located(blp)
    @blp.arguments(ReportCreateSchema)
    @blp.response(201, ReportSchema)
    @blp.alt_response(200, schema=ReportSchema, description="A repeat: the stored report")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated(Role.liaison)
    def post(self, body):
        """Report for the liaison's monitoring point

        Send it again as often as needed: the first sending answers 201, every repeat 200
        with the stored report; the same id with another body is a 409. An enforcement
        visit with no approved filing covering it is flagged unfiled.
        """
        report_id = body.pop("id")
        result = reports.submit_report(db(), receipt(), report_id, **body)
        return result.record, status_of(result)


@blp.route("/<uuid:report_id>")
class ReportById(MethodView):
    @located(blp)
    @blp.response(200, ReportSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, report_id: uuid.UUID):
        """One report"""
        return reports.get_report(db(), current_user(), report_id)

    @located(blp)
    @blp.arguments(ReportAmendSchema)
    @blp.response(200, ReportSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def put(self, body, report_id: uuid.UUID):
        """Amend a report the office asked more information about (its submitter)

        The whole report again, as a new version; it goes back to submitted. Sending the
        same amendment again changes nothing.
        """
        report = reports.get_report(db(), current_user(), report_id)
        note = body.pop("amendment_note")
        reports.amend_report(db(), current_user(), report, note=note, **body)
        return report
