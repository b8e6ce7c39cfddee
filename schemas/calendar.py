"""Schemas of the working-day calendar."""

from __future__ import annotations

import marshmallow as ma

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
    year = ma.fields.Integer(required=True, validate=ma.validate.Range(2000, 2100))


class YearSchema(ma.Schema):
    year = ma.fields.Integer()
    jurisdiction_id = ma.fields.UUID()


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
