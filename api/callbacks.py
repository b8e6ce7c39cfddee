"""Callback sampling (抽件回头访): imported service cases, reproducible samples, callbacks (design: field/visits/callbacks.py)."""

from __future__ import annotations

import uuid
from http import HTTPStatus

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from field.visits import callbacks, findings, service_cases, visits
from field.core.pages import page
from schemas.common import PageArgsSchema, page_of
from schemas.visits import (
    CSV_HEADER,
    BatchArgsSchema,
    BatchSchema,
    CallbackFindingCreateSchema,
    CaseSchema,
    FindingSchema,
    SampleCreateSchema,
    SampleSchema,
)

from .auth import authenticated, before_reading, current_device, current_user
from .db import db
from .idempotency import discloses_identity
from .located import located
from .records import record_routes
from .submissions import receipt, status_of

blp = Blueprint("callbacks", __name__, url_prefix="/api/v1",
                description="Callback sampling (抽件回头访): the office imports completed service cases, draws a "
                            "reproducible random sample and assigns it to a squad (a visit task of method "
                            "callback); each call is recorded, and a problem heard can become a finding. "
                            "Office staff and the assigned squad only: 404 for anyone else")
before_reading(blp, visits.require_undercover_role)  # outsiders: 404 whatever they send (the domain's rule)

_CSV_BODY = {
    "required": True,
    "description": f"CSV, UTF-8 (BOM allowed) or GB18030, header: `{CSV_HEADER}` (applicant_name may be left "
                   "out). Dates as 2026-05-03, 2026/5/3 or 2026年5月3日. The unit is a directory unit's path "
                   "(区规划自然资源局/不动产登记中心) or a name unique in the jurisdiction; an unmatched one is kept "
                   "as text.",
    "content": {"text/csv": {"schema": {"type": "string"},
                             "example": f"{CSV_HEADER}\nJLP2026041500123,区规划自然资源局/不动产登记中心,"
                                        "不动产转移登记,2026-04-15,王女士,13800000000\n"}},
}


def _shown(page):
    """The page's cases with their outcomes; showing their applicants' contacts is logged first."""
    callbacks.show_cases(db(), current_user(), page.items, device_id=current_device().id)
    return page


# -- batches -----------------------------------------------------------------------------------


@blp.route("/callback-batches")
class Batches(MethodView):
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(BatchSchema))
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, cursor, limit):
        """Imported batches of service cases, newest first (office staff)"""
        return page(db(), callbacks.batches_query, current_user(), cursor=cursor, limit=limit)

    @blp.arguments(BatchArgsSchema, location="query")
    @blp.doc(requestBody=_CSV_BODY)
    @blp.response(201, BatchSchema)
    @blp.alt_response(200, schema=BatchSchema, description="The same file again: the batch it made")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(413, response=HTTPStatus(413).name)
    @blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
    @authenticated()
    def post(self, args):
        """Import completed service cases from a CSV (office staff)

        Rows with an error are listed in ``rejected`` (row, case number, reason); the
        others are imported. A case number already imported in the jurisdiction is
        refused, never duplicated; the same file posted again answers 200 with the batch
        it made and adds nothing.
        """
        if request.mimetype != "text/csv":
            abort(415, message="Send the cases as text/csv.")
        if (request.content_length or 0) > service_cases.MAX_CSV_BYTES:
            abort(413, message=f"CSV files are limited to {service_cases.MAX_CSV_BYTES} bytes.")
        batch, created = callbacks.import_batch(db(), current_user(), request.get_data(cache=True), **args)
        return batch, 201 if created else 200


@blp.route("/callback-batches/<uuid:batch_id>")
class BatchById(MethodView):
    @blp.response(200, BatchSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, batch_id: uuid.UUID):
        """One batch, with the rows its import refused (office staff)"""
        return callbacks.get_batch(db(), current_user(), batch_id)


@blp.route("/callback-batches/<uuid:batch_id>/cases")
class BatchCases(MethodView):
    @discloses_identity
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(CaseSchema))
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, batch_id: uuid.UUID, cursor, limit):
        """A batch's cases by case number, with their callback outcomes (office staff; logged in custody)"""
        batch = callbacks.get_batch(db(), current_user(), batch_id)
        return _shown(page(db(), callbacks.batch_cases_query, batch, cursor=cursor, limit=limit))


@blp.route("/callback-batches/<uuid:batch_id>/samples")
class BatchSamples(MethodView):
    @blp.arguments(SampleCreateSchema)
    @blp.response(201, SampleSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def post(self, body, batch_id: uuid.UUID):
        """Draw a random sample of a batch (office staff)

        ``size`` cases, or ``percent`` of the batch rounded up. The seed (given, or drawn
        and returned) with the batch reproduces the draw exactly: the batch's cases sorted
        by case number, a partial Fisher–Yates shuffle driven by Python's
        ``random.Random(seed).random()``. Assign the sample with a visit task of method
        ``callback``.
        """
        batch = callbacks.get_batch(db(), current_user(), batch_id)
        sample = callbacks.draw_sample(db(), current_user(), batch, **body)
        return callbacks.sample_view(db(), sample)


# -- samples -----------------------------------------------------------------------------------


@blp.route("/callback-samples")
class Samples(MethodView):
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(SampleSchema))
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, cursor, limit):
        """Samples drawn, newest first (office staff; each one's cases: GET /callback-samples/<id>)"""
        return page(db(), callbacks.samples_query, current_user(), cursor=cursor, limit=limit)


@blp.route("/callback-samples/<uuid:sample_id>")
class SampleById(MethodView):
    @blp.response(200, SampleSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, sample_id: uuid.UUID):
        """One sample: its seed, what was asked, and the case numbers in draw order (office staff)"""
        return callbacks.sample_view(db(), callbacks.get_sample(db(), current_user(), sample_id))


@blp.route("/callback-samples/<uuid:sample_id>/cases")
class SampleCases(MethodView):
    @discloses_identity
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(CaseSchema))
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, sample_id: uuid.UUID, cursor, limit):
        """A sample's cases by case number, with their callback outcomes (office staff; logged in custody)"""
        sample = callbacks.get_sample(db(), current_user(), sample_id)
        return _shown(page(db(), callbacks.sample_cases_query, sample.id, cursor=cursor, limit=limit))


# -- callbacks ---------------------------------------------------------------------------------


# Callbacks themselves: the record-kind seam's endpoints (api/records.py), on this blueprint.
record_routes(blp, "callback")


@blp.route("/callbacks/<uuid:callback_id>/findings")
class CallbackFindings(MethodView):
    @located(blp)
    @blp.arguments(CallbackFindingCreateSchema)
    @blp.response(201, FindingSchema)
    @blp.alt_response(200, schema=FindingSchema, description="A repeat: the stored finding")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body, callback_id: uuid.UUID):
        """Turn a problem heard on a callback into a finding (its caller, or office staff)

        The finding is linked to the callback; its unit defaults to the case's and its
        squad is the callback's. Offline-safe: the finding's id comes from the client.
        """
        callback = callbacks.get_callback(db(), current_user(), callback_id)
        result = findings.record_finding_from_callback(db(), receipt(), callback, body)
        return result.record, status_of(result)
