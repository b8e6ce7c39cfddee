"""Approval e-supervision (电子监察): the approval systems' push and import, matters, cases, alerts, figures.

Design: docs/service.md §2 and field/approvals/. Views authenticate; who may do what is
field/approvals/policy.py's.
"""

from __future__ import annotations

import uuid
from http import HTTPStatus

import marshmallow as ma
from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from evidence.storage import content_disposition
from field.approvals import alerts, cases as approval_cases, figures, imports, ingest, matters, policy
from field.approvals.models import ApprovalAlert, ApprovalCase, ApprovalMatter
from field.core.errors import InvalidInput
from field.core.pages import paginate
from field.core.spreadsheets import csv_chunks
from schemas import approvals as sch
from schemas.common import PageArgsSchema, page_of

from .auth import authenticated, current_user
from .clock import office_day
from .db import db, streamed

blp = Blueprint("approvals", __name__, url_prefix="/api/v1",
                description="E-supervision of administrative approvals (电子监察): matters and their time limits, "
                            "cases pushed by the approval systems, alerts in the office's queue, figures")

_CSV_BODY = {
    "required": True,
    "description": f"CSV, UTF-8 (BOM allowed) or GB18030, one event a row, columns: `{','.join(imports.COLUMNS)}` "
                   "(case_number, seq, type and at required; the others as the push's fields)",
    "content": {"text/csv": {"schema": {"type": "string"}, "example": (
        "case_number,seq,type,at,matter_code,applicant\n"
        "2026-QX-000123,1,accepted,2026-03-02T09:30:00+08:00,QX-001,重庆某某建设有限公司\n")}}}
_CSV_DOC = {"200": {"description": "UTF-8 CSV with a byte-order mark and a header row, streamed",
                    "content": {"text/csv": {"schema": {"type": "string"}}}}}


def _yellow_share() -> float:
    return float(current_app.config.get("APPROVAL_YELLOW_SHARE", ingest.DEFAULT_YELLOW_SHARE))


# -- the approval systems' doors ----------------------------------------------------------------


@blp.route("/approvals/events", methods=["POST"])
@blp.arguments(sch.ApprovalPushSchema)
@blp.response(200, sch.ApprovalIngestedSchema)
@blp.alt_response(403, response="FORBIDDEN")
@authenticated()
def push(body):
    """Push a batch of events (at most 1,000) from an approval system

    Idempotent: an event is keyed by (case_number, seq); sent again it changes nothing and is
    counted in ``duplicates``; the same key with another body is listed in ``conflicts``, not
    applied. The whole batch is refused (422 naming ``events.N.field``) when one event is invalid.
    """
    result = ingest.push(db(), current_user(), body["source_system"], body["events"], today=office_day(),
                         yellow_share=_yellow_share())
    return result


@blp.route("/approvals/import", methods=["POST"])
@blp.arguments(sch.ApprovalImportArgsSchema, location="query")
@blp.doc(requestBody=_CSV_BODY)
@blp.response(200, sch.ApprovalIngestedSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(413, response=HTTPStatus(413).name)
@blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
@authenticated()
def import_csv(args):
    """Import events as CSV, for an approval system that can only export (the push's rules)"""
    policy.require(current_user(), "push")
    if request.mimetype != "text/csv":
        abort(415, message="Send the events as text/csv.")
    if (request.content_length or 0) > imports.MAX_CSV_BYTES:
        abort(413, message=f"CSV files are limited to {imports.MAX_CSV_BYTES} bytes.")
    rows = imports.read_events(request.get_data(cache=True))
    schema = sch.ApprovalEventSchema()
    events = []
    for i, row in enumerate(rows):
        try:
            events.append(schema.load(row))
        except ma.ValidationError as exc:
            name, messages = next(iter(exc.normalized_messages().items()))
            raise InvalidInput(f"rows.{i}.{name}", " ".join(map(str, messages))) from None
    result = ingest.push(db(), current_user(), args["source_system"].strip(), events, today=office_day(),
                         yellow_share=_yellow_share(), prefix="rows.")
    return result


# -- matters ------------------------------------------------------------------------------------


@blp.route("/approval-matters")
class Matters(MethodView):
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(sch.ApprovalMatterSchema))
    @authenticated()
    def get(self, cursor, limit):
        """The matters of the caller's jurisdiction and below, by code"""
        return paginate(db(), matters.matters_query(current_user()), [ApprovalMatter.code, ApprovalMatter.id],
                        cursor=cursor, limit=limit)

    @blp.arguments(sch.ApprovalMatterCreateSchema)
    @blp.response(201, sch.ApprovalMatterSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @authenticated()
    def post(self, body):
        """Add a matter with its time limits (admins)"""
        matter = matters.create_matter(db(), current_user(), **body)
        return matter


@blp.route("/approval-matters/<uuid:matter_id>")
class MatterById(MethodView):
    @blp.response(200, sch.ApprovalMatterSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, matter_id: uuid.UUID):
        """One matter"""
        return matters.get_matter(db(), current_user(), matter_id)

    @blp.arguments(sch.ApprovalMatterUpdateSchema(partial=True))
    @blp.response(200, sch.ApprovalMatterSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def patch(self, body, matter_id: uuid.UUID):
        """Change a matter's name, unit or limits (admins); cases are measured anew at their next fold"""
        user = current_user()
        policy.require(user, "matters.write")
        matter = matters.get_matter(db(), user, matter_id)
        matters.update_matter(db(), user, matter, body)
        return matter


# -- cases --------------------------------------------------------------------------------------


@blp.route("/approval-cases")
@blp.arguments(sch.ApprovalCaseQuerySchema, location="query")
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, page_of(sch.ApprovalCaseSchema))
@authenticated()
def list_cases(query, cursor, limit):
    """Approval cases, latest accepted first (office staff: their scope; a key project's chief and
    secretary: its cases)"""
    stmt = approval_cases.cases_query(current_user(), **query)
    return paginate(db(), stmt, [ApprovalCase.created_at, ApprovalCase.id], cursor=cursor, limit=limit,
                    descending=True)


@blp.route("/approval-cases/export.csv")
@blp.arguments(sch.ApprovalCaseQuerySchema, location="query")
@blp.doc(responses=_CSV_DOC)
@authenticated()
def export_cases(query):
    """The cases of the list's filters as CSV for the office's spreadsheets"""
    stmt = approval_cases.cases_query(current_user(), **query)
    chunks = csv_chunks(approval_cases.EXPORT_HEADER, approval_cases.export_rows(db(), stmt))
    return Response(streamed(chunks), mimetype="text/csv",
                    headers={"Content-Disposition": content_disposition(f"approval-cases-{office_day()}.csv")})


@blp.route("/approval-cases/<uuid:approval_case_id>")
@blp.response(200, sch.ApprovalCaseDetailSchema)
@blp.alt_response(404, response="NOT_FOUND")
@authenticated()
def get_case(approval_case_id: uuid.UUID):
    """One case with its matter, steps, suspensions, notices and alerts"""
    return approval_cases.case_view(db(), current_user(), approval_case_id)


@blp.route("/approval-cases/<uuid:approval_case_id>/notices", methods=["POST"])
@blp.arguments(sch.ApprovalNoticeCreateSchema)
@blp.response(201, sch.ApprovalNoticeSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@authenticated()
def add_notice(body, approval_case_id: uuid.UUID):
    """Record a delay-feedback notice (滞办反馈告知书) shown to the office (office staff)"""
    user = current_user()
    policy.require(user, "notices.write")
    case = approval_cases.get_case(db(), user, approval_case_id)
    notice = approval_cases.record_notice(db(), user, case, **body)
    return notice


@blp.route("/approval-notices/<uuid:notice_id>/complaint", methods=["POST"])
@blp.arguments(sch.ApprovalNoticeAttachSchema)
@blp.response(200, sch.ApprovalNoticeSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@authenticated()
def attach_notice(body, notice_id: uuid.UUID):
    """Attach a notice to the office's case on a complaint about that approval (office staff)"""
    notice = approval_cases.attach_notice(db(), current_user(), notice_id, body["case_id"])
    return notice


# -- alerts -------------------------------------------------------------------------------------


@blp.route("/approval-alerts")
@blp.arguments(sch.ApprovalAlertQuerySchema, location="query")
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, page_of(sch.ApprovalAlertSchema))
@blp.alt_response(403, response="FORBIDDEN")
@authenticated()
def list_alerts(query, cursor, limit):
    """The office's queue of alerts, newest first (office staff)"""
    stmt = alerts.alerts_query(current_user(), **query)
    return paginate(db(), stmt, [ApprovalAlert.raised_at, ApprovalAlert.id], cursor=cursor, limit=limit,
                    descending=True)


@blp.route("/approval-alerts/scan", methods=["POST"])
@blp.response(200, sch.ApprovalScanSchema)
@blp.alt_response(403, response="FORBIDDEN")
@authenticated()
def scan():
    """Measure every running case again as of today: aged cases get their yellow and red alerts (office staff)"""
    folded, raised = alerts.scan(db(), current_user(), today=office_day(), yellow_share=_yellow_share())
    return {"cases_folded": folded, "alerts_raised": raised}


@blp.route("/approval-alerts/<uuid:alert_id>/case", methods=["POST"])
@blp.arguments(sch.ApprovalAlertCaseSchema)
@blp.response(201, sch.ApprovalOpenedSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@authenticated()
def alert_to_case(body, alert_id: uuid.UUID):
    """Open an office case from an alert (office staff); its subject is the matter's unit"""
    user = current_user()
    alert = alerts.get_alert(db(), user, alert_id)
    case = alerts.open_case(db(), user, alert, **body)
    return {"case_id": case.id, "number": case.number}


@blp.route("/approval-figures")
@blp.arguments(sch.ApprovalFiguresArgsSchema, location="query")
@blp.response(200, sch.ApprovalFiguresSchema)
@blp.alt_response(403, response="FORBIDDEN")
@authenticated()
def approval_figures(args):
    """Accepted, completed, within the limit (count and rate), average and median working days, against
    the previous period of the same length; overall or per unit or matter (office staff)"""
    return figures.figures(db(), current_user(), start=args["start"], end=args["end"], by=args["by"])
