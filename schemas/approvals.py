"""Schemas of approval e-supervision: matters, events pushed or imported, cases, alerts, figures (docs/service.md)."""

from __future__ import annotations

import marshmallow as ma

from field.approvals.fold import EVENT_TYPES, OUTCOMES
from field.approvals.models import AlertLevel, AlertState, CaseState, NoticeKind, Outcome

from .common import Line, StrictSchema, Text

_AT = "2026-03-02T09:30:00+08:00"


class ApprovalMatterCreateSchema(StrictSchema):
    code = Line(64, required=True, metadata={"description": "The approval system's matter code", "example": "QX-001"})
    name = Line(200, required=True, metadata={"example": "建设工程规划许可"})
    unit_id = ma.fields.UUID(load_default=None, metadata={"description": "The unit that handles the matter"})
    legal_limit_days = ma.fields.Integer(strict=True, required=True, validate=ma.validate.Range(1, 365),
                                         metadata={"description": "法定时限, working days", "example": 20})
    promised_limit_days = ma.fields.Integer(strict=True, load_default=None, validate=ma.validate.Range(1, 365),
                                            metadata={"description": "承诺时限, working days: what cases are "
                                                                     "measured against", "example": 5})
    deemed_approval = ma.fields.Boolean(load_default=False, metadata={
        "description": "超时默认: silence past the limit counts as consent"})
    yellow_share = ma.fields.Float(load_default=None, validate=ma.validate.Range(0.1, 1.0), metadata={
        "description": "Share of the limit at which a yellow alert is raised (default: the app's, 0.8)"})


class ApprovalMatterUpdateSchema(ApprovalMatterCreateSchema):
    code = Line(64)
    name = Line(200)
    unit_id = ma.fields.UUID(allow_none=True)
    legal_limit_days = ma.fields.Integer(strict=True, validate=ma.validate.Range(1, 365))
    promised_limit_days = ma.fields.Integer(strict=True, allow_none=True, validate=ma.validate.Range(1, 365))
    deemed_approval = ma.fields.Boolean()
    yellow_share = ma.fields.Float(allow_none=True, validate=ma.validate.Range(0.1, 1.0))


class ApprovalMatterSchema(ma.Schema):
    id = ma.fields.UUID()
    code = ma.fields.String()
    name = ma.fields.String()
    unit_id = ma.fields.UUID(allow_none=True)
    legal_limit_days = ma.fields.Integer()
    promised_limit_days = ma.fields.Integer(allow_none=True)
    limit_days = ma.fields.Integer(metadata={"description": "The promised limit, else the legal one"})
    deemed_approval = ma.fields.Boolean()
    yellow_share = ma.fields.Float(allow_none=True)


class ApprovalEventSchema(StrictSchema):
    case_number = Line(64, required=True, metadata={"description": "The source system's case number (办件编号)",
                                                    "example": "2026-QX-000123"})
    seq = ma.fields.Integer(strict=True, required=True, validate=ma.validate.Range(1, 1_000_000), metadata={
        "description": "The event's number within its case: the same (case, seq) again is a replay"})
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(EVENT_TYPES))
    at = ma.fields.AwareDateTime(required=True, metadata={"example": _AT})
    matter_code = Line(64, metadata={"description": "accepted: the matter"})
    applicant = Line(200, metadata={"description": "accepted: who applied (an enterprise)"})
    key_project_id = ma.fields.UUID(metadata={"description": "accepted: 领办/代办 key project"})
    step = Line(64, metadata={"description": "step_*: the step's key in the source system"})
    step_name = Line(200)
    unit_id = ma.fields.UUID(metadata={"description": "step_*: the unit doing the step"})
    parallel_group = ma.fields.Integer(strict=True, validate=ma.validate.Range(0, 1000), metadata={
        "description": "step_*: steps of one group run in parallel; groups follow one another"})
    outcome = ma.fields.String(validate=ma.validate.OneOf(OUTCOMES))
    reason = Text(2000, metadata={"description": "suspended (补正) or notice: why"})
    notice_kind = ma.fields.Enum(NoticeKind, by_value=True)
    handler_name = Line(100, metadata={"description": "notice: the handler who signed it"})
    issued_on = ma.fields.Date()

    @ma.post_load
    def _plain(self, data, **kwargs):
        if data.get("notice_kind") is not None:
            data["notice_kind"] = data["notice_kind"].value
        return data


_EXAMPLE = {"source_system": "qx-approvals", "events": [
    {"case_number": "2026-QX-000123", "seq": 1, "type": "accepted", "at": _AT, "matter_code": "QX-001",
     "applicant": "重庆某某建设有限公司"},
    {"case_number": "2026-QX-000123", "seq": 2, "type": "step_started", "at": "2026-03-02T10:00:00+08:00",
     "step": "review-a", "step_name": "规划审查", "parallel_group": 1},
    {"case_number": "2026-QX-000123", "seq": 3, "type": "suspended", "at": "2026-03-03T09:00:00+08:00",
     "reason": "补正材料"},
]}


class ApprovalPushSchema(StrictSchema):
    source_system = Line(64, required=True, metadata={"description": "Which approval system sends"})
    events = ma.fields.List(ma.fields.Nested(ApprovalEventSchema), required=True, validate=ma.validate.Length(0, 1000))

    class Meta:
        unknown = ma.RAISE
        example = _EXAMPLE


class ApprovalIngestedSchema(ma.Schema):
    received = ma.fields.Integer()
    applied = ma.fields.Integer(metadata={"description": "New events stored and folded"})
    duplicates = ma.fields.Integer(metadata={"description": "Events stored already, the same: nothing changed"})
    conflicts = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "The same (case, seq) stored with another body: not applied"})
    cases_created = ma.fields.Integer()
    cases_updated = ma.fields.Integer()
    alerts_raised = ma.fields.Integer()


class ApprovalImportArgsSchema(ma.Schema):
    # Under the text policy like the push's: a NUL in the query string answered 500 (found by the fuzz).
    source_system = Line(64, required=True, metadata={"description": "Which approval system the file comes from"})


class ApprovalCaseQuerySchema(ma.Schema):
    matter_id = ma.fields.UUID(load_default=None)
    unit_id = ma.fields.UUID(load_default=None)
    state = ma.fields.Enum(CaseState, by_value=True, load_default=None)
    key_project_id = ma.fields.UUID(load_default=None)
    overdue = ma.fields.Boolean(load_default=None)
    needs_notice = ma.fields.Boolean(load_default=None)
    accepted_from = ma.fields.Date(load_default=None)
    accepted_to = ma.fields.Date(load_default=None)


class ApprovalStepSchema(ma.Schema):
    key = ma.fields.String()
    name = ma.fields.String(allow_none=True)
    unit_id = ma.fields.UUID(allow_none=True)
    parallel_group = ma.fields.Integer()
    started_at = ma.fields.AwareDateTime(allow_none=True)
    finished_at = ma.fields.AwareDateTime(allow_none=True)
    working_days = ma.fields.Integer(allow_none=True)


class ApprovalSuspensionSchema(ma.Schema):
    position = ma.fields.Integer()
    started_at = ma.fields.AwareDateTime()
    ended_at = ma.fields.AwareDateTime(allow_none=True)
    reason = ma.fields.String(allow_none=True)


class ApprovalNoticeCreateSchema(StrictSchema):
    kind = ma.fields.Enum(NoticeKind, by_value=True, required=True)
    reason = Text(2000, required=True, metadata={"example": "申请材料中规划图纸与现场不符，需重新测绘"})
    handler_name = Line(100, required=True, metadata={"example": "王经办"})
    issued_on = ma.fields.Date(required=True, metadata={"example": "2026-03-10"})


class ApprovalNoticeSchema(ma.Schema):
    id = ma.fields.UUID()
    case_id = ma.fields.UUID()
    kind = ma.fields.Enum(NoticeKind, by_value=True)
    reason = ma.fields.String()
    handler_name = ma.fields.String()
    issued_on = ma.fields.Date()
    source = ma.fields.String(metadata={"description": "pushed or entered"})
    complaint_case_id = ma.fields.UUID(allow_none=True)


class ApprovalNoticeAttachSchema(StrictSchema):
    case_id = ma.fields.UUID(required=True, metadata={"description": "The office's case on the complaint"})


class ApprovalAlertSchema(ma.Schema):
    id = ma.fields.UUID()
    approval_case_id = ma.fields.UUID()
    level = ma.fields.Enum(AlertLevel, by_value=True)
    state = ma.fields.Enum(AlertState, by_value=True)
    raised_at = ma.fields.AwareDateTime()
    working_days = ma.fields.Integer(allow_none=True)
    limit_days = ma.fields.Integer(allow_none=True)
    case_id = ma.fields.UUID(allow_none=True, metadata={"description": "The office case opened from it"})


class ApprovalCaseSchema(ma.Schema):
    id = ma.fields.UUID()
    source_system = ma.fields.String()
    source_number = ma.fields.String()
    matter_id = ma.fields.UUID(allow_none=True)
    unit_id = ma.fields.UUID(allow_none=True)
    key_project_id = ma.fields.UUID(allow_none=True)
    applicant = ma.fields.String(allow_none=True)
    state = ma.fields.Enum(CaseState, by_value=True, allow_none=True)
    outcome = ma.fields.Enum(Outcome, by_value=True, allow_none=True)
    accepted_at = ma.fields.AwareDateTime(allow_none=True)
    completed_at = ma.fields.AwareDateTime(allow_none=True)
    limit_days = ma.fields.Integer(allow_none=True)
    working_days = ma.fields.Integer(allow_none=True, metadata={
        "description": "Working days used, suspended ones (补正) excluded"})
    suspended_days = ma.fields.Integer()
    deadline = ma.fields.Date(allow_none=True)
    within_limit = ma.fields.Boolean(allow_none=True)
    provisional = ma.fields.Boolean(metadata={"description": "Counted over a year without an official schedule"})
    deemed_approved = ma.fields.Boolean()
    needs_notice = ma.fields.Boolean(metadata={"description": "Deferred or refused with no delay-feedback notice"})


class ApprovalCaseDetailSchema(ApprovalCaseSchema):
    matter = ma.fields.Nested(ApprovalMatterSchema, allow_none=True)
    steps = ma.fields.List(ma.fields.Nested(ApprovalStepSchema))
    suspensions = ma.fields.List(ma.fields.Nested(ApprovalSuspensionSchema))
    notices = ma.fields.List(ma.fields.Nested(ApprovalNoticeSchema))
    alerts = ma.fields.List(ma.fields.Nested(ApprovalAlertSchema))


class ApprovalAlertQuerySchema(ma.Schema):
    state = ma.fields.Enum(AlertState, by_value=True, load_default=AlertState.open)
    level = ma.fields.Enum(AlertLevel, by_value=True, load_default=None)


class ApprovalScanSchema(ma.Schema):
    cases_folded = ma.fields.Integer()
    alerts_raised = ma.fields.Integer()


class ApprovalAlertCaseSchema(StrictSchema):
    handler_id = ma.fields.UUID(load_default=None, metadata={"description": "Default: the caller"})
    title = Line(200, load_default=None)


class ApprovalOpenedSchema(ma.Schema):
    case_id = ma.fields.UUID()
    number = ma.fields.String()


class ApprovalFiguresArgsSchema(StrictSchema):
    start = ma.fields.Date(required=True, data_key="from", metadata={"example": "2026-01-01"})
    end = ma.fields.Date(required=True, data_key="to", metadata={"example": "2026-12-31"})
    by = ma.fields.String(load_default=None, validate=ma.validate.OneOf(["unit", "matter"]))


class ApprovalFigureNumbersSchema(ma.Schema):
    accepted = ma.fields.Integer()
    completed = ma.fields.Integer()
    within_limit = ma.fields.Integer()
    within_limit_rate = ma.fields.Float(allow_none=True, metadata={"description": "% of the completed, 1 decimal"})
    average_working_days = ma.fields.Float(allow_none=True)
    median_working_days = ma.fields.Float(allow_none=True)
    provisional = ma.fields.Boolean()


class ApprovalFigureRowSchema(ma.Schema):
    all = ma.fields.Raw(allow_none=True)
    unit = ma.fields.String(allow_none=True)
    matter = ma.fields.String(allow_none=True)
    current = ma.fields.Nested(ApprovalFigureNumbersSchema)
    previous = ma.fields.Nested(ApprovalFigureNumbersSchema)


class ApprovalSpanSchema(ma.Schema):
    start = ma.fields.Date(data_key="from")
    end = ma.fields.Date(data_key="to")


class ApprovalFiguresSchema(ma.Schema):
    period = ma.fields.Nested(ApprovalSpanSchema)
    previous_period = ma.fields.Nested(ApprovalSpanSchema)
    by = ma.fields.String(allow_none=True)
    rows = ma.fields.List(ma.fields.Nested(ApprovalFigureRowSchema))
