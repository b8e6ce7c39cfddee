"""Shared schema pieces: problems, GeoJSON geometry, cursor pages."""

from __future__ import annotations

import math

import marshmallow as ma
from geoalchemy2.elements import WKBElement, WKTElement
from geoalchemy2.shape import to_shape
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from field.pages import MAX_LIMIT


class StrictSchema(ma.Schema):
    """Unknown fields are an error, so a typo never silently drops data."""

    class Meta:
        unknown = ma.RAISE


class FieldErrorSchema(ma.Schema):
    field = ma.fields.String(metadata={"description": "Dotted path of the field"})
    message = ma.fields.String()
    location = ma.fields.String(data_key="in", metadata={"description": "json, query, headers, …"})


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details."""

    type = ma.fields.String(metadata={"example": "/problems/validation-failed"})
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    instance = ma.fields.String()
    errors = ma.fields.List(ma.fields.Nested(FieldErrorSchema))


_GEOMETRY_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}


def _check_positions(coords, depth=0):
    if depth > 6:
        raise ma.ValidationError("Coordinates are nested too deeply.")
    if coords and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in coords):
        if len(coords) < 2 or len(coords) > 3:
            raise ma.ValidationError("A position is [lon, lat] or [lon, lat, alt].")
        lon, lat = coords[0], coords[1]
        if not all(math.isfinite(c) for c in coords):
            raise ma.ValidationError("Coordinates must be finite numbers.")
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ma.ValidationError("A position is [lon, lat] (RFC 7946): lon in [-180, 180], lat in [-90, 90].")
        return
    if not isinstance(coords, list) or not coords:
        raise ma.ValidationError("Coordinates must be a non-empty array.")
    for c in coords:
        _check_positions(c, depth + 1)


class GeoJSONGeometry(ma.fields.Field):
    """A GeoJSON geometry object (RFC 7946) in and out; shapely inside."""

    def __init__(self, *args, allowed: set[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.allowed = allowed or _GEOMETRY_TYPES

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if isinstance(value, (WKBElement, WKTElement)):
            value = to_shape(value)
        return mapping(value)

    def _deserialize(self, value, attr, data, **kwargs) -> BaseGeometry:
        if not isinstance(value, dict) or "type" not in value:
            raise ma.ValidationError("Expected a GeoJSON geometry object with 'type' and 'coordinates'.")
        if value["type"] not in self.allowed:
            raise ma.ValidationError(f"Geometry type must be one of: {', '.join(sorted(self.allowed))}.")
        _check_positions(value.get("coordinates"))
        try:
            geom = shape(value)
        except (ValueError, TypeError, AttributeError, IndexError) as exc:
            raise ma.ValidationError(f"Not a valid {value['type']}: {exc}") from None
        if geom.is_empty:
            raise ma.ValidationError("The geometry is empty.")
        return geom


class PageArgsSchema(ma.Schema):
    cursor = ma.fields.String(load_default=None, metadata={"description": "next_cursor of the previous page"})
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(1, MAX_LIMIT))


_page_schemas: dict[type, type] = {}


def page_of(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """``{"items": [...], "next_cursor": "..."}`` for one item schema (one class per item schema)."""
    if item_schema not in _page_schemas:
        name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
        _page_schemas[item_schema] = type(name, (ma.Schema,), {
            "items": ma.fields.List(ma.fields.Nested(item_schema)),
            "next_cursor": ma.fields.String(allow_none=True, metadata={
                "description": "Pass as ?cursor= for the next page; null on the last page"}),
        })
    return _page_schemas[item_schema]
