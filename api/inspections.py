"""Enterprise-inspection filings, compulsory-measure approvals, on-site inspection records (design: field/filings/)."""

from __future__ import annotations

import uuid

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from field.filings import filings, inspections, inspectors, measures
from field.core.models.records import FieldRecord
from field.core.models.platform import Role
from field.filings.models import CompulsoryMeasureApproval, InspectionFiling, InspectionRecord
from field.core.pages import paginate
from schemas.common import PageArgsSchema, page_of
from schemas.inspections import (
    FilingAmendSchema,
    FilingCreateSchema,
    FilingQuerySchema,
    FilingSchema,
    InspectionAmendSchema,
    InspectionCreateSchema,
    InspectionQuerySchema,
    InspectionSchema,
    InspectorUnitSchema,
    InspectorUnitSetSchema,
    MeasureCreateSchema,
    MeasureDecisionSchema,
    MeasureQuerySchema,
    MeasureSchema,
    UnfiledQuerySchema,
    UnfiledSchema,
)

from .auth import authenticated, current_user
from .clock import office_day
from .db import db
from .located import located
from .submissions import receipt, status_of

blp = Blueprint("inspections", __name__, url_prefix="/api/v1",
                description="Enterprise-inspection filings (涉企检查备案), compulsory-measure approvals and on-site "
                            "inspection records: inspectors of a unit and office staff")

#: Who may read inspection objects: office staff (their scope) and inspectors (their unit's).
READERS = (Role.admin, Role.reviewer, Role.inspector)
OFFICE = (Role.admin, Role.reviewer)


def _far_m() -> float:
    return float(current_app.config["FAR_FROM_TARGET_M"])


# -- inspectors' units ------------------------------------------------------------------------------


@blp.route("/inspectors/<uuid:user_id>/unit")
class InspectorUnitById(MethodView):
    @blp.response(200, InspectorUnitSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated(Role.admin)
    def get(self, user_id: uuid.UUID):
        """The unit an inspector works for"""
        return inspectors.get_assignment(db(), current_user(), user_id)

    @blp.arguments(InspectorUnitSetSchema)
    @blp.response(200, InspectorUnitSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated(Role.admin)
    def put(self, body, user_id: uuid.UUID):
        """Assign an inspector to a unit (a department or section); filings and records go to it"""
        row = inspectors.assign_unit(db(), current_user(), user_id, body["unit_id"])
        return row

    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated(Role.admin)
    def delete(self, user_id: uuid.UUID):
        """Take an inspector off their unit; they can file nothing until assigned again"""
        inspectors.remove_assignment(db(), current_user(), user_id)


@blp.route("/me/inspector-unit")
@blp.response(200, InspectorUnitSchema)
@blp.alt_response(404, response="NOT_FOUND")
@authenticated()
def my_unit():
    """The unit the calling inspector works for (404: none assigned)"""
    return inspectors.own_assignment(db(), current_user())


# -- filings ----------------------------------------------------------------------------------------


@blp.route("/inspection-filings")
class Filings(MethodView):
    @blp.arguments(FilingQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(FilingSchema))
    @authenticated(*READERS)
    def get(self, query, cursor, limit):
        """Filings the caller may see, newest first (an inspector: their unit's)"""
        stmt = filings.filings_query(current_user(), **query)
        return paginate(db(), stmt, [InspectionFiling.received_at, InspectionFiling.id], cursor=cursor,
                        limit=limit, descending=True)

    @blp.arguments(FilingCreateSchema)
    @blp.response(201, FilingSchema)
    @blp.alt_response(200, schema=FilingSchema, description="A repeat: the stored filing")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated(Role.inspector)
    def post(self, body):
        """File a planned inspection for the inspector's unit

        Safe to send again: 201 the first time, 200 with the stored filing after; the same id
        with another body is a 409. An ad_hoc window starting fewer than 5 working days after
        today (Asia/Shanghai, server clock) is a 422 on planned_start with ``earliest``, the
        first allowed day. Approval is the generic review (accepted = approved).
        """
        filing_id = body.pop("id")
        result = filings.file_inspection(db(), receipt(), filing_id, body, today=office_day())
        return result.record, status_of(result)


@blp.route("/inspection-filings/<uuid:filing_id>")
class FilingById(MethodView):
    @blp.response(200, FilingSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated(*READERS)
    def get(self, filing_id: uuid.UUID):
        """One filing"""
        return filings.get_filing(db(), current_user(), filing_id)

    @blp.arguments(FilingAmendSchema)
    @blp.response(200, FilingSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated(*READERS)
    def put(self, body, filing_id: uuid.UUID):
        """Amend a filing the office asked more information about (its filer)

        The whole filing again, as a new version, checked as if filed today; it goes back
        to submitted. Planned measures are not part of it: request more on their own.
        """
        filing = filings.get_filing(db(), current_user(), filing_id)
        note = body.pop("amendment_note")
        filings.amend_filing(db(), current_user(), filing, body, today=office_day(), comment=note)
        return filing


# -- compulsory measures ----------------------------------------------------------------------------


@blp.route("/compulsory-measures")
class Measures(MethodView):
    @blp.arguments(MeasureQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(MeasureSchema))
    @authenticated(*READERS)
    def get(self, query, cursor, limit):
        """Compulsory-measure requests the caller may see, newest first"""
        stmt = measures.measures_query(current_user(), **query)
        return paginate(db(), stmt, [CompulsoryMeasureApproval.created_at, CompulsoryMeasureApproval.id],
                        cursor=cursor, limit=limit, descending=True)

    @blp.arguments(MeasureCreateSchema)
    @blp.response(201, MeasureSchema)
    @authenticated(Role.inspector)
    def post(self, body):
        """Ask the office to approve a compulsory measure (行政强制措施) against an enterprise

        Send an Idempotency-Key header to make a retry safe.
        """
        approval = measures.request_measure(db(), current_user(), **body)
        return approval


@blp.route("/compulsory-measures/<uuid:measure_id>")
@blp.response(200, MeasureSchema)
@blp.alt_response(404, response="NOT_FOUND")
@authenticated(*READERS)
def get_measure(measure_id: uuid.UUID):
    """One compulsory-measure request"""
    return measures.get_measure(db(), current_user(), measure_id)


@blp.route("/compulsory-measures/<uuid:measure_id>/decision", methods=["POST"])
@blp.arguments(MeasureDecisionSchema)
@blp.response(200, MeasureSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@authenticated(*OFFICE)
def decide_measure(body, measure_id: uuid.UUID):
    """Approve or reject a requested compulsory measure (once; a rejection needs a note)"""
    approval = measures.get_measure(db(), current_user(), measure_id)
    measures.decide_measure(db(), current_user(), approval, body["state"], body["note"])
    return approval


# -- inspection records -----------------------------------------------------------------------------


@blp.route("/inspection-records")
class Inspections(MethodView):
    @located(blp, geojson=True)
    @blp.arguments(InspectionQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(InspectionSchema))
    @authenticated(*READERS)
    def get(self, query, cursor, limit):
        """Inspection records the caller may see, newest first (an inspector: their unit's)"""
        stmt = inspections.inspections_query(current_user(), **query)
        return paginate(db(), stmt, [InspectionRecord.received_at, InspectionRecord.id], cursor=cursor,
                        limit=limit, descending=True)

    @located(blp)
    @blp.arguments(InspectionCreateSchema)
    @blp.response(201, InspectionSchema)
    @blp.alt_response(200, schema=InspectionSchema, description="A repeat: the stored record")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated(Role.inspector)
    def post(self, body):
        """Record an on-site inspection (check-in, findings, measure) for the inspector's unit

        Safe to send again: 201 the first time, 200 with the stored record after; the same id
        with another body is a 409. A check-in farther from the enterprise than
        FAR_FROM_TARGET_M (beyond its accuracy) is flagged far_from_target; one with no
        approved or statutory filing covering the enterprise, unit and day is flagged
        unfiled. A compulsory measure not approved is a 409 naming it.
        """
        record_id = body.pop("id")
        result = inspections.record_inspection(db(), receipt(), record_id, body, far_threshold_m=_far_m())
        return result.record, status_of(result)


@blp.route("/inspection-records/<uuid:inspection_id>")
class InspectionById(MethodView):
    @located(blp)
    @blp.response(200, InspectionSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated(*READERS)
    def get(self, inspection_id: uuid.UUID):
        """One inspection record"""
        return inspections.get_inspection(db(), current_user(), inspection_id)

    @located(blp)
    @blp.arguments(InspectionAmendSchema)
    @blp.response(200, InspectionSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated(*READERS)
    def put(self, body, inspection_id: uuid.UUID):
        """Amend an inspection record the office asked more information about (its inspector)

        The whole record again, as a new version; distance and coverage are judged again.
        """
        record = inspections.get_inspection(db(), current_user(), inspection_id)
        note = body.pop("amendment_note")
        inspections.amend_inspection(db(), current_user(), record, body, far_threshold_m=_far_m(), comment=note)
        return record


# -- the office's list of unfiled inspections ------------------------------------------------------


@blp.route("/unfiled-inspections")
@located(blp, geojson=True)
@blp.arguments(UnfiledQuerySchema, location="query")
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, page_of(UnfiledSchema))
@authenticated(*OFFICE)
def unfiled(query, cursor, limit):
    """Inspections with no approved filing behind them, newest first, whatever recorded them

    Inspection records and liaisons' enforcement-visit reports alike: every record flagged
    unfiled in the caller's scope.
    """
    stmt = inspections.unfiled_query(current_user(), **query)
    return paginate(db(), stmt, [FieldRecord.received_at, FieldRecord.id], cursor=cursor, limit=limit,
                    descending=True)
