"""Schemas of the jurisdiction tree."""

from __future__ import annotations

import marshmallow as ma

from field.core.models.platform import JurisdictionLevel

from .common import GeoJSONGeometry, Line, StrictSchema


class JurisdictionSchema(ma.Schema):
    id = ma.fields.UUID()
    code = ma.fields.String(metadata={"example": "500107"})
    name = ma.fields.String(metadata={"example": "九龙坡区"})
    level = ma.fields.Enum(JurisdictionLevel)
    parent_id = ma.fields.UUID(allow_none=True)
    boundary = GeoJSONGeometry(allow_none=True, metadata={"description": "MultiPolygon, WGS-84"})
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class JurisdictionCreateSchema(StrictSchema):
    code = Line(12, required=True, metadata={"example": "500107001"})
    name = Line(100, required=True)
    level = ma.fields.Enum(JurisdictionLevel, required=True)
    parent_id = ma.fields.UUID(required=True)
    boundary = GeoJSONGeometry(allowed={"Polygon", "MultiPolygon"}, allow_none=True, load_default=None)


class JurisdictionUpdateSchema(StrictSchema):
    name = Line(100)
    boundary = GeoJSONGeometry(allowed={"Polygon", "MultiPolygon"}, allow_none=True)


class JurisdictionQuerySchema(ma.Schema):
    parent_id = ma.fields.UUID(load_default=None)
    level = ma.fields.Enum(JurisdictionLevel, load_default=None)
