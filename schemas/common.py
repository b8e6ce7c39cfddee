"""Shared schema pieces: text fields, problems, GeoJSON geometry, locations in any CRS, cursor pages."""

from __future__ import annotations

import math
from contextvars import ContextVar

import marshmallow as ma
from geoalchemy2.elements import WKBElement, WKTElement
from geoalchemy2.shape import to_shape
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from webargs.fields import DelimitedList

from field.core import text
from field.core.crs import CRS_NAMES
from field.core.errors import InvalidInput
from field.core.locations import MAX_ACCURACY_M, Area, GivenLocation
from field.core.pages import MAX_LIMIT


class StrictSchema(ma.Schema):
    """Unknown fields are an error, so a typo never silently drops data."""

    class Meta:
        unknown = ma.RAISE


class _PolicyText(ma.fields.String):
    """A string loaded through the text policy (field/core/text.py), its length counted after it.

    ``blank``: whether the value may be empty once trimmed (an optional note); a name may not.
    The kind shows in the OpenAPI document as ``x-text`` (tests/api/test_text_policy_api.py walks it).
    """

    kind = ""

    def __init__(self, max_length: int, *, blank: bool = False, validate=(), **kwargs):
        self.blank = blank
        metadata = {"x-text": self.kind, **kwargs.pop("metadata", {})}
        validators = [ma.validate.Length(0 if blank else 1, max_length), *(
            validate if isinstance(validate, (list, tuple)) else [validate])]
        super().__init__(validate=validators, metadata=metadata, **kwargs)

    def _clean(self, value: str) -> str:
        raise NotImplementedError

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        try:
            value = self._clean(super()._deserialize(value, attr, data, **kwargs))
        except text.TextRefused as refused:
            raise ma.ValidationError(str(refused)) from None
        if not value and not self.blank:
            raise ma.ValidationError("Must not be blank (spaces alone do not count).")
        return value


class Line(_PolicyText):
    """A name, code, title, label or phone number: one line of visible text (field.core.text.line)."""

    kind = "line"

    def _clean(self, value: str) -> str:
        return text.line(value)


class Text(_PolicyText):
    """Free text (a comment, description, note, reason): newlines and tabs allowed (field.core.text.multiline)."""

    kind = "text"

    def _clean(self, value: str) -> str:
        return text.multiline(value)


class FieldErrorSchema(ma.Schema):
    field = ma.fields.String(metadata={"description": "Dotted path of the field"})
    message = ma.fields.String()
    location = ma.fields.String(data_key="in", metadata={"description": "json, query, headers, …"})


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details."""

    class Meta:
        # RFC 9457 §3.2: a problem type may add extension members (retry_after, allowed,
        # missing_gates, earliest, actual …); the document must let them through.
        unknown = ma.INCLUDE

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


#: The CRS of the map the client draws on, for this request (``?crs=``, api/located.py sets it):
#: positions in the query are read in it, and locations in the response are written in it.
REQUEST_CRS: ContextVar[str] = ContextVar("request_crs", default="wgs84")

_CRS_HELP = ("wgs84 (GPS, EXIF; the default), gcj02 (AMap, Tencent maps) or bd09 (Baidu). "
             "Stored as WGS-84 whatever the input.")


class LocationSchema(StrictSchema):
    """A GeoJSON Point, the CRS its coordinates are in, and the device's accuracy."""

    type = ma.fields.String(required=True, validate=ma.validate.OneOf(["Point"]), metadata={"example": "Point"})
    coordinates = ma.fields.List(
        ma.fields.Float(), required=True, validate=ma.validate.Length(2, 3),
        metadata={"description": "[lon, lat] (RFC 7946 order); a third value (altitude) is ignored",
                  "example": [106.5286, 29.5026]})
    crs = ma.fields.String(load_default="wgs84", validate=ma.validate.OneOf(CRS_NAMES),
                           metadata={"description": _CRS_HELP, "example": "gcj02"})
    accuracy_m = ma.fields.Float(allow_none=True, load_default=None, validate=ma.validate.Range(0, MAX_ACCURACY_M),
                                 metadata={"description": "Horizontal accuracy in metres, when the device gives it",
                                           "example": 8.0})

    @ma.post_load
    def _given(self, data, **kwargs) -> GivenLocation:
        lon, lat = data["coordinates"][:2]
        return GivenLocation(lon, lat, data["crs"], data["accuracy_m"])


class LocationField(ma.fields.Nested):
    """In: a ``LocationSchema`` object, loaded as a ``GivenLocation`` (the domain converts it).
    Out: a stored WGS-84 ``Location`` written in the request's CRS (``REQUEST_CRS``)."""

    def __init__(self, **kwargs):
        super().__init__(LocationSchema, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        crs = REQUEST_CRS.get()
        lon, lat = value.in_crs(crs)
        # 7 decimals: about a centimetre, finer than any phone's fix.
        return {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)], "crs": crs,
                "accuracy_m": value.accuracy_m}


class AreaArgsSchema(ma.Schema):
    """Where a list of located things looks; positions are in the request's ``crs``."""

    near = DelimitedList(ma.fields.Float(), validate=ma.validate.Length(equal=2),
                         metadata={"description": "lon,lat: the centre for radius_m and nearest",
                                   "example": "106.5286,29.5026"})
    radius_m = ma.fields.Float(load_default=None, validate=ma.validate.Range(1, 1_000_000),
                               metadata={"description": "Only things within this many metres of near"})
    nearest = ma.fields.Integer(load_default=None, validate=ma.validate.Range(1, MAX_LIMIT),
                                metadata={"description": "The N nearest to near, nearest first (no further page)"})
    bbox = DelimitedList(ma.fields.Float(), validate=ma.validate.Length(equal=4),
                         metadata={"description": "min_lon,min_lat,max_lon,max_lat",
                                   "example": "106.45,29.45,106.60,29.56"})
    within_jurisdiction = ma.fields.UUID(load_default=None, metadata={
        "description": "Only things inside this jurisdiction's boundary (a spatial test, not the record's "
                       "jurisdiction)"})

    @ma.post_load
    def _area(self, data, **kwargs) -> dict:
        try:
            area = Area.from_query(
                near=tuple(data["near"]) if data.get("near") else None, radius_m=data["radius_m"],
                bbox=tuple(data["bbox"]) if data.get("bbox") else None,
                within_jurisdiction=data["within_jurisdiction"], nearest=data["nearest"], crs=REQUEST_CRS.get())
        except InvalidInput as exc:
            raise ma.ValidationError({p.field: [p.message] for p in exc.fields}) from None
        return {"area": area}


class PageArgsSchema(ma.Schema):
    cursor = ma.fields.String(load_default=None, metadata={"description": "next_cursor of the previous page"})
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(1, MAX_LIMIT))


_page_schemas: dict[type, type] = {}


def _fast_dump(self, obj, *, many: bool | None = None):
    from . import fast

    return fast.dump(self, obj, many=self.many if many is None else bool(many))


def page_of(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """``{"items": [...], "next_cursor": "..."}`` for one item schema (one class per item schema)."""
    if item_schema not in _page_schemas:
        name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
        _page_schemas[item_schema] = type(name, (ma.Schema,), {
            # In bulk: the item schema compiled once (schemas/fast.py), the same dict as marshmallow's.
            "dump": _fast_dump,
            "items": ma.fields.List(ma.fields.Nested(item_schema)),
            "next_cursor": ma.fields.String(allow_none=True, metadata={
                "description": "Pass as ?cursor= for the next page; null on the last page"}),
        })
    return _page_schemas[item_schema]
