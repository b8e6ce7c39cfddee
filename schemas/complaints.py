"""Bodies and answers of complaints: the hotline, the public door, the work order's steps, the three views."""

from __future__ import annotations

import marshmallow as ma

from field.cases.models import CaseKind
from field.complaints.categories import BY_CODE
from field.complaints.models import Channel, Rating, State

from .common import Line, LocationField, StrictSchema, Text

_CATEGORY_HELP = "One of " + ", ".join(f"{c.code} ({c.label_zh})" for c in BY_CODE.values())
MAX_TEXT = 4000


def _category(**kw):
    return ma.fields.String(validate=ma.validate.OneOf(list(BY_CODE)), metadata={"description": _CATEGORY_HELP},
                            **kw)


class _PlaceFields(StrictSchema):
    category = _category(required=True)
    text = Text(MAX_TEXT, required=True, metadata={"description": "What happened, in the complainant's words"})
    unit_id = ma.fields.UUID(load_default=None, metadata={"description": "The unit complained about, when known"})
    location = LocationField(load_default=None, allow_none=True, metadata={"description": "Where it happened"})
    address = Line(300, load_default=None, allow_none=True, metadata={"description": "Where it happened, in words"})


class ComplaintHotlineCallSchema(_PlaceFields):
    """A call to the hotline, recorded by an operator."""

    enterprise_id = ma.fields.UUID(load_default=None, metadata={
        "description": "The enterprise that complains (kept apart with the caller's identity)"})
    anonymous = ma.fields.Boolean(load_default=False, metadata={"description": "The caller asks for anonymity"})
    name = Line(100, load_default=None, allow_none=True, data_key="caller_name",
                metadata={"description": "Who called (kept apart; never shown to the unit)"})
    contact = Line(200, load_default=None, allow_none=True, data_key="callback_number",
                   metadata={"description": "The number to call back (kept apart; never shown to the unit)"})
    jurisdiction_id = ma.fields.UUID(load_default=None, metadata={"description": "Default: the operator's own"})


class PublicComplaintSchema(_PlaceFields):
    """A complaint filed by the public (the mailbox's JSON door)."""

    name = Line(100, load_default=None, allow_none=True, metadata={"description": "Optional; kept apart"})
    contact = Line(200, load_default=None, allow_none=True, metadata={
        "description": "Optional phone or e-mail for the callback; kept apart"})
    jurisdiction_code = Line(9, load_default=None, allow_none=True, metadata={
        "description": "The district or street (division code); default: the deployment's own office"})


class ComplaintReceiptSchema(ma.Schema):
    id = ma.fields.UUID(attribute="complaint.id")
    tracking_number = ma.fields.String()
    secret = ma.fields.String(metadata={"description": "Shown once: keep it to follow and rate the complaint"})
    state = ma.fields.Enum(State, attribute="complaint.state")


class ComplaintPublicReceiptSchema(ma.Schema):
    tracking_number = ma.fields.String()
    secret = ma.fields.String(metadata={"description": "Shown once: keep it to follow and rate the complaint"})


class ComplaintTriageSchema(StrictSchema):
    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(["accept", "merge", "reject"]))
    duplicate_of = ma.fields.UUID(load_default=None, metadata={"description": "merge: the complaint it repeats"})
    reason = Text(1000, load_default=None, allow_none=True, blank=True, metadata={"description": "reject: why"})


class ComplaintDispatchSchema(StrictSchema):
    unit_id = ma.fields.UUID(required=True, metadata={"description": "The responsible unit"})


class ComplaintAnswerInSchema(StrictSchema):
    text = Text(MAX_TEXT, required=True)
    resolved = ma.fields.Boolean(required=True, metadata={"description": "The unit says the problem is solved"})


class ComplaintCallbackInSchema(StrictSchema):
    reached = ma.fields.Boolean(required=True)
    resolved = ma.fields.Boolean(load_default=None, allow_none=True)
    rating = ma.fields.Enum(Rating, load_default=None, allow_none=True)
    text = Text(2000, load_default="", blank=True)
    close = ma.fields.Boolean(load_default=False, metadata={"description": "Not reached: close it all the same"})


class ComplaintEscalateSchema(StrictSchema):
    kind = ma.fields.Enum(CaseKind, load_default=CaseKind.efficiency_complaint)
    title = Line(200, load_default=None, allow_none=True)


class ComplaintContactRequestSchema(StrictSchema):
    reason = Text(500, required=True, metadata={"description": "Why (a callback): logged"})


class ComplaintContactSchema(ma.Schema):
    name = ma.fields.String(allow_none=True, metadata={"x-identity": "complainant"})
    contact = ma.fields.String(allow_none=True, metadata={"x-identity": "complainant"})
    anonymous = ma.fields.Boolean()


class ComplaintPhotoReceiptSchema(ma.Schema):
    sha256 = ma.fields.String(metadata={"description": "The photo as kept (SHA-256 of the bytes sent)"})
    photos = ma.fields.Integer(metadata={"description": "Photos the complaint now carries (at most 3)"})


class ComplaintFollowSchema(StrictSchema):
    tracking_number = Line(24, required=True)
    secret = Line(64, required=True)


class ComplaintRateSchema(ComplaintFollowSchema):
    rating = ma.fields.Enum(Rating, required=True)
    resolved = ma.fields.Boolean(load_default=None, allow_none=True)
    text = Text(2000, load_default="", blank=True)


class ComplaintQuerySchema(ma.Schema):
    state = ma.fields.Enum(State, load_default=None)
    unit_id = ma.fields.UUID(load_default=None)
    category = _category(load_default=None)


class ComplaintAnswerSchema(ma.Schema):
    round = ma.fields.Integer()
    text = ma.fields.String()
    resolved = ma.fields.Boolean()
    answered_at = ma.fields.AwareDateTime()


class ComplaintCallbackSchema(ma.Schema):
    round = ma.fields.Integer()
    source = ma.fields.String(attribute="source.value")
    reached = ma.fields.Boolean()
    resolved = ma.fields.Boolean(allow_none=True)
    rating = ma.fields.Enum(Rating, allow_none=True)
    text = ma.fields.String()
    recorded_at = ma.fields.AwareDateTime()


class HandlerComplaintSchema(ma.Schema):
    """What a unit's handler sees: no one who complained, nor whether they asked for anonymity."""

    id = ma.fields.UUID()
    tracking_number = ma.fields.String()
    state = ma.fields.Enum(State)
    category = ma.fields.String(attribute="category_code")
    text = ma.fields.String()
    unit_id = ma.fields.UUID(allow_none=True)
    location = LocationField(attribute="position", allow_none=True)
    address = ma.fields.String(allow_none=True)
    received_at = ma.fields.AwareDateTime()
    dispatched_on = ma.fields.Date(allow_none=True)
    response_due = ma.fields.Date(allow_none=True)
    answer_due = ma.fields.Date(allow_none=True)
    responded_on = ma.fields.Date(allow_none=True)
    answered_on = ma.fields.Date(allow_none=True)
    round = ma.fields.Integer()
    overdue = ma.fields.Boolean()
    answers = ma.fields.List(ma.fields.Nested(ComplaintAnswerSchema))
    updated_at = ma.fields.AwareDateTime()


class ComplaintSchema(HandlerComplaintSchema):
    """The office's and operators' view (a handler gets ``HandlerComplaintSchema``'s fields only)."""

    channel = ma.fields.Enum(Channel)
    anonymous = ma.fields.Boolean()
    contact_on_file = ma.fields.Boolean(metadata={"description": "A name or number to call back is kept apart"})
    retaliation_flag = ma.fields.Boolean(metadata={
        "description": "The unit inspected the complaining enterprise within 90 days after (office staff)"})
    taken_by_id = ma.fields.UUID(allow_none=True)
    triaged_at = ma.fields.AwareDateTime(allow_none=True)
    reject_reason = ma.fields.String(allow_none=True)
    duplicate_of_id = ma.fields.UUID(allow_none=True)
    due_provisional = ma.fields.Boolean()
    handling_working_days = ma.fields.Integer(allow_none=True)
    resolved = ma.fields.Boolean(allow_none=True)
    rating = ma.fields.Enum(Rating, allow_none=True)
    closed_on = ma.fields.Date(allow_none=True)
    case_id = ma.fields.UUID(allow_none=True)
    callbacks = ma.fields.List(ma.fields.Nested(ComplaintCallbackSchema))
    photos = ma.fields.Method("_photos")

    def _photos(self, obj):
        return [p.blob_sha256 for p in obj.photos]


class ComplaintCandidateSchema(ma.Schema):
    complaint = ma.fields.Nested(HandlerComplaintSchema(only=("id", "tracking_number", "state", "category", "text",
                                                              "unit_id", "received_at")))
    reasons = ma.fields.List(ma.fields.String(), metadata={
        "description": "same_unit, same_enterprise, nearby (1 km), similar_text"})
    distance_m = ma.fields.Float(allow_none=True)
    text_similarity = ma.fields.Float()


class ComplaintPublicStatusSchema(ma.Schema):
    tracking_number = ma.fields.String()
    state = ma.fields.Enum(State)
    category = ma.fields.String(attribute="category_code")
    received_at = ma.fields.AwareDateTime()
    answer_due = ma.fields.Date(allow_none=True)
    answers = ma.fields.List(ma.fields.String(), metadata={"description": "The unit's answers, oldest first"})
    rating = ma.fields.String(allow_none=True)
    may_rate = ma.fields.Boolean()


class ComplaintTimeLimitSchema(ma.Schema):
    category = ma.fields.String(attribute="category.code")
    label_zh = ma.fields.String(attribute="category.label_zh")
    label_en = ma.fields.String(attribute="category.label_en")
    response_days = ma.fields.Integer()
    answer_days = ma.fields.Integer()
    default_response_days = ma.fields.Integer(attribute="category.response_days")
    default_answer_days = ma.fields.Integer(attribute="category.answer_days")
    set_in = ma.fields.UUID(allow_none=True)


class ComplaintTimeLimitInSchema(StrictSchema):
    category = _category(required=True)
    response_days = ma.fields.Integer(load_default=None, allow_none=True, validate=ma.validate.Range(1, 30))
    answer_days = ma.fields.Integer(load_default=None, allow_none=True, validate=ma.validate.Range(1, 90))


class ComplaintHandlerUnitInSchema(StrictSchema):
    unit_id = ma.fields.UUID(required=True)


class ComplaintHandlerUnitSchema(ma.Schema):
    user_id = ma.fields.UUID()
    unit_id = ma.fields.UUID()
    assigned_at = ma.fields.AwareDateTime()


class ComplaintRespondSchema(StrictSchema):
    """No body needed: the acknowledgement is the call itself."""
