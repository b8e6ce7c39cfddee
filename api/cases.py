"""Accountability cases (问责 / 效能案件) for office staff: open, run on the clock, close, export.

Every endpoint here is for reviewers and admins; to anyone else each one answers 404, as
if cases did not exist (checked before the body is read). Write views call one function
of field/cases/ (the request's wrapper commits once: api/db.py); exports stream (field/cases/exports.py).
"""

from __future__ import annotations

import uuid

from flask import Response, g, request
from flask.views import MethodView
from flask_smorest import Blueprint

from evidence.storage import content_disposition
from field.cases import exports as case_exports, lifecycle as cases
from field.cases import complainants, evidence_zip, notices, parties, time_limits, view as case_view
from field.core.errors import AuthenticationFailed, NotFound
from field.cases.rules import require_office
from field.cases.models import Case, CaseKind
from field.cases.read_model import CaseView, case_view as read_case_view
from field.core.pages import page
from schemas.cases import (
    CaseCreateSchema,
    AccountabilityCaseDetailSchema,
    CaseQuerySchema,
    AccountabilityCaseSchema,
    CaseUpdateSchema,
    CaseComplainantSchema,
    CaseDelayNoticeInSchema,
    CaseDelayNoticeSchema,
    CaseDispositionInSchema,
    CaseDispositionSchema,
    CaseEvidenceSchema,
    CaseGateInSchema,
    CaseGateSchema,
    CaseNoticeInSchema,
    CaseNoticeSchema,
    CaseSourceInSchema,
    CaseSourceRefSchema,
    CaseSubjectInSchema,
    CaseSubjectSchema,
    CaseTimeLimitSchema,
    CaseTimeLimitUpdateSchema,
    CaseTimelineEntrySchema,
    CaseTransitionSchema,
    ComplainantUnmaskSchema,
)
from schemas.common import PageArgsSchema, page_of

from .auth import authenticated, current_device, current_user
from .clock import office_day
from .db import db, streamed
from .evidence import blob_store
from .idempotency import discloses_identity
from .located import GEOJSON_MIME, CrsArgsSchema, located

blp = Blueprint("cases", __name__, url_prefix="/api/v1",
                description="Accountability cases: sources, subjects, deadline and delay notices, the four "
                            "don't-let-go, dispositions, public notices, timeline, exports (office staff)")


@blp.before_request
def _case_before_the_body():
    """Before the request is read, the domain's answer for the case it names (``get_case``: office staff,
    in scope) or, for the others, the office rule: anyone else is told no case exists, whatever they
    send. The case found is the one the view works on: its office check ran once, here.

    Office staff naming a case they do not have get their body judged first, as for any other
    resource (a 422 before the 404): the view looks the case up again and answers 404 then."""
    try:
        user = current_user()
    except AuthenticationFailed:
        return None  # the view answers 401
    case_id = (request.view_args or {}).get("case_id")
    if case_id is None:
        require_office(user)
        return None
    try:
        g.case = cases.get_case(db(), user, case_id)
    except NotFound:
        require_office(user)  # an outsider: no case exists, whatever the body
    return None


def _case(case_id: uuid.UUID) -> Case:
    """The case the request names, as the hook above found it."""
    found = g.get("case")
    return found if found is not None and found.id == case_id else cases.get_case(db(), current_user(), case_id)


def _detail(case: Case) -> CaseView:
    return read_case_view(db(), case)


_CSV_DOC = {"200": {"description": "UTF-8 CSV with a byte-order mark (for Excel) and a header row, streamed",
                    "content": {"text/csv": {"schema": {"type": "string"}}}}}
_GEOJSON_DOC = {"200": {"description": "RFC 7946 FeatureCollection, streamed; a case's geometry is its first "
                                       "located source record's location, null when none has one",
                        "content": {GEOJSON_MIME: {"schema": {"type": "object"}}}}}
_ZIP_DOC = {"200": {"description": "ZIP: evidence/<sha256>.<ext>, MANIFEST.sha256 (sha256sum -c), custody.json, "
                                   "case.json, README.txt; streamed. X-Custody-Head names the export's custody "
                                   "entry (jurisdiction:seq:hash)",
                    "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}}


@blp.route("/cases")
class Cases(MethodView):
    @blp.arguments(CaseQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(AccountabilityCaseSchema))
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, query, cursor, limit):
        """Cases in your scope, newest first; ?overdue=true lists those past their deadline"""
        return page(db(), cases.cases_query, current_user(), cursor=cursor, limit=limit, **query)

    @blp.arguments(CaseCreateSchema)
    @blp.response(201, AccountabilityCaseDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @authenticated()
    def post(self, body):
        """Open a case from field records and/or a complaint the office took"""
        case = cases.open_case(db(), current_user(), **body)
        return _detail(case)


@blp.route("/cases/export.csv")
class CasesCsv(MethodView):
    @blp.arguments(CaseQuerySchema, location="query")
    @blp.doc(responses=_CSV_DOC)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, query):
        """The cases of the list's filters as CSV for the office's spreadsheets"""
        stmt = cases.cases_query(current_user(), **query)
        chunks = case_exports.csv_chunks(db(), stmt, office_day())
        return Response(streamed(chunks), mimetype="text/csv",
                        headers={"Content-Disposition": content_disposition(f"cases-{office_day()}.csv")})


@blp.route("/cases/export.geojson")
class CasesGeoJson(MethodView):
    @blp.arguments(CaseQuerySchema, location="query")
    @blp.arguments(CrsArgsSchema, location="query", as_kwargs=True)
    @blp.doc(responses=_GEOJSON_DOC)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, query, crs):
        """The cases of the list's filters as a GeoJSON FeatureCollection"""
        stmt = cases.cases_query(current_user(), **query)
        chunks = case_exports.geojson_chunks(db(), stmt, office_day(), crs)
        return Response(streamed(chunks), mimetype=GEOJSON_MIME)


@blp.route("/cases/<uuid:case_id>")
class CaseById(MethodView):
    @located(blp)
    @blp.response(200, AccountabilityCaseDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, case_id: uuid.UUID):
        """One case with its sources, subjects, clock, gates, outcomes and evidence"""
        return _detail(_case(case_id))

    @blp.arguments(CaseUpdateSchema)
    @blp.response(200, AccountabilityCaseDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def patch(self, body, case_id: uuid.UUID):
        """Change a running case's title, summary or handler"""
        case = _case(case_id)
        cases.update_case(db(), current_user(), case, body)
        return _detail(case)


@blp.route("/cases/<uuid:case_id>/transitions")
class CaseTransitions(MethodView):
    @blp.arguments(CaseTransitionSchema)
    @blp.response(200, AccountabilityCaseDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="Not allowed now: `allowed` lists what is; closing "
                                                             "without the four gates lists `missing_gates`")
    @authenticated()
    def post(self, body, case_id: uuid.UUID):
        """Move the case on (closing needs the four don't-let-go, dismissing a reason)"""
        case = _case(case_id)
        cases.transition(db(), current_user(), case, body["to"], body["reason"])
        return _detail(case)


@blp.route("/cases/<uuid:case_id>/sources")
class CaseSources(MethodView):
    @blp.arguments(CaseSourceInSchema)
    @blp.response(201, CaseSourceRefSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body, case_id: uuid.UUID):
        """Link another field record to the case"""
        source = cases.add_source(db(), current_user(), _case(case_id), body["record_id"])
        return source


@blp.route("/cases/<uuid:case_id>/subjects")
class CaseSubjects(MethodView):
    @blp.arguments(CaseSubjectInSchema)
    @blp.response(201, CaseSubjectSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body, case_id: uuid.UUID):
        """Name a unit or a person the case is about"""
        subject = parties.add_subject(db(), current_user(), _case(case_id), **body)
        return subject


@blp.route("/cases/<uuid:case_id>/subjects/<uuid:subject_id>")
class CaseSubjectById(MethodView):
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def delete(self, case_id: uuid.UUID, subject_id: uuid.UUID):
        """Remove a subject named by mistake (not one with a disposition)"""
        parties.remove_subject(db(), current_user(), _case(case_id), subject_id)


@blp.route("/cases/<uuid:case_id>/delay-notices")
class CaseDelayNotices(MethodView):
    @blp.arguments(CaseDelayNoticeInSchema)
    @blp.response(201, CaseDelayNoticeSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body, case_id: uuid.UUID):
        """The handler's delay notice (滞办告知书): reason and new date; kept, never changed"""
        notice = cases.record_delay_notice(db(), current_user(), _case(case_id), **body)
        return notice


@blp.route("/cases/<uuid:case_id>/gates")
class CaseGates(MethodView):
    @blp.arguments(CaseGateInSchema)
    @blp.response(201, CaseGateSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body, case_id: uuid.UUID):
        """Record one of the four don't-let-go (四个不放过) with its note and evidence"""
        gate = cases.record_gate(db(), current_user(), _case(case_id), **body)
        return gate


@blp.route("/cases/<uuid:case_id>/dispositions")
class CaseDispositions(MethodView):
    @blp.arguments(CaseDispositionInSchema)
    @blp.response(201, CaseDispositionSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body, case_id: uuid.UUID):
        """Record what was decided about a person or a unit of the case"""
        disposition = parties.record_disposition(db(), current_user(), _case(case_id), **body)
        return disposition


@blp.route("/cases/<uuid:case_id>/notices")
class CaseNotices(MethodView):
    @blp.arguments(CaseNoticeInSchema)
    @blp.response(201, CaseNoticeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body, case_id: uuid.UUID):
        """Record a public notice (通报) of the case; its text may name no monitor or complainant"""
        notice = notices.issue_notice(db(), current_user(), _case(case_id), **body)
        return notice


@blp.route("/cases/<uuid:case_id>/timeline")
class CaseTimeline(MethodView):
    @blp.response(200, CaseTimelineEntrySchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, case_id: uuid.UUID):
        """Everything that happened to the case, oldest first, from the custody log"""
        return case_view.timeline(db(), current_user(), _case(case_id))


@blp.route("/cases/<uuid:case_id>/evidence")
class CaseEvidence(MethodView):
    @blp.response(200, CaseEvidenceSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, case_id: uuid.UUID):
        """Every piece of evidence of the case with its custody summary and plausibility flags"""
        return case_view.case_evidence(db(), _case(case_id))


@blp.route("/cases/<uuid:case_id>/evidence.zip")
class CaseEvidenceZip(MethodView):
    @blp.doc(responses=_ZIP_DOC)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, case_id: uuid.UUID):
        """The case's evidence as a ZIP a third party can verify (logged as an export)"""
        case, store = _case(case_id), blob_store()
        export = evidence_zip.prepare_evidence_export(db(), current_user(), case, store,
                                                      device_id=current_device().id)
        head = f"{export.entry.jurisdiction_id}:{export.entry.seq}:{export.entry.hash}"
        return Response(streamed(evidence_zip.evidence_zip(db(), export, store)),
                        mimetype="application/zip",
                        headers={"Content-Disposition": content_disposition(export.filename),
                                 "X-Custody-Head": head, "Cache-Control": "no-store"})


@blp.route("/cases/<uuid:case_id>/complainant")
class CaseComplainant(MethodView):
    @discloses_identity
    @blp.arguments(ComplainantUnmaskSchema)
    @blp.response(200, CaseComplainantSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def post(self, body, case_id: uuid.UUID):
        """Who complained (admins only, with a reason; the disclosure is logged in the custody chain)

        A disclosure: never replayed (a request with an Idempotency-Key is refused), never cached.
        """
        contact = complainants.unmask_complainant(db(), current_user(), _case(case_id), reason=body["reason"],
                                                  device_id=current_device().id)
        return contact


@blp.route("/case-kinds")
class CaseKinds(MethodView):
    @blp.response(200, CaseTimeLimitSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self):
        """Kinds of case and their time limits in working days, as they apply in your jurisdiction"""
        return time_limits.time_limits(db(), current_user())


@blp.route("/case-kinds/<string:kind>")
class CaseKindByName(MethodView):
    @blp.arguments(CaseTimeLimitUpdateSchema)
    @blp.response(200, CaseTimeLimitSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def put(self, body, kind: str):
        """Set a kind's time limit for your jurisdiction and below (admins); running cases keep theirs"""
        limit = time_limits.set_time_limit(db(), current_user(), _kind(kind), body["working_days"])
        return limit

    @blp.response(200, CaseTimeLimitSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def delete(self, kind: str):
        """Go back to the limit inherited from above (or the default)"""
        limit = time_limits.set_time_limit(db(), current_user(), _kind(kind), None)
        return limit


def _kind(name: str) -> CaseKind:
    try:
        return CaseKind(name)
    except ValueError:
        raise NotFound("kind of case") from None
