"""Schemas of undercover work: finding categories, visit tasks, visits, findings, callback sampling."""

from __future__ import annotations

from field.records import kinds

import marshmallow as ma

from field.visits.callbacks import SEED_LIMIT
from field.visits.service_cases import COLUMNS
from field.visits.models import Severity, TaskMethod, TaskState
from field.directory.models import UnitKind

from .common import Line, LocationField, StrictSchema, Text
from .records import (
    KindSchemas,
    RecordBodySchema,
    RecordEnvelopeSchema,
    amendment_note,
    new_record_id,
    register_schemas,
)

_EXAMPLE_LOCATION = {"type": "Point", "coordinates": [106.5286, 29.5026], "crs": "gcj02", "accuracy_m": 8.0}
_SEVERITY_HELP = ("minor 一般: discourtesy or carelessness, no harm to the applicant's interests; "
                  "moderate 较重: cost the applicant time or money, or broke a rule of service; "
                  "serious 严重: extortion, collusion, a serious breach of law or discipline (calls for a case)")
_METHOD_HELP = ("follow_the_lead 顺藤摸瓜访, casual_talk 茶余饭后访, in_disguise 乔装打扮访, "
                "callback 抽件回头访 (target: a sample)")


def _id(description: str):
    return ma.fields.UUID(required=True, metadata={"description": description})


# -- finding categories ------------------------------------------------------------------------


class CategorySchema(ma.Schema):
    id = ma.fields.UUID()
    code = ma.fields.String(metadata={"example": "buck_passing"})
    label_zh = ma.fields.String(metadata={"example": "踢球"})
    label_en = ma.fields.String(metadata={"example": "Buck-passing"})
    group_code = ma.fields.String(allow_none=True, metadata={"example": "five_poisons"})
    active = ma.fields.Boolean()
    jurisdiction_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "null: seeded, shared by every office; otherwise an office's own (applies below it too)"})
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class CategoryRefSchema(ma.Schema):
    code = ma.fields.String()
    label_zh = ma.fields.String()
    label_en = ma.fields.String()


class CategoryCreateSchema(StrictSchema):
    code = ma.fields.String(required=True, validate=ma.validate.Regexp(
        r"^[a-z][a-z0-9_]{1,47}$", error="English snake_case, 2 to 48 characters."),
        metadata={"example": "parking_fees"})
    label_zh = Line(100, required=True, metadata={"example": "违规收取停车费"})
    label_en = Line(200, required=True, metadata={"example": "Irregular parking fees"})
    group_code = Line(48, blank=True, load_default=None, allow_none=True, metadata={"example": "three_arbitraries"})
    jurisdiction_id = ma.fields.UUID(load_default=None, metadata={
        "description": "Where it applies (and below); defaults to the admin's own jurisdiction"})


class CategoryUpdateSchema(StrictSchema):
    label_zh = Line(100)
    label_en = Line(200)
    group_code = Line(48, blank=True, allow_none=True)
    active = ma.fields.Boolean(metadata={"description": "false: no new findings under it"})


class CategoryQuerySchema(ma.Schema):
    active = ma.fields.Boolean(load_default=None)
    q = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 100))


# -- visit tasks -------------------------------------------------------------------------------


class TaskTargetInSchema(StrictSchema):
    """Exactly one of: a unit (a department, section or window), an enterprise, a free place, a sample."""

    unit_id = ma.fields.UUID(metadata={"description": "A unit of the directory: department, section or window"})
    enterprise_id = ma.fields.UUID()
    place_name = Line(200, metadata={
        "description": "A street, village or market; give its location too", "example": "杨家坪步行街"})
    location = LocationField(allow_none=True, metadata={"example": _EXAMPLE_LOCATION})
    sample_id = ma.fields.UUID(metadata={"description": "A callback sample (method callback only)"})


class TaskTargetSchema(ma.Schema):
    kind = ma.fields.String(attribute="target_kind.value", metadata={"example": "unit",
                                                                     "description": "unit, enterprise, place, sample"})
    unit_id = ma.fields.UUID(attribute="target_unit_id", allow_none=True)
    unit_name = ma.fields.String(attribute="target_unit.name", allow_none=True, dump_default=None)
    unit_kind = ma.fields.Enum(UnitKind, attribute="target_unit.kind", allow_none=True, dump_default=None)
    enterprise_id = ma.fields.UUID(attribute="target_enterprise_id", allow_none=True)
    enterprise_name = ma.fields.String(attribute="target_enterprise.name", allow_none=True, dump_default=None)
    place_name = ma.fields.String(allow_none=True)
    location = LocationField(allow_none=True, dump_only=True, metadata={"example": _EXAMPLE_LOCATION})
    sample_id = ma.fields.UUID(allow_none=True)


class _Whole(ma.fields.Nested):
    """A nested schema dumped from the object itself (a group of its attributes shown as one member)."""

    def serialize(self, attr, obj, accessor=None, **kwargs):
        return self._serialize(obj, attr, obj, **kwargs)


class TaskSchema(ma.Schema):
    id = ma.fields.UUID()
    jurisdiction_id = ma.fields.UUID()
    squad_id = ma.fields.UUID()
    method = ma.fields.Enum(TaskMethod, metadata={"description": _METHOD_HELP})
    target = _Whole(TaskTargetSchema, dump_only=True)
    theme = ma.fields.String(metadata={"example": "不动产登记窗口办事效率"})
    instructions = ma.fields.String()
    window_start = ma.fields.AwareDateTime()
    window_end = ma.fields.AwareDateTime()
    state = ma.fields.Enum(TaskState)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class TaskCreateSchema(StrictSchema):
    squad_id = _id("The squad that goes")
    method = ma.fields.Enum(TaskMethod, required=True, metadata={"description": _METHOD_HELP})
    target = ma.fields.Nested(TaskTargetInSchema, required=True)
    theme = Line(200, required=True, metadata={"example": "不动产登记窗口办事效率"})
    instructions = Text(5000, blank=True, load_default="")
    window_start = ma.fields.AwareDateTime(required=True, metadata={"example": "2026-05-11T08:30:00+08:00"})
    window_end = ma.fields.AwareDateTime(required=True, metadata={"example": "2026-05-15T17:30:00+08:00"})


class TaskUpdateSchema(StrictSchema):
    theme = Line(200)
    instructions = Text(5000, blank=True)
    window_start = ma.fields.AwareDateTime()
    window_end = ma.fields.AwareDateTime()
    state = ma.fields.Enum(TaskState, metadata={"description": "open → done | cancelled; done → open"})


class TaskQuerySchema(ma.Schema):
    state = ma.fields.Enum(TaskState, load_default=None)
    method = ma.fields.Enum(TaskMethod, load_default=None)
    squad_id = ma.fields.UUID(load_default=None)


# -- phone records: common parts ---------------------------------------------------------------


# -- visits ------------------------------------------------------------------------------------


class VisitBodySchema(RecordBodySchema):
    task_id = ma.fields.UUID(load_default=None, allow_none=True, metadata={"description": "A task of the squad"})
    members = ma.fields.List(Line(16), load_default=list,
                             validate=ma.validate.Length(0, 50), metadata={
                                 "description": "Codes of the squad members who went; the sender is added",
                                 "example": ["JLP-A03"]})
    started_at = ma.fields.AwareDateTime(required=True, metadata={"example": "2026-05-12T09:40:00+08:00"})
    ended_at = ma.fields.AwareDateTime(required=True, metadata={"example": "2026-05-12T10:10:00+08:00"})
    location = LocationField(allow_none=True, load_default=None, metadata={"example": _EXAMPLE_LOCATION})
    narrative = Text(20000, required=True, metadata={"example": "二号窗口工作人员离岗约二十分钟，群众排队等候。"})


class VisitCreateSchema(VisitBodySchema):
    id = new_record_id()


class VisitAmendSchema(VisitBodySchema):
    amendment_note = amendment_note()


class VisitSchema(RecordEnvelopeSchema):
    location = LocationField(attribute="position", allow_none=True, dump_only=True,
                             metadata={"example": _EXAMPLE_LOCATION})
    task_id = ma.fields.UUID(allow_none=True)
    squad_id = ma.fields.UUID()
    members = ma.fields.Function(lambda visit: [m.code for m in visit.members], metadata={
        "type": "array", "items": {"type": "string"}, "description": "Pseudonymous codes, never names"})
    started_at = ma.fields.AwareDateTime()
    ended_at = ma.fields.AwareDateTime()
    narrative = ma.fields.String()


class VisitQuerySchema(ma.Schema):
    task_id = ma.fields.UUID(load_default=None)
    squad_id = ma.fields.UUID(load_default=None)


# -- findings ----------------------------------------------------------------------------------


class _FindingFields(RecordBodySchema):
    category = Line(48, required=True, metadata={
        "description": "Code of an active finding category (GET /api/v1/finding-categories)",
        "example": "buck_passing"})
    severity = ma.fields.Enum(Severity, required=True, metadata={"description": _SEVERITY_HELP})
    person_id = ma.fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "The person involved, where known: staff of the unit (or of a section below it)"})
    occurred_at = ma.fields.AwareDateTime(required=True, metadata={"example": "2026-05-12T09:55:00+08:00"})
    location = LocationField(allow_none=True, load_default=None, metadata={"example": _EXAMPLE_LOCATION})
    description = Text(20000, required=True, metadata={"example": "窗口人员以材料不全为由三次退回，未一次性告知。"})


class FindingBodySchema(_FindingFields):
    unit_id = _id("The unit the finding is about (department, section or window)")
    visit_id = ma.fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "The visit it came from: one of the squad's"})


class FindingCreateSchema(FindingBodySchema):
    id = new_record_id()


class FindingAmendSchema(_FindingFields):
    unit_id = ma.fields.UUID(load_default=None, metadata={
        "description": "Required, except for a finding made from a callback (default: the case's unit)"})
    visit_id = ma.fields.UUID(load_default=None, allow_none=True)
    amendment_note = amendment_note()


class CallbackFindingCreateSchema(_FindingFields):
    id = new_record_id()
    unit_id = ma.fields.UUID(load_default=None, metadata={
        "description": "Defaults to the case's unit; required when the import could not match it"})


class FindingSchema(RecordEnvelopeSchema):
    location = LocationField(attribute="position", allow_none=True, dump_only=True,
                             metadata={"example": _EXAMPLE_LOCATION})
    category = ma.fields.Nested(CategoryRefSchema)
    severity = ma.fields.Enum(Severity, metadata={"description": _SEVERITY_HELP})
    unit_id = ma.fields.UUID()
    squad_id = ma.fields.UUID(allow_none=True)
    person_id = ma.fields.UUID(allow_none=True)
    person_name = ma.fields.String(attribute="person.name", allow_none=True, dump_default=None, metadata={
        "description": "The unit's staff member involved (never a monitor)"})
    occurred_at = ma.fields.AwareDateTime()
    description = ma.fields.String()
    visit_id = ma.fields.UUID(allow_none=True)
    callback_id = ma.fields.UUID(allow_none=True)
    distance_m = ma.fields.Float(dump_only=True, metadata={
        "description": "Great-circle metres from `near`; only when the list was asked with `near`"})


class FindingQuerySchema(ma.Schema):
    category = ma.fields.String(load_default=None)
    unit_id = ma.fields.UUID(load_default=None)
    severity = ma.fields.Enum(Severity, load_default=None)
    visit_id = ma.fields.UUID(load_default=None)
    callback_id = ma.fields.UUID(load_default=None)
    squad_id = ma.fields.UUID(load_default=None)


# -- callback sampling -------------------------------------------------------------------------


class BatchArgsSchema(ma.Schema):
    name = Line(200, load_default=None, metadata={
        "description": "A name for the batch", "example": "2026年4月 政务服务中心办件"})
    jurisdiction_id = ma.fields.UUID(load_default=None, metadata={
        "description": "Whose cases; defaults to the caller's jurisdiction"})


class RejectedRowSchema(ma.Schema):
    row = ma.fields.Integer(metadata={"description": "As a spreadsheet numbers it (the header is row 1)"})
    case_no = ma.fields.String()
    reason = ma.fields.String()


class BatchSchema(ma.Schema):
    id = ma.fields.UUID()
    jurisdiction_id = ma.fields.UUID()
    name = ma.fields.String()
    file_sha256 = ma.fields.String()
    case_count = ma.fields.Integer()
    rejected = ma.fields.List(ma.fields.Nested(RejectedRowSchema))
    created_at = ma.fields.AwareDateTime()


class OutcomeSchema(ma.Schema):
    calls = ma.fields.Integer()
    last_called_at = ma.fields.AwareDateTime()
    reached = ma.fields.Boolean()
    satisfied = ma.fields.Boolean(allow_none=True)


class CaseSchema(ma.Schema):
    """A service case; the applicant's name and contact are confidential (office and the assigned squad)."""

    id = ma.fields.UUID()
    batch_id = ma.fields.UUID()
    row = ma.fields.Integer()
    case_no = ma.fields.String(metadata={"example": "JLP2026041500123"})
    unit_name = ma.fields.String(metadata={"example": "区规划自然资源局/不动产登记中心"})
    unit_id = ma.fields.UUID(allow_none=True, metadata={"description": "The directory's unit, when matched"})
    service = ma.fields.String(metadata={"example": "不动产转移登记"})
    completed_on = ma.fields.Date()
    applicant_name = ma.fields.String(allow_none=True, metadata={"x-identity": "applicant"})
    applicant_contact = ma.fields.String(metadata={"x-identity": "applicant"})
    outcome = ma.fields.Nested(OutcomeSchema, allow_none=True, metadata={
        "description": "The calls recorded so far; null before the first"})


class SampleCreateSchema(StrictSchema):
    size = ma.fields.Integer(strict=True, validate=ma.validate.Range(1), metadata={"example": 30})
    # The bounds are given as numbers: apispec writes a Decimal field's bounds as strings ("100.00"),
    # which is no JSON Schema.
    percent = ma.fields.Decimal(places=2, validate=ma.validate.Range(0, 100, min_inclusive=False), metadata={
        "description": "Instead of size: this percentage of the batch, rounded up", "example": 5,
        "minimum": 0, "exclusiveMinimum": 0, "maximum": 100})
    seed = ma.fields.Integer(strict=True, validate=ma.validate.Range(0, SEED_LIMIT - 1), metadata={
        "description": "To reproduce a draw; default: a random seed, which is stored and returned"})

    @ma.validates_schema
    def _one_of(self, data, **kwargs):
        if ("size" in data) == ("percent" in data):
            raise ma.ValidationError("Give either size or percent.", "size")


class SampleSchema(ma.Schema):
    id = ma.fields.UUID()
    jurisdiction_id = ma.fields.UUID()
    batch_id = ma.fields.UUID()
    seed = ma.fields.Integer()
    requested_size = ma.fields.Integer(allow_none=True)
    requested_percent = ma.fields.Float(allow_none=True)
    size = ma.fields.Integer()
    population = ma.fields.Integer(metadata={"description": "Cases in the batch when drawn"})
    population_sha256 = ma.fields.String(metadata={
        "description": "SHA-256 of the batch's case numbers, sorted by code point, joined by newlines"})
    algorithm = ma.fields.String(metadata={"example": "fisher-yates-random-v1"})
    case_nos = ma.fields.List(ma.fields.String(), metadata={"description": "The cases drawn, in draw order"})
    created_at = ma.fields.AwareDateTime()


# -- callbacks ---------------------------------------------------------------------------------


class CallbackBodySchema(RecordBodySchema):
    case_id = _id("A case assigned to the caller's squad (or, for office staff, any case in scope)")
    called_at = ma.fields.AwareDateTime(required=True, metadata={"example": "2026-05-13T15:20:00+08:00"})
    reached = ma.fields.Boolean(required=True)
    satisfied = ma.fields.Boolean(load_default=None, allow_none=True, metadata={
        "description": "Whether the applicant is satisfied; only when reached"})
    problem = Text(20000, blank=True, load_default=None, allow_none=True,
                   metadata={"example": "办理时多次被要求补交同一份材料。"})


class CallbackCreateSchema(CallbackBodySchema):
    id = new_record_id()


class CallbackAmendSchema(CallbackBodySchema):
    amendment_note = amendment_note()


class CallbackSchema(RecordEnvelopeSchema):
    case_id = ma.fields.UUID()
    case_no = ma.fields.String(attribute="case.case_no")
    task_id = ma.fields.UUID(allow_none=True)
    squad_id = ma.fields.UUID(allow_none=True)
    unit_id = ma.fields.UUID(allow_none=True)
    called_at = ma.fields.AwareDateTime()
    reached = ma.fields.Boolean()
    satisfied = ma.fields.Boolean(allow_none=True)
    problem = ma.fields.String(allow_none=True)


class CallbackQuerySchema(ma.Schema):
    case_id = ma.fields.UUID(load_default=None)
    sample_id = ma.fields.UUID(load_default=None)
    task_id = ma.fields.UUID(load_default=None)


#: The import's header, for the API description.
CSV_HEADER = ",".join(COLUMNS)


# -- the record kinds of this area (field/records/kinds.py, api/records.py) ---------------------------

register_schemas(KindSchemas(
    kind=kinds.kind('visit'), create=VisitCreateSchema, amend=VisitAmendSchema, out=VisitSchema,
    query=VisitQuerySchema, id_param='visit_id', docs={
        'list': 'Visits: office staff all of their scope, a squad member their own',
        'create': ('Record a visit (a squad member)\n'
            '\n'
            'Send it again as often as needed: the first sending answers 201, every repeat 200\n'
            'with the stored visit; the same id with another body is a 409. Who went is given\n'
            'by member codes; the sender is always among them.'),
        'get': 'One visit',
        'amend': ('Amend a visit the office asked more information about (its submitter)\n'
            '\n'
            'The whole visit again, as a new version; it goes back to submitted. Sending the\n'
            'same amendment again changes nothing.'),
    }))

register_schemas(KindSchemas(
    kind=kinds.kind('finding'), create=FindingCreateSchema, amend=FindingAmendSchema, out=FindingSchema,
    query=FindingQuerySchema, id_param='finding_id', area=True, docs={
        'list': ('Findings, newest first: office staff all of their scope, a squad member their own; near, radius,\n'
            'box, boundary and nearest-N as for the directory'),
        'create': ('Record a finding (a squad member)\n'
            '\n'
            'The category must be active where the unit is (422 naming ``category``); the\n'
            'unit, the person and the visit must be ones the sender may name (422 naming the\n'
            'field). Offline-safe like every record: 201 first, 200 for repeats, 409 for the\n'
            'same id with another body.'),
        'get': 'One finding',
        'amend': 'Amend a finding the office asked more information about (its submitter)',
    }))

register_schemas(KindSchemas(
    kind=kinds.kind('callback'), create=CallbackCreateSchema, amend=CallbackAmendSchema, out=CallbackSchema,
    query=CallbackQuerySchema, id_param='callback_id', located=False, docs={
        'list': 'Callbacks, newest first: office staff all of their scope, a squad member their own',
        'create': ("Record one call to an applicant (the assigned squad's members, or office staff)\n"
            '\n'
            'A case may be called several times (not reached, then reached). Offline-safe like\n'
            'every record: 201 first, 200 for repeats, 409 for the same id with another body.'),
        'get': 'One callback',
        'amend': 'Amend a callback the office asked more information about (its submitter)',
    }))
