"""Schemas of unit heads' commitment letters, items, checks, reports and figures (docs/service.md §3)."""

from __future__ import annotations

import marshmallow as ma

from field.commitments.models import Assessment, Channel, LetterState, Verdict

from .common import Line, StrictSchema, Text

_SHA = ma.validate.Regexp(r"^[0-9a-f]{64}$", error="A SHA-256 in lowercase hex.")


class CommitmentItemCreateSchema(StrictSchema):
    promise = Text(2000, required=True, metadata={"example": "企业开办全流程一个工作日内办结"})
    target = Line(200, load_default=None, metadata={"example": "办结时间 ≤ 1 个工作日"})
    target_value = ma.fields.Float(load_default=None, allow_none=True, validate=ma.validate.Range(0, 1e12),
                                   metadata={"description": "The measurable target, when there is one", "example": 1})
    target_unit = Line(32, load_default=None, metadata={"example": "工作日"})
    due_on = ma.fields.Date(load_default=None, metadata={"example": "2026-12-31"})


class CommitmentLetterCreateSchema(StrictSchema):
    person_id = ma.fields.UUID(required=True, metadata={"description": "The unit head (a person of the directory)"})
    year = ma.fields.Integer(strict=True, required=True, validate=ma.validate.Range(2000, 2100))
    title = Line(200, required=True, metadata={"example": "2026年度服务承诺书"})
    items = ma.fields.List(ma.fields.Nested(CommitmentItemCreateSchema), load_default=list,
                           validate=ma.validate.Length(0, 100))


class CommitmentCheckSchema(ma.Schema):
    id = ma.fields.UUID()
    verdict = ma.fields.Enum(Verdict, by_value=True)
    note = ma.fields.String()
    evidence = ma.fields.List(ma.fields.String())
    checked_on = ma.fields.Date()


class CommitmentItemSchema(ma.Schema):
    id = ma.fields.UUID()
    letter_id = ma.fields.UUID()
    position = ma.fields.Integer()
    promise = ma.fields.String()
    target = ma.fields.String(allow_none=True)
    target_value = ma.fields.Float(allow_none=True)
    target_unit = ma.fields.String(allow_none=True)
    due_on = ma.fields.Date(allow_none=True)
    verdict = ma.fields.Enum(Verdict, by_value=True, allow_none=True, metadata={"description": "The latest check's"})
    checked_on = ma.fields.Date(allow_none=True)
    case_id = ma.fields.UUID(allow_none=True)
    checks = ma.fields.List(ma.fields.Nested(CommitmentCheckSchema))


class CommitmentLetterSchema(ma.Schema):
    id = ma.fields.UUID()
    person_id = ma.fields.UUID()
    unit_id = ma.fields.UUID()
    year = ma.fields.Integer()
    title = ma.fields.String()
    state = ma.fields.Enum(LetterState, by_value=True)
    published_on = ma.fields.Date(allow_none=True)
    channel = ma.fields.Enum(Channel, by_value=True, allow_none=True)
    report_text = ma.fields.String(allow_none=True)
    reported_on = ma.fields.Date(allow_none=True)
    assessment = ma.fields.Enum(Assessment, by_value=True, allow_none=True)
    assessment_note = ma.fields.String(allow_none=True)
    items = ma.fields.List(ma.fields.Nested(CommitmentItemSchema))


class CommitmentLetterQuerySchema(ma.Schema):
    year = ma.fields.Integer(load_default=None, validate=ma.validate.Range(2000, 2100))
    unit_id = ma.fields.UUID(load_default=None)
    state = ma.fields.Enum(LetterState, by_value=True, load_default=None)


class CommitmentPublishSchema(StrictSchema):
    published_on = ma.fields.Date(required=True, metadata={"example": "2026-02-20"})
    channel = ma.fields.Enum(Channel, by_value=True, required=True, metadata={
        "description": "television (电视公开承诺), newspaper, website, meeting, other"})


class CommitmentCheckCreateSchema(StrictSchema):
    verdict = ma.fields.Enum(Verdict, by_value=True, required=True)
    note = Text(2000, required=True, metadata={"example": "抽查 20 件企业开办，19 件当日办结"})
    checked_on = ma.fields.Date(required=True)
    evidence = ma.fields.List(ma.fields.String(validate=_SHA), load_default=list,
                              validate=ma.validate.Length(0, 50),
                              metadata={"description": "SHA-256s of evidence already uploaded"})


class CommitmentReportSchema(StrictSchema):
    text = Text(20000, load_default=None, metadata={"description": "述职: the head's yearly report"})
    reported_on = ma.fields.Date(load_default=None)
    assessment = ma.fields.Enum(Assessment, by_value=True, load_default=None)
    assessment_note = Text(2000, load_default=None)


class CommitmentCaseSchema(StrictSchema):
    handler_id = ma.fields.UUID(load_default=None)


class CommitmentOpenedSchema(ma.Schema):
    case_id = ma.fields.UUID()
    number = ma.fields.String()


class CommitmentFiguresArgsSchema(StrictSchema):
    year = ma.fields.Integer(required=True, validate=ma.validate.Range(2000, 2100))


class CommitmentFigureRowSchema(ma.Schema):
    unit_id = ma.fields.UUID()
    unit = ma.fields.String()
    items = ma.fields.Integer()
    checked = ma.fields.Integer()
    kept = ma.fields.Integer()
    partly = ma.fields.Integer()
    not_kept = ma.fields.Integer()
    kept_rate = ma.fields.Float(allow_none=True, metadata={"description": "% of the checked items"})
