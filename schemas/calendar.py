"""Schemas of the working-day calendar: overrides, declared years with their schedule, days."""

from __future__ import annotations

import marshmallow as ma

from .accounts import JurisdictionRefSchema
from .common import Line, StrictSchema


class OverrideSchema(ma.Schema):
    id = ma.fields.UUID()
    jurisdiction_id = ma.fields.UUID()
    day = ma.fields.Date()
    working = ma.fields.Boolean()
    note = ma.fields.String()
    created_at = ma.fields.AwareDateTime()


class OverrideCreateSchema(StrictSchema):
    day = ma.fields.Date(required=True, metadata={"example": "2026-06-19"})
    working = ma.fields.Boolean(required=True, metadata={"description": "false: a local day off"})
    note = Line(200, blank=True, load_default="", metadata={"example": "区运动会 (district sports day)"})


class YearCreateSchema(StrictSchema):
    """One year's official schedule, as one document (docs/calendar.md); checked as a whole."""

    year = ma.fields.Integer(required=True, validate=ma.validate.Range(2000, 2100), metadata={"example": 2027})
    holidays = ma.fields.List(ma.fields.Date(), load_default=list, validate=ma.validate.Length(max=366), metadata={
        "description": "Every day off of the year's holidays, weekends inside a holiday included",
        "example": ["2027-01-01", "2027-02-06", "2027-02-07"]})
    makeup_workdays = ma.fields.List(ma.fields.Date(), load_default=list, validate=ma.validate.Length(max=53),
                                     metadata={"description": "Make-up working days (调休): Saturdays or Sundays "
                                                              "worked", "example": ["2027-01-30"]})
    weekends_only = ma.fields.Boolean(load_default=False, metadata={
        "description": "true declares a year without any holiday (Monday to Friday all year); required when "
                       "holidays is empty"})
    source = Line(200, blank=True, load_default="", metadata={
        "description": "Where the schedule comes from", "example": "国务院办公厅关于2027年部分节假日安排的通知"})


class YearSchema(ma.Schema):
    """A declared year with its whole schedule."""

    year = ma.fields.Integer()
    jurisdiction_id = ma.fields.UUID()
    weekends_only = ma.fields.Boolean()
    holidays = ma.fields.List(ma.fields.Date())
    makeup_workdays = ma.fields.List(ma.fields.Date())
    source = ma.fields.String()
    created_at = ma.fields.AwareDateTime()


class DeclaredYearSchema(ma.Schema):
    """The answer to a declaration: the year as stored, and what it recomputed."""

    year = ma.fields.Integer(attribute="row.year")
    jurisdiction_id = ma.fields.UUID(attribute="row.jurisdiction_id")
    weekends_only = ma.fields.Boolean(attribute="row.weekends_only")
    holidays = ma.fields.List(ma.fields.Date(), attribute="row.holidays")
    makeup_workdays = ma.fields.List(ma.fields.Date(), attribute="row.makeup_workdays")
    source = ma.fields.String(attribute="row.source")
    created_at = ma.fields.AwareDateTime(attribute="row.created_at")
    recomputed_cases = ma.fields.Function(lambda d: len(d.recomputed), metadata={
        "type": "integer",
        "description": "Cases whose provisional deadline or handling time this declaration recomputed (custody-"
                       "logged as case.deadline_recomputed, shown in each case's timeline)"})


class CalendarWarningSchema(ma.Schema):
    code = ma.fields.String(metadata={"example": "calendar_year_undeclared"})
    year = ma.fields.Integer()
    message = ma.fields.String()
    jurisdictions = ma.fields.List(ma.fields.String(), metadata={
        "description": "Codes of the jurisdictions where someone works and the year has no schedule"})


class DeclaredYearSummarySchema(ma.Schema):
    year = ma.fields.Integer()
    jurisdiction = ma.fields.Nested(JurisdictionRefSchema)
    weekends_only = ma.fields.Boolean(attribute="row.weekends_only")
    holiday_count = ma.fields.Function(lambda v: len(v.row.holidays))
    makeup_workday_count = ma.fields.Function(lambda v: len(v.row.makeup_workdays))
    source = ma.fields.String(attribute="row.source")
    declared_at = ma.fields.AwareDateTime(attribute="row.created_at")
    declared_by = ma.fields.String(allow_none=True, metadata={
        "description": "The declaring admin; null: imported on the server (fieldwatch calendar import)"})
    applies_here = ma.fields.Boolean(metadata={
        "description": "The declaration that governs the caller's jurisdiction for that year (the lowest above)"})
    superseded_by_library = ma.fields.Boolean(metadata={
        "description": "The installed chinese-calendar has the year now: the library's schedule is used"})


class LibrarySchema(ma.Schema):
    package = ma.fields.String(metadata={"example": "chinese-calendar"})
    version = ma.fields.String(metadata={"example": "1.11.0"})
    first_year = ma.fields.Integer()
    last_year = ma.fields.Integer()


class CoverageSchema(ma.Schema):
    library = ma.fields.Nested(LibrarySchema, metadata={
        "description": "The installed official table: it wins over any declaration of the same year"})
    declared = ma.fields.List(ma.fields.Nested(DeclaredYearSummarySchema))
    provisional_rule = ma.fields.String()
    warnings = ma.fields.List(ma.fields.Nested(CalendarWarningSchema))


class DaysArgsSchema(ma.Schema):
    start = ma.fields.Date(required=True, data_key="from")
    end = ma.fields.Date(required=True, data_key="to")

    @ma.validates_schema
    def _span(self, data, **kwargs):
        if (data["end"] - data["start"]).days > 366 or data["end"] < data["start"]:
            raise ma.ValidationError("from must not be after to, and the span at most a year.", "to")


class DaySchema(ma.Schema):
    date = ma.fields.Date()
    working = ma.fields.Boolean()
    provisional = ma.fields.Boolean(metadata={
        "description": "The year has no schedule yet: answered on weekends alone (docs/calendar.md)"})
