"""Schemas of key projects, service assignments, problems and their figures (docs/service.md §1)."""

from __future__ import annotations

import marshmallow as ma

from field.service.models import (Campaign, OneKind, ProblemCategory, ProblemSource, ProblemState, ProjectStage,
                                  ServiceRole)

from .common import GeoJSONGeometry, Line, LocationField, StrictSchema, Text
from .inspections import Yuan

YUAN_PATTERN = r"^\d{1,10}(\.\d{1,2})?$"

_POINT = {"type": "Point", "coordinates": [106.5286, 29.5026], "crs": "wgs84"}


class KeyProjectCreateSchema(StrictSchema):
    name = Line(200, required=True, metadata={"example": "西部物流园二期"})
    investment_10k = Yuan(required=True, metadata={
        "description": "Investment in 10,000 yuan (万元), at most two decimals", "example": "150000.00",
        "pattern": YUAN_PATTERN})
    stage = ma.fields.Enum(ProjectStage, by_value=True, load_default=ProjectStage.planned)
    enterprise_id = ma.fields.UUID(load_default=None)
    location = LocationField(load_default=None, allow_none=True, metadata={"example": _POINT})
    footprint = GeoJSONGeometry(load_default=None, allow_none=True, allowed={"Polygon", "MultiPolygon"},
                                metadata={"description": "A GeoJSON Polygon or MultiPolygon, WGS-84"})


class KeyProjectUpdateSchema(StrictSchema):
    name = Line(200)
    investment_10k = Yuan(metadata={"pattern": YUAN_PATTERN})
    stage = ma.fields.Enum(ProjectStage, by_value=True, metadata={"description": "Forward only"})
    enterprise_id = ma.fields.UUID(allow_none=True)
    location = LocationField(allow_none=True)
    footprint = GeoJSONGeometry(allow_none=True, allowed={"Polygon", "MultiPolygon"})


class KeyProjectSchema(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()
    investment_10k = Yuan(metadata={"pattern": YUAN_PATTERN})
    stage = ma.fields.Enum(ProjectStage, by_value=True)
    enterprise_id = ma.fields.UUID(allow_none=True)
    location = LocationField(attribute="position", allow_none=True)
    footprint = ma.fields.Raw(attribute="footprint_geojson", allow_none=True)


class KeyProjectQuerySchema(ma.Schema):
    stage = ma.fields.Enum(ProjectStage, by_value=True, load_default=None)
    campaign = ma.fields.Enum(Campaign, by_value=True, load_default=None)


class ServiceAssignmentCreateSchema(StrictSchema):
    official_id = ma.fields.UUID(required=True)
    role = ma.fields.Enum(ServiceRole, by_value=True, required=True)
    campaign = ma.fields.Enum(Campaign, by_value=True, required=True)
    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(load_default=None)
    project_id = ma.fields.UUID(load_default=None)
    enterprise_id = ma.fields.UUID(load_default=None)


class ServiceAssignmentSchema(ma.Schema):
    id = ma.fields.UUID()
    official_id = ma.fields.UUID()
    role = ma.fields.Enum(ServiceRole, by_value=True)
    campaign = ma.fields.Enum(Campaign, by_value=True)
    starts_on = ma.fields.Date()
    ends_on = ma.fields.Date(allow_none=True)
    project_id = ma.fields.UUID(allow_none=True)
    enterprise_id = ma.fields.UUID(allow_none=True)


class ServiceAssignmentQuerySchema(ma.Schema):
    official_id = ma.fields.UUID(load_default=None)


class ServiceProblemCreateSchema(StrictSchema):
    category = ma.fields.Enum(ProblemCategory, by_value=True, required=True)
    source = ma.fields.Enum(ProblemSource, by_value=True, required=True)
    description = Text(4000, required=True, metadata={"example": "施工许可证办理卡在消防审验环节"})
    unit_ids = ma.fields.List(ma.fields.UUID(), required=True, validate=ma.validate.Length(1, 20))
    limit_days = ma.fields.Integer(strict=True, required=True, validate=ma.validate.Range(1, 120))
    raised_on = ma.fields.Date(load_default=None)


class ServiceProblemSchema(ma.Schema):
    id = ma.fields.UUID()
    project_id = ma.fields.UUID(allow_none=True)
    enterprise_id = ma.fields.UUID(allow_none=True)
    category = ma.fields.Enum(ProblemCategory, by_value=True)
    source = ma.fields.Enum(ProblemSource, by_value=True)
    description = ma.fields.String()
    unit_ids = ma.fields.List(ma.fields.String())
    raised_on = ma.fields.Date()
    limit_days = ma.fields.Integer()
    deadline = ma.fields.Date()
    deadline_provisional = ma.fields.Boolean()
    state = ma.fields.Enum(ProblemState, by_value=True)
    closed_on = ma.fields.Date(allow_none=True)
    days_to_close = ma.fields.Integer(allow_none=True, metadata={"description": "Working days, raised to closed"})
    confirmed_by = ma.fields.String(allow_none=True)
    confirmation = ma.fields.String(allow_none=True)
    progress = ma.fields.List(ma.fields.Dict())
    case_id = ma.fields.UUID(allow_none=True)


class ServiceProblemQuerySchema(ma.Schema):
    state = ma.fields.Enum(ProblemState, by_value=True, load_default=None)
    overdue = ma.fields.Boolean(load_default=None)
    project_id = ma.fields.UUID(load_default=None)


class ServiceProgressSchema(StrictSchema):
    note = Text(2000, required=True, metadata={"example": "已协调区住建委现场办公"})


class ServiceClosureSchema(StrictSchema):
    solved = ma.fields.Boolean(required=True)
    confirmed_by = Line(100, required=True, metadata={"description": "Who at the enterprise confirmed",
                                                      "example": "项目经理 刘某"})
    confirmation = Text(2000, required=True, metadata={"example": "施工许可证已于今日领取"})
    closed_on = ma.fields.Date(load_default=None)


class ServiceProblemCaseSchema(StrictSchema):
    handler_id = ma.fields.UUID(load_default=None)


class ServiceProblemOpenedSchema(ma.Schema):
    case_id = ma.fields.UUID()
    number = ma.fields.String()


class ServiceFiguresArgsSchema(StrictSchema):
    start = ma.fields.Date(required=True, data_key="from")
    end = ma.fields.Date(required=True, data_key="to")


class ServiceFigureRowSchema(ma.Schema):
    campaign = ma.fields.String(metadata={"description": "all, 365, double_hundred or four_ones"})
    raised = ma.fields.Integer()
    solved = ma.fields.Integer()
    unsolved = ma.fields.Integer()
    overdue = ma.fields.Integer()
    median_days_to_solve = ma.fields.Float(allow_none=True)
    visit_periods_due = ma.fields.Integer(metadata={
        "description": "Serving officials' visit periods (weeks, months) in the period, begun by today"})
    visit_periods_met = ma.fields.Integer(metadata={"description": "Of those, with the visits owed"})
    visit_periods_missed = ma.fields.Integer(metadata={"description": "Of those, ended short"})
    visit_compliance = ma.fields.Float(allow_none=True, metadata={
        "description": "met / (met + missed); a current period still short is not counted yet", "example": 0.875})


class FourOnesCreateSchema(StrictSchema):
    year = ma.fields.Integer(strict=True, required=True, validate=ma.validate.Range(2000, 2100))
    kind = ma.fields.Enum(OneKind, by_value=True, required=True, metadata={
        "description": "plan (谋划一个重点项目), negotiate (洽谈一个招商项目), serve (服务一个落地项目), "
                       "touch (联系一家重点企业)"})
    project_id = ma.fields.UUID(load_default=None, metadata={"description": "plan, negotiate, serve"})
    enterprise_id = ma.fields.UUID(load_default=None, metadata={"description": "touch"})
    note = Text(2000, required=True, metadata={"example": "本月两次赴企业协调用电增容"})


class FourOnesSchema(ma.Schema):
    id = ma.fields.UUID()
    official_id = ma.fields.UUID()
    year = ma.fields.Integer()
    kind = ma.fields.Enum(OneKind, by_value=True)
    project_id = ma.fields.UUID(allow_none=True)
    enterprise_id = ma.fields.UUID(allow_none=True)
    note = ma.fields.String()


class FourOnesQuerySchema(ma.Schema):
    official_id = ma.fields.UUID(load_default=None)
    year = ma.fields.Integer(load_default=None, validate=ma.validate.Range(2000, 2100))


class EnterpriseOutcomeCreateSchema(StrictSchema):
    enterprise_id = ma.fields.UUID(required=True)
    period_start = ma.fields.Date(required=True, metadata={"example": "2026-01-01"})
    period_end = ma.fields.Date(required=True, metadata={"example": "2026-06-30"})
    output_growth_pct = ma.fields.Float(load_default=None, allow_none=True, validate=ma.validate.Range(-100, 10000),
                                        metadata={"description": "产值增长, %", "example": 12.5})
    loss_reduced_10k = ma.fields.Float(load_default=None, allow_none=True, validate=ma.validate.Range(0, 1e10),
                                       metadata={"description": "减亏, 10,000 yuan", "example": 300})


class EnterpriseOutcomeSchema(ma.Schema):
    id = ma.fields.UUID()
    enterprise_id = ma.fields.UUID()
    period_start = ma.fields.Date()
    period_end = ma.fields.Date()
    output_growth_pct = ma.fields.Float(allow_none=True)
    loss_reduced_10k = ma.fields.Float(allow_none=True)


class EnterpriseOutcomeQuerySchema(ma.Schema):
    enterprise_id = ma.fields.UUID(load_default=None)
