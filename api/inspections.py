"""Enterprise-inspection filings, compulsory-measure approvals, on-site inspection records (design: field/filings/)."""

from __future__ import annotations

import uuid

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from field.filings import inspections, inspectors, measures
from field.core.models.platform import Role
from field.core.pages import page
from schemas.common import PageArgsSchema, page_of
from schemas.inspections import (
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
from .db import db
from .located import located

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
    @authenticated()
    def get(self, user_id: uuid.UUID):
        """The unit an inspector works for"""
        return inspectors.get_assignment(db(), current_user(), user_id)

    @blp.arguments(InspectorUnitSetSchema)
    @blp.response(200, InspectorUnitSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def put(self, body, user_id: uuid.UUID):
        """Assign an inspector to a unit (a department or section); filings and records go to it"""
        row = inspectors.assign_unit(db(), current_user(), user_id, body["unit_id"])
        return row

    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
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


# -- compulsory measures ----------------------------------------------------------------------------


@blp.route("/compulsory-measures")
class Measures(MethodView):
    @blp.arguments(MeasureQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(MeasureSchema))
    @authenticated()
    def get(self, query, cursor, limit):
        """Compulsory-measure requests the caller may see, newest first"""
        return page(db(), measures.measures_query, current_user(), cursor=cursor, limit=limit, **query)

    @blp.arguments(MeasureCreateSchema)
    @blp.response(201, MeasureSchema)
    @authenticated()
    def post(self, body):
        """Ask the office to approve a compulsory measure (行政强制措施) against an enterprise

        Send an Idempotency-Key header to make a retry safe.
        """
        approval = measures.request_measure(db(), current_user(), **body)
        return approval


@blp.route("/compulsory-measures/<uuid:measure_id>")
@blp.response(200, MeasureSchema)
@blp.alt_response(404, response="NOT_FOUND")
@authenticated()
def get_measure(measure_id: uuid.UUID):
    """One compulsory-measure request"""
    return measures.get_measure(db(), current_user(), measure_id)


@blp.route("/compulsory-measures/<uuid:measure_id>/decision", methods=["POST"])
@blp.arguments(MeasureDecisionSchema)
@blp.response(200, MeasureSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@authenticated()
def decide_measure(body, measure_id: uuid.UUID):
    """Approve or reject a requested compulsory measure (once; a rejection needs a note)"""
    approval = measures.get_measure(db(), current_user(), measure_id, action="decide")
    measures.decide_measure(db(), current_user(), approval, body["state"], body["note"])
    return approval


# -- inspection records -----------------------------------------------------------------------------


# -- the office's list of unfiled inspections ------------------------------------------------------


@blp.route("/unfiled-inspections")
@located(blp, geojson=True)
@blp.arguments(UnfiledQuerySchema, location="query")
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, page_of(UnfiledSchema))
@authenticated()
def unfiled(query, cursor, limit):
    """Inspections with no approved filing behind them, newest first, whatever recorded them

    Inspection records and liaisons' enforcement-visit reports alike: every record flagged
    unfiled in the caller's scope.
    """
    return page(db(), inspections.unfiled_query, current_user(), cursor=cursor, limit=limit, **query)
