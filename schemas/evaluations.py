"""Evaluations: questionnaires, campaigns, invitations, ballots, rectifications, results (api/evaluations.py)."""

from __future__ import annotations

import marshmallow as ma

from field.evaluations.models import CampaignKind, RaterKind, RectificationState, TargetKind
from field.evaluations.questionnaires import TYPES

from .common import Line, StrictSchema, Text

_NAME = ma.validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$", error="Lower-case letters, digits and _, starting with a "
                                                               "letter.")


class LabelSchema(StrictSchema):
    zh = Line(500, required=True)
    en = Line(500, blank=True, load_default=None)


class ChoiceSchema(StrictSchema):
    value = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[A-Za-z0-9_.-]{1,64}$"))
    label = ma.fields.Nested(LabelSchema, required=True)


class QuestionSchema(StrictSchema):
    name = ma.fields.String(required=True, validate=_NAME)
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(TYPES), metadata={
        "description": "grade5 (five grades, 5 非常满意 … 1 非常不满意), single, multiple, number, text"})
    required = ma.fields.Boolean(load_default=False)
    label = ma.fields.Nested(LabelSchema, required=True)
    choices = ma.fields.List(ma.fields.Nested(ChoiceSchema), load_default=None)
    weight = ma.fields.Float(load_default=1.0, validate=ma.validate.Range(0, 100), metadata={
        "description": "grade5: the question's weight in the weighted score"})
    weights = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.OneOf([k.value for k in TargetKind])),
                             values=ma.fields.Float(validate=ma.validate.Range(0, 100)), load_default=None,
                             metadata={"description": "grade5: another weight per target kind (0 leaves it out)"})


class QuestionnaireInSchema(StrictSchema):
    title = Line(200, required=True)
    questions = ma.fields.List(ma.fields.Nested(QuestionSchema), required=True)


class QuestionnaireSchema(ma.Schema):
    id = ma.fields.UUID()
    family_id = ma.fields.UUID()
    version = ma.fields.Integer()
    title = ma.fields.String()
    questions = ma.fields.List(ma.fields.Dict())
    locked = ma.fields.Function(lambda q: q.locked_at is not None, metadata={
        "description": "A campaign opened with this version: a change makes the next version"})
    created_at = ma.fields.AwareDateTime()


class TargetInSchema(StrictSchema):
    unit_id = ma.fields.UUID(load_default=None)
    person_id = ma.fields.UUID(load_default=None)


class TargetSchema(ma.Schema):
    id = ma.fields.UUID()
    kind = ma.fields.Enum(TargetKind)
    unit_id = ma.fields.UUID()
    person_id = ma.fields.UUID(allow_none=True)
    label = ma.fields.String()


class CampaignInSchema(StrictSchema):
    kind = ma.fields.Enum(CampaignKind, required=True)
    title = Line(200, required=True)
    opens_on = ma.fields.Date(required=True)
    closes_on = ma.fields.Date(required=True)
    questionnaire_id = ma.fields.UUID(required=True)
    targets = ma.fields.List(ma.fields.Nested(TargetInSchema), required=True, validate=ma.validate.Length(1, 500))
    rectify_days = ma.fields.Integer(load_default=5, metadata={"description": "Working days to answer a bad rating"})
    count_liaison_ratings = ma.fields.Boolean(load_default=True)
    previous_id = ma.fields.UUID(load_default=None, metadata={
        "description": "The campaign to compare with; by default the last one of the same kind"})


class CampaignSchema(ma.Schema):
    id = ma.fields.UUID()
    kind = ma.fields.Enum(CampaignKind)
    title = ma.fields.String()
    opens_on = ma.fields.Date()
    closes_on = ma.fields.Date()
    questionnaire_id = ma.fields.UUID()
    previous_id = ma.fields.UUID(allow_none=True)
    rectify_days = ma.fields.Integer()
    count_liaison_ratings = ma.fields.Boolean()
    opened_at = ma.fields.AwareDateTime(allow_none=True)
    targets = ma.fields.List(ma.fields.Nested(TargetSchema))
    created_at = ma.fields.AwareDateTime()


class CampaignQuerySchema(ma.Schema):
    kind = ma.fields.Enum(CampaignKind, load_default=None)


class RaterInSchema(StrictSchema):
    kind = ma.fields.Enum(RaterKind, required=True)
    enterprise_id = ma.fields.UUID(load_default=None)
    user_id = ma.fields.UUID(load_default=None)
    name = Line(100, load_default=None, metadata={"description": "citizen: the real name, for the callback"})
    phone = Line(32, load_default=None)


class InvitationInSchema(StrictSchema):
    target_id = ma.fields.UUID(required=True)
    rater = ma.fields.Nested(RaterInSchema, required=True)
    count = ma.fields.Integer(load_default=1, metadata={"description": "counter codes: how many to print"})


class InvitationSchema(ma.Schema):
    id = ma.fields.UUID()
    campaign_id = ma.fields.UUID()
    target_id = ma.fields.UUID()
    code = ma.fields.String()
    rater_kind = ma.fields.Enum(RaterKind)
    enterprise_id = ma.fields.UUID(allow_none=True)
    user_id = ma.fields.UUID(allow_none=True)
    used = ma.fields.Function(lambda i: i.used_at is not None)
    url = ma.fields.Function(lambda i: f"/e/{i.code}", metadata={"description": "The rater's page (public)"})
    created_at = ma.fields.AwareDateTime()


class InvitationListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(InvitationSchema))


class BallotInSchema(StrictSchema):
    code = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[A-Za-z0-9]{4,16}$"))
    answers = ma.fields.Dict(keys=ma.fields.String(validate=_NAME), required=True, metadata={
        "description": "question name → answer: grade5 1–5, single a choice's value, multiple a list of them, "
                       "number, text"})


class ReceiptSchema(ma.Schema):
    receipt_no = ma.fields.String()
    submitted_at = ma.fields.AwareDateTime()
    target = ma.fields.String()
    rectification = ma.fields.Boolean(metadata={"description": "A bad rating: the unit must answer it"})
    due_on = ma.fields.Date(allow_none=True)


class RectificationSchema(ma.Schema):
    """What the office and the rated unit read: never who rated (no ballot, code, enterprise or address)."""

    id = ma.fields.UUID()
    campaign_id = ma.fields.UUID()
    target_id = ma.fields.UUID()
    unit_id = ma.fields.UUID()
    state = ma.fields.Enum(RectificationState)
    complaint = ma.fields.Dict()
    opened_on = ma.fields.Date()
    due_on = ma.fields.Date()
    overdue = ma.fields.Boolean()
    answer = ma.fields.String(allow_none=True)
    answered_at = ma.fields.AwareDateTime(allow_none=True)
    verification_note = ma.fields.String(allow_none=True)
    verified_at = ma.fields.AwareDateTime(allow_none=True)
    reply = ma.fields.String(allow_none=True)
    appeal_reason = ma.fields.String(allow_none=True)
    appealed_at = ma.fields.AwareDateTime(allow_none=True)
    appeal_upheld = ma.fields.Boolean(allow_none=True)
    appeal_note = ma.fields.String(allow_none=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)
    case_id = ma.fields.UUID(allow_none=True)


class RectificationQuerySchema(ma.Schema):
    state = ma.fields.Enum(RectificationState, load_default=None)
    overdue = ma.fields.Boolean(load_default=None)
    campaign_id = ma.fields.UUID(load_default=None)


class AnswerInSchema(StrictSchema):
    text = Text(4000, required=True)


class VerifyInSchema(StrictSchema):
    accepted = ma.fields.Boolean(required=True)
    note = Text(4000, blank=True, load_default=None)
    reply = Text(4000, blank=True, load_default=None, metadata={
        "description": "Accepted: the answer shown to the rater on their page"})


class AppealInSchema(StrictSchema):
    reason = Text(4000, required=True)


class AppealDecisionInSchema(StrictSchema):
    upheld = ma.fields.Boolean(required=True)
    note = Text(4000, required=True)


class ReasonInSchema(StrictSchema):
    reason = Text(1000, required=True)


class RaterSchema(ma.Schema):
    """Who gave a bad rating: a disclosure (x-discloses-identity), for the office's callback only."""

    kind = ma.fields.String()
    code = ma.fields.String()
    submitted_at = ma.fields.AwareDateTime()
    enterprise = ma.fields.Dict(allow_none=True, metadata={"x-identity": "rater",
                                                           "description": "id, name, contact_name, contact_phone"})
    user = ma.fields.Dict(allow_none=True, metadata={"x-identity": "rater",
                                                     "description": "the liaison: id, username, display_name"})
    name = ma.fields.String(allow_none=True, metadata={"x-identity": "rater"})
    phone = ma.fields.String(allow_none=True, metadata={"x-identity": "rater"})
    address_flagged = ma.fields.Boolean()


class ResultsArgsSchema(ma.Schema):
    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(["json", "csv"]))


class ResultsSchema(ma.Schema):
    campaign_id = ma.fields.UUID()
    title = ma.fields.String()
    kind = ma.fields.String()
    opens_on = ma.fields.Date()
    closes_on = ma.fields.Date()
    previous = ma.fields.Dict(allow_none=True)
    ballots = ma.fields.Integer()
    targets = ma.fields.List(ma.fields.Dict())
    top = ma.fields.List(ma.fields.UUID())
    bottom = ma.fields.List(ma.fields.UUID())
    ties_at_edge = ma.fields.Boolean()
    most_satisfied = ma.fields.List(ma.fields.UUID())
    least_satisfied = ma.fields.List(ma.fields.UUID())
    months = ma.fields.List(ma.fields.Dict())
