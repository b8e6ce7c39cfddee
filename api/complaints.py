"""Complaints for staff: the hotline's intake, the office's triage, dispatch, callbacks and escalation, the units'
handlers' responses and answers (docs/complaints.md). Who may do what is field/complaints/policy.py's."""

from __future__ import annotations

import uuid

from flask import jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from field.complaints import categories, handling, intake, views, watch
from field.core.pages import page
from schemas.cases import AccountabilityCaseSchema
from schemas.common import PageArgsSchema, page_of
from schemas.sync import register_entity_schema
from schemas.complaints import (
    ComplaintAnswerInSchema,
    ComplaintCallbackInSchema,
    ComplaintCandidateSchema,
    ComplaintContactRequestSchema,
    ComplaintContactSchema,
    ComplaintDispatchSchema,
    ComplaintEscalateSchema,
    ComplaintHandlerUnitInSchema,
    ComplaintHandlerUnitSchema,
    ComplaintHotlineCallSchema,
    ComplaintQuerySchema,
    ComplaintReceiptSchema,
    ComplaintRespondSchema,
    ComplaintSchema,
    ComplaintTimeLimitInSchema,
    ComplaintTimeLimitSchema,
    ComplaintTriageSchema,
    HandlerComplaintSchema,
)

from .auth import authenticated, current_user
from .clock import office_day
from .db import db
from .idempotency import discloses_identity, holds_a_secret

blp = Blueprint("complaints", __name__, url_prefix="/api/v1",
                description="Complaints (投诉): the hotline's calls, triage, dispatch to the responsible unit, its "
                            "handler's answer, callbacks and ratings, escalation to a case (docs/complaints.md)")


#: A handler's phone holds its unit's complaints through the sync feed (field/complaints/feed.py), in the
#: handler's view whoever reads the feed: nothing that says who complained goes to a phone.
register_entity_schema("complaint", HandlerComplaintSchema())


def _one(complaint_id: uuid.UUID, action: str = "read"):
    return handling.get_complaint(db(), current_user(), complaint_id, action)


def _answer(complaint):
    """The view the caller's role gets: a handler's has no one who complained (its own schema)."""
    user = current_user()
    view = views.view_for(db(), user, complaint, office_day())
    if isinstance(view, views.HandlerView):
        return jsonify(HandlerComplaintSchema().dump(view))
    return view


@blp.route("/complaints")
class Complaints(MethodView):
    @authenticated()
    @blp.arguments(ComplaintQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(ComplaintSchema))
    def get(self, query, cursor, limit):
        """Complaints the caller sees (office, operators: scope; a handler: their unit's), newest first

        A handler's items have the handler's fields only (no one who complained)."""
        user, session = current_user(), db()
        found = page(session, handling.complaints_query, session, user, cursor=cursor, limit=limit,
                     state=query["state"], unit_id=query["unit_id"], category=query["category"])
        items = views.views_for(session, user, found.items, office_day())
        if user.role.value == "handler":
            return jsonify({"items": HandlerComplaintSchema(many=True).dump(items), "next_cursor": found.next_cursor})
        return {"items": items, "next_cursor": found.next_cursor}

    @holds_a_secret
    @authenticated()
    @blp.arguments(ComplaintHotlineCallSchema)
    @blp.response(201, ComplaintReceiptSchema)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body):
        """Record a hotline call (operator): answers the tracking number and the secret, once"""
        return intake.record_call(db(), current_user(), body)


@blp.route("/complaints/<uuid:complaint_id>")
class ComplaintById(MethodView):
    @authenticated()
    @blp.response(200, ComplaintSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, complaint_id):
        """One complaint (a handler's view has no one who complained)"""
        return _answer(_one(complaint_id))


@blp.route("/complaints/<uuid:complaint_id>/duplicates")
@authenticated()
@blp.response(200, ComplaintCandidateSchema(many=True))
@blp.alt_response(404, response="NOT_FOUND")
def duplicates(complaint_id):
    """Candidates for a merge: the same unit or enterprise, within 1 km or a similar text, 30 days around"""
    complaint = _one(complaint_id, "triage")
    return views.duplicate_candidates(db(), current_user(), complaint)


def _step(name: str, schema, doc: str, call):
    """POST /complaints/{id}/<name>: look the complaint up for the step's action, call the verb, answer the view."""

    def view(body, complaint_id):
        complaint = _one(complaint_id, call.action)
        call(db(), current_user(), complaint, body)
        return _answer(complaint)

    view.__name__ = f"complaint_{name}"
    view.__doc__ = doc
    view = blp.alt_response(422, response="UNPROCESSABLE_ENTITY")(blp.alt_response(404, response="NOT_FOUND")(view))
    view = blp.alt_response(409, response="CONFLICT")(view)  # a step the complaint's state does not allow now
    view = blp.response(200, ComplaintSchema)(view)
    view = blp.arguments(schema)(view)
    view = authenticated()(view)
    blp.route(f"/complaints/<uuid:complaint_id>/{name}", methods=["POST"])(view)


def _verb(action: str):
    def decorate(fn):
        fn.action = action
        return fn
    return decorate


@_verb("triage")
def _triage(session, user, complaint, body):
    handling.triage(session, user, complaint, body["decision"], duplicate_of=body["duplicate_of"],
                    reason=body["reason"], today=office_day())


@_verb("dispatch")
def _dispatch(session, user, complaint, body):
    handling.dispatch(session, user, complaint, body["unit_id"], today=office_day())


@_verb("respond")
def _respond(session, user, complaint, body):
    handling.respond(session, user, complaint, today=office_day())


@_verb("answer")
def _answer_it(session, user, complaint, body):
    handling.answer(session, user, complaint, text=body["text"], resolved=body["resolved"], today=office_day())


@_verb("call_back")
def _call_back(session, user, complaint, body):
    handling.call_back(session, user, complaint, today=office_day(), **body)


_step("triage", ComplaintTriageSchema, "Triage (office): accept, merge as a duplicate, or reject with a reason",
      _triage)
_step("dispatch", ComplaintDispatchSchema, "Dispatch to the responsible unit (office): the category's working-day "
      "limits count from today", _dispatch)
_step("respond", ComplaintRespondSchema, "The unit's handler acknowledges the complaint (the response)", _respond)
_step("answer", ComplaintAnswerInSchema, "The unit's handler answers", _answer_it)
_step("callbacks", ComplaintCallbackInSchema, "The office's callback: reached, resolved, the rating; a "
      "dissatisfied rating reopens the complaint", _call_back)


@blp.route("/complaints/<uuid:complaint_id>/escalate", methods=["POST"])
@authenticated()
@blp.arguments(ComplaintEscalateSchema)
@blp.response(201, AccountabilityCaseSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def escalate(body, complaint_id):
    """Open an accountability case from the complaint (office), in one call"""
    complaint = _one(complaint_id, "escalate")
    return handling.escalate(db(), current_user(), complaint, kind=body["kind"], title=body["title"],
                             today=office_day())


@blp.route("/complaints/<uuid:complaint_id>/contact", methods=["POST"])
@discloses_identity
@authenticated()
@blp.arguments(ComplaintContactRequestSchema)
@blp.response(200, ComplaintContactSchema)
@blp.alt_response(404, response="NOT_FOUND")
def contact(body, complaint_id):
    """Who to call back (office, operators): each disclosure is logged"""
    complaint = _one(complaint_id, "call_back")
    return views.callback_contact(db(), current_user(), complaint, reason=body["reason"])


@blp.route("/complaints/retaliation-watch")
@authenticated()
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, page_of(ComplaintSchema))
def retaliation_watch(cursor, limit):
    """Complaints by an enterprise whose unit inspected it within 90 days after (office)"""
    user, session = current_user(), db()
    found = page(session, watch.watch_query, session, user, cursor=cursor, limit=limit)
    return {"items": views.views_for(session, user, found.items, office_day()), "next_cursor": found.next_cursor}


@blp.route("/complaint-time-limits")
class ComplaintTimeLimits(MethodView):
    @authenticated()
    @blp.response(200, ComplaintTimeLimitSchema(many=True))
    def get(self):
        """Each category's response and answer limits in working days, in the caller's jurisdiction"""
        return categories.time_limits(db(), current_user())

    @authenticated()
    @blp.arguments(ComplaintTimeLimitInSchema)
    @blp.response(200, ComplaintTimeLimitSchema)
    def put(self, body):
        """Set a category's limits for the admin's jurisdiction and below (both null: back to the defaults)"""
        return categories.set_limits(db(), current_user(), body.pop("category"), **body)


@blp.route("/complaint-handlers/<uuid:handler_id>", methods=["PUT"])
@authenticated()
@blp.arguments(ComplaintHandlerUnitInSchema)
@blp.response(200, ComplaintHandlerUnitSchema)
@blp.alt_response(404, response="NOT_FOUND")
def assign_handler(body, handler_id):
    """Name the unit a handler answers complaints for (admin)"""
    return handling.assign_handler(db(), current_user(), handler_id, body["unit_id"])
