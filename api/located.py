"""Responses with locations: ``?crs=`` for Chinese base maps, and lists as GeoJSON FeatureCollections."""

from __future__ import annotations

from functools import wraps

import marshmallow as ma
from flask import Response, current_app, request
from flask_smorest.utils import get_appcontext

from field.core.crs import CRS_NAMES
from schemas.common import REQUEST_CRS

GEOJSON_MIME = "application/geo+json"


class CrsArgsSchema(ma.Schema):
    crs = ma.fields.String(load_default="wgs84", validate=ma.validate.OneOf(CRS_NAMES), metadata={
        "description": "The CRS of the client's map: positions in the query are read in it and locations "
                       "are answered in it. wgs84 (default), gcj02 (AMap, Tencent) or bd09 (Baidu)"})


class GeoListArgsSchema(CrsArgsSchema):
    format = ma.fields.String(load_default=None, validate=ma.validate.OneOf(["json", "geojson"]), metadata={
        "description": "geojson: a FeatureCollection (as does Accept: application/geo+json)"})


_FEATURE_COLLECTION = {
    "type": "object",
    "description": "RFC 7946 FeatureCollection: each item's location is the geometry, the rest its properties "
                   "(location_crs, location_accuracy_m too); next_cursor is a foreign member",
    "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                   "features": {"type": "array", "items": {"type": "object"}},
                   "next_cursor": {"type": ["string", "null"]}},
}


def _wants_geojson(format_: str | None) -> bool:
    if format_ is not None:
        return format_ == "geojson"
    best = request.accept_mimetypes.best_match(["application/json", GEOJSON_MIME])
    return best == GEOJSON_MIME and request.accept_mimetypes[GEOJSON_MIME] > request.accept_mimetypes["application/json"]


def feature_collection(page: dict) -> dict:
    """A dumped page ``{"items": [...], "next_cursor": ...}`` as a FeatureCollection."""
    features = []
    for item in page["items"]:
        properties = dict(item)
        location = properties.pop("location", None)
        geometry = None
        if location is not None:
            geometry = {"type": "Point", "coordinates": location["coordinates"]}
            properties["location_crs"] = location["crs"]
            properties["location_accuracy_m"] = location["accuracy_m"]
        features.append({"type": "Feature", "id": item.get("id"), "geometry": geometry, "properties": properties})
    return {"type": "FeatureCollection", "features": features, "next_cursor": page.get("next_cursor")}


def located(blp, *, geojson: bool = False):
    """Outermost decorator of a view that answers locations: reads ``?crs=`` (and, for lists,
    ``?format=`` / ``Accept``), holds the CRS while the response is dumped, and turns a list
    into a FeatureCollection when asked."""

    def decorate(view):
        @blp.arguments(GeoListArgsSchema if geojson else CrsArgsSchema, location="query", as_kwargs=True)
        @wraps(view)
        def wrapper(*args, crs, format=None, **kwargs):
            as_geojson = geojson and _wants_geojson(format)
            token = REQUEST_CRS.set(crs)
            try:
                response = view(*args, **kwargs)
            finally:
                REQUEST_CRS.reset(token)
            if as_geojson and isinstance(response, Response) and response.status_code == 200:
                # The page as flask-smorest dumped it (not its JSON parsed again), written once by orjson.
                dumped = get_appcontext().get("result_dump")
                body = feature_collection(dumped if dumped is not None else response.get_json())
                response = Response(current_app.json.dumps_bytes(body), status=200, mimetype=GEOJSON_MIME,
                                    headers={"Vary": "Accept"})
            elif geojson and isinstance(response, Response):
                response.headers["Vary"] = "Accept"
            return response

        if geojson:
            doc = wrapper._apidoc.setdefault("manual_doc", {})
            doc.setdefault("responses", {})[200] = {"content": {GEOJSON_MIME: {"schema": _FEATURE_COLLECTION}}}
        return wrapper

    return decorate
