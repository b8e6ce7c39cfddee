"""Schemas of accountability cases: opening, the steps of a case, its view, timeline and time limits."""

from __future__ import annotations

import marshmallow as ma

from field.cases.lifecycle import ComplaintInput
from field.core.office import office_today
from field.cases.models import (
    CaseKind,
    CaseState,
    ComplaintChannel,
    DispositionKind,
    Gate,
    SanctionGrade,
    SanctionSystem,
)
from field.directory.models import PersonRank
from field.cases.models import SANCTION_GRADES

from .common import Line, LocationField, StrictSchema, Text
from .directory import UnitRefSchema, UserRefSchema

_SHA256 = ma.validate.Regexp(r"^[0-9a-f]{64}$", error="A SHA-256: 64 lowercase hexadecimal characters.")


_KIND_HELP = ("efficiency_complaint 效能投诉, work_style 作风问题, arbitrary_charges 乱收费乱罚款乱摊派, "
              "inspection_irregularity 违规涉企检查, discipline 违反工作纪律")
_STATE_HELP = ("opened → investigating → deciding → rectifying → closed; dismissed (with a reason) from any "
               "open state")
_GRADE_HELP = "; ".join(f"{system.value}: {', '.join(g.value for g in grades)}"
                        for system, grades in SANCTION_GRADES.items())


# -- in -------------------------------------------------------------------------------------


class CaseComplaintInSchema(StrictSchema):
    channel = ma.fields.Enum(ComplaintChannel, required=True, metadata={"description": "phone, letter, visit, online"})
    received_at = ma.fields.AwareDateTime(required=True, metadata={"example": "2026-03-02T09:10:00+08:00"})
    text = Text(20000, required=True, metadata={"example": "办理营业执照变更时窗口人员推诿，要求反复提交材料"})
    complainant_name = Line(100, blank=True, load_default=None, allow_none=True,
                            metadata={"description": "Confidential: only an admin's audited unmask shows it"})
    complainant_contact = Line(200, blank=True, load_default=None, allow_none=True,
                               metadata={"description": "Phone or address; confidential like the name"})

    @ma.post_load
    def _input(self, data, **kwargs) -> ComplaintInput:
        return ComplaintInput(**data)


class CaseSubjectInSchema(StrictSchema):
    unit_id = ma.fields.UUID(load_default=None)
    person_id = ma.fields.UUID(load_default=None, metadata={"description": "A person; their unit is named with them"})


class CaseCreateSchema(StrictSchema):
    kind = ma.fields.Enum(CaseKind, required=True, metadata={"description": _KIND_HELP})
    title = Line(200, required=True, metadata={"example": "区市场监管局登记窗口推诿案"})
    summary = Text(20000, blank=True, load_default="")
    source_record_ids = ma.fields.List(ma.fields.UUID(), load_default=list, validate=ma.validate.Length(max=200),
                                       metadata={"description": "Field records of any kind (findings, reports, "
                                                                "inspections, callbacks) in your scope"})
    complaint = ma.fields.Nested(CaseComplaintInSchema, load_default=None, allow_none=True,
                                 metadata={"description": "A complaint the office took; a case needs records, "
                                                          "a complaint or both"})
    subjects = ma.fields.List(ma.fields.Nested(CaseSubjectInSchema), load_default=list,
                              validate=ma.validate.Length(max=100))
    handler_id = ma.fields.UUID(load_default=None, metadata={"description": "Reviewer or admin; default: you"})
    jurisdiction_id = ma.fields.UUID(load_default=None, metadata={"description": "Default: your jurisdiction"})
    opened_on = ma.fields.Date(load_default=None, metadata={
        "description": "The office day the case was opened (default today, never later): the time limit counts "
                       "from the next working day"})


class CaseUpdateSchema(StrictSchema):
    title = Line(200)
    summary = Text(20000, blank=True)
    handler_id = ma.fields.UUID()


class CaseQuerySchema(ma.Schema):
    state = ma.fields.Enum(CaseState, load_default=None)
    kind = ma.fields.Enum(CaseKind, load_default=None)
    overdue = ma.fields.Boolean(load_default=None, metadata={
        "description": "true: running cases past their effective deadline (Asia/Shanghai date); false: the others"})
    handler_id = ma.fields.UUID(load_default=None)
    year = ma.fields.Integer(load_default=None, validate=ma.validate.Range(2000, 2100),
                             metadata={"description": "Year of opening (of the case number)"})
    unit_id = ma.fields.UUID(load_default=None, metadata={"description": "Cases naming this unit (or its staff)"})
    person_id = ma.fields.UUID(load_default=None)
    jurisdiction_id = ma.fields.UUID(load_default=None, metadata={"description": "This jurisdiction and below"})


class CaseTransitionSchema(StrictSchema):
    to = ma.fields.Enum(CaseState, required=True, metadata={"description": _STATE_HELP})
    reason = Text(5000, blank=True, load_default=None, allow_none=True,
                  metadata={"description": "Required to dismiss"})


class CaseSourceInSchema(StrictSchema):
    record_id = ma.fields.UUID(required=True)


class CaseDelayNoticeInSchema(StrictSchema):
    reason = Text(5000, required=True, metadata={"example": "涉及多个部门，需调取市级系统数据核实"})
    new_deadline = ma.fields.Date(required=True, metadata={"description": "Later than the current deadline"})


class CaseGateInSchema(StrictSchema):
    gate = ma.fields.Enum(Gate, required=True, metadata={
        "description": "facts_established 问题事实查清, problem_corrected 问题纠正, responsible_dealt_with 责任人处理, "
                       "rectification_done 整改落实"})
    note = Text(5000, required=True)
    evidence = ma.fields.List(ma.fields.String(validate=_SHA256), required=True,
                              validate=ma.validate.Length(1, 100), metadata={
                                  "description": "SHA-256s of evidence attached to the case's source records or to "
                                                 "the case (upload with the case id as record_id)"})


class CaseDispositionInSchema(StrictSchema):
    kind = ma.fields.Enum(DispositionKind, required=True, metadata={
        "description": "Of a person: admonishment_talk 诫勉谈话, public_criticism 通报批评, loss_of_award_eligibility, "
                       "reassignment, removal_from_post 免职, dismissal 辞退, ordered_resignation 责令辞职, "
                       "disciplinary_sanction 处分, transfer_to_judiciary 移送司法机关. Of a unit: yellow_card 黄牌, "
                       "listed_supervision 挂牌督办, loss_of_excellent_grade 取消评优"})
    person_id = ma.fields.UUID(load_default=None)
    unit_id = ma.fields.UUID(load_default=None)
    sanction_system = ma.fields.Enum(SanctionSystem, load_default=None, metadata={
        "description": "administrative 政务处分 or party 党纪处分 (disciplinary_sanction only)"})
    grade = ma.fields.Enum(SanctionGrade, load_default=None, metadata={"description": _GRADE_HELP})
    decided_on = ma.fields.Date(required=True)
    authority = Line(200, required=True, metadata={"example": "区纪委监委"})
    note = Text(5000, blank=True, load_default="")


class CaseNoticeInSchema(StrictSchema):
    text = Text(20000, required=True, metadata={
        "description": "Refused (422 on text) if it names a monitor or a complainant"})
    issued_on = ma.fields.Date(required=True)


class ComplainantUnmaskSchema(StrictSchema):
    reason = Text(500, required=True, metadata={"example": "核实投诉事实，需回访投诉人"})


class CaseTimeLimitUpdateSchema(StrictSchema):
    working_days = ma.fields.Integer(required=True, validate=ma.validate.Range(1, 365))


# -- out ------------------------------------------------------------------------------------


class CasePersonRefSchema(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()
    post = ma.fields.String(allow_none=True)
    rank = ma.fields.Enum(PersonRank, allow_none=True)


class CaseSourceRefSchema(ma.Schema):
    record_id = ma.fields.UUID()
    kind = ma.fields.String(attribute="record_kind")
    position = ma.fields.Integer()


class CaseSourceSchema(ma.Schema):
    record_id = ma.fields.UUID()
    kind = ma.fields.String(metadata={"description": "The record's kind: finding, report, inspection …"})
    position = ma.fields.Integer()
    linked_at = ma.fields.AwareDateTime()
    review_state = ma.fields.String(allow_none=True)
    received_at = ma.fields.AwareDateTime(allow_none=True)
    unit_id = ma.fields.UUID(allow_none=True)
    category_code = ma.fields.String(allow_none=True)
    flags = ma.fields.List(ma.fields.String())
    location = LocationField(allow_none=True)


class CaseSubjectSchema(ma.Schema):
    id = ma.fields.UUID()
    subject_type = ma.fields.String(metadata={"description": "unit or person"})
    unit = ma.fields.Nested(UnitRefSchema)
    person = ma.fields.Nested(CasePersonRefSchema, allow_none=True)
    added_at = ma.fields.AwareDateTime()


class CaseComplaintSchema(ma.Schema):
    channel = ma.fields.Enum(ComplaintChannel)
    received_at = ma.fields.AwareDateTime()
    text = ma.fields.String()


class CaseDelayNoticeSchema(ma.Schema):
    id = ma.fields.UUID()
    reason = ma.fields.String()
    handler = ma.fields.Nested(UserRefSchema)
    previous_deadline = ma.fields.Date()
    new_deadline = ma.fields.Date()
    recorded_at = ma.fields.AwareDateTime()
    late = ma.fields.Boolean(metadata={"description": "Given after the deadline it moves had passed"})


class CaseGateSchema(ma.Schema):
    id = ma.fields.UUID()
    gate = ma.fields.Enum(Gate)
    note = ma.fields.String()
    evidence = ma.fields.List(ma.fields.String())
    recorded_by = ma.fields.Nested(UserRefSchema)
    recorded_at = ma.fields.AwareDateTime()


class CaseDispositionSchema(ma.Schema):
    id = ma.fields.UUID()
    kind = ma.fields.Enum(DispositionKind)
    person = ma.fields.Nested(CasePersonRefSchema, allow_none=True)
    unit = ma.fields.Nested(UnitRefSchema)
    rank_at_decision = ma.fields.Enum(PersonRank, allow_none=True, metadata={
        "description": "The person's rank when decided, kept as it was"})
    sanction_system = ma.fields.Enum(SanctionSystem, allow_none=True)
    grade = ma.fields.Enum(SanctionGrade, allow_none=True)
    decided_on = ma.fields.Date()
    authority = ma.fields.String()
    note = ma.fields.String()
    recorded_at = ma.fields.AwareDateTime()


class CaseNoticeSchema(ma.Schema):
    id = ma.fields.UUID()
    text = ma.fields.String()
    issued_on = ma.fields.Date()
    recorded_at = ma.fields.AwareDateTime()


class CaseCustodySummarySchema(ma.Schema):
    entries = ma.fields.Integer()
    first_at = ma.fields.AwareDateTime(allow_none=True)
    last_at = ma.fields.AwareDateTime(allow_none=True)
    events = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(),
                            metadata={"description": "Custody events by kind (evidence.received: 1, …)"})


class CaseEvidenceSchema(ma.Schema):
    sha256 = ma.fields.String()
    media = ma.fields.String(allow_none=True)
    mime = ma.fields.String(allow_none=True)
    size = ma.fields.Integer(allow_none=True)
    arrived = ma.fields.Boolean(metadata={"description": "False: declared by the phone, not uploaded yet"})
    attached_to_case = ma.fields.Boolean(attribute="on_case")
    record_ids = ma.fields.List(ma.fields.UUID())
    record_kinds = ma.fields.List(ma.fields.String())
    flags = ma.fields.List(ma.fields.String(), metadata={"description": "Plausibility flags (field/attachments/links.py)"})
    custody = ma.fields.Nested(CaseCustodySummarySchema)


class AccountabilityCaseSchema(ma.Schema):
    """A case in a list."""

    id = ma.fields.UUID()
    number = ma.fields.String(metadata={"example": "2026-500107-0012"})
    kind = ma.fields.Enum(CaseKind)
    state = ma.fields.Enum(CaseState)
    title = ma.fields.String()
    jurisdiction_id = ma.fields.UUID()
    jurisdiction_code = ma.fields.Function(lambda c: c.jurisdiction.code)
    handler = ma.fields.Nested(UserRefSchema)
    opened_on = ma.fields.Date()
    opened_at = ma.fields.AwareDateTime()
    time_limit_days = ma.fields.Integer(metadata={"description": "Working days the case was given"})
    deadline = ma.fields.Date(metadata={"description": "opened_on + time_limit_days working days"})
    effective_deadline = ma.fields.Date(metadata={"description": "The latest delay notice's new date, or deadline"})
    overdue = ma.fields.Function(lambda c: c.overdue_on(office_today()), metadata={
        "description": "Running and past the effective deadline (Asia/Shanghai date)"})
    ended_on = ma.fields.Date(allow_none=True)
    closed_on = ma.fields.Date(allow_none=True)
    dismissed_reason = ma.fields.String(allow_none=True)
    handling_working_days = ma.fields.Integer(allow_none=True)
    ended_late = ma.fields.Boolean(allow_none=True)
    provisional = ma.fields.Boolean(metadata={
        "description": "Some of the case's dates or counts ran into a year without a declared working-day "
                       "schedule and were counted on weekends alone; they are recomputed (and logged in the "
                       "timeline) when the year is declared (docs/calendar.md)"})
    provisional_fields = ma.fields.List(ma.fields.String(), metadata={
        "description": "Which: deadline, effective_deadline, overdue, ended_late, handling_working_days",
        "example": ["deadline", "effective_deadline", "overdue"]})
    sources = ma.fields.List(ma.fields.Nested(CaseSourceRefSchema))
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class AccountabilityCaseDetailSchema(AccountabilityCaseSchema):
    """A case with everything that belongs to it; never who complained.

    Dumps a ``field.cases.read_model.CaseView``: the domain computed its sources, evidence,
    missing gates and allowed transitions; this only writes them out."""

    summary = ma.fields.String()
    opened_by = ma.fields.Nested(UserRefSchema)
    sources = ma.fields.List(ma.fields.Nested(CaseSourceSchema))
    subjects = ma.fields.List(ma.fields.Nested(CaseSubjectSchema))
    complaint = ma.fields.Nested(CaseComplaintSchema, allow_none=True)
    complainant_on_file = ma.fields.Boolean(metadata={
        "description": "Whether a complainant's name or contact is kept (admins: POST …/complainant)"})
    delay_notices = ma.fields.List(ma.fields.Nested(CaseDelayNoticeSchema))
    gates = ma.fields.List(ma.fields.Nested(CaseGateSchema))
    missing_gates = ma.fields.List(ma.fields.Enum(Gate, by_value=True))
    dispositions = ma.fields.List(ma.fields.Nested(CaseDispositionSchema))
    notices = ma.fields.List(ma.fields.Nested(CaseNoticeSchema))
    evidence = ma.fields.List(ma.fields.Nested(CaseEvidenceSchema))
    allowed_transitions = ma.fields.List(ma.fields.Enum(CaseState, by_value=True))


class CaseTimelineEntrySchema(ma.Schema):
    seq = ma.fields.Integer(metadata={"description": "Position in the jurisdiction's custody chain"})
    occurred_at = ma.fields.AwareDateTime()
    kind = ma.fields.String(metadata={"example": "case.state_changed"})
    actor_id = ma.fields.UUID(allow_none=True)
    actor = ma.fields.String(allow_none=True)
    data = ma.fields.Dict()
    hash = ma.fields.String()


class CaseComplainantSchema(ma.Schema):
    name = ma.fields.String(allow_none=True, metadata={"x-identity": "complainant"})
    contact = ma.fields.String(allow_none=True, metadata={"x-identity": "complainant"})


class CaseTimeLimitSchema(ma.Schema):
    kind = ma.fields.Enum(CaseKind)
    working_days = ma.fields.Integer()
    default_working_days = ma.fields.Integer()
    set_in = ma.fields.UUID(allow_none=True, metadata={
        "description": "The jurisdiction whose office set it; null for the built-in default"})
