"""Streamed exports of field records for the office (CSV and GeoJSON): every kind with export columns.

A kind registered in field/records/kinds.py with ``export_columns`` gets
GET /api/v1/<path>/export.csv and /export.geojson here (findings and contact-point reports today).
"""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from evidence.storage import content_disposition
from field.records import exports as record_exports
from field.records.kinds import RecordKind, kinds

from .auth import authenticated, current_user
from .db import db, streamed
from .located import GEOJSON_MIME, CrsArgsSchema

blp = Blueprint("exports", __name__, url_prefix="/api/v1",
                description="Findings and reports as CSV for the office's spreadsheets, or GeoJSON for maps")

_CSV = {"200": {"description": "UTF-8 CSV with a byte-order mark, streamed",
                "content": {"text/csv": {"schema": {"type": "string"}}}}}
_GEOJSON = {"200": {"description": "A GeoJSON FeatureCollection, streamed (?crs=gcj02|bd09 for Chinese maps)",
                    "content": {"application/geo+json": {"schema": {"type": "object"}}}}}


def _stream(chunks, mimetype: str, filename: str) -> Response:
    return Response(streamed(chunks), mimetype=mimetype, headers={
        "Content-Disposition": content_disposition(filename), "X-Content-Type-Options": "nosniff"})


def _exports(kind: RecordKind) -> None:
    plural = kind.path.replace("-", " ")

    def as_csv():
        user = current_user()
        kind.allow(user, "export")
        return _stream(record_exports.csv_chunks(db(), kind.query(user), kind.export_columns), "text/csv",
                       f"{kind.path}.csv")

    def as_geojson(crs):
        user = current_user()
        kind.allow(user, "export")
        return _stream(record_exports.geojson_chunks(db(), kind.query(user), kind.export_columns, crs),
                       GEOJSON_MIME, f"{kind.path}.geojson")

    as_csv.__doc__ = f"{plural.capitalize()} in the caller's scope as CSV"
    as_geojson.__doc__ = f"{plural.capitalize()} in the caller's scope as GeoJSON"
    as_csv.__name__, as_geojson.__name__ = f"{kind.name}_csv", f"{kind.name}_geojson"
    forbidden = blp.alt_response(403, response="FORBIDDEN")
    blp.route(f"/{kind.path}/export.csv")(blp.doc(responses=_CSV)(forbidden(authenticated()(as_csv))))
    blp.route(f"/{kind.path}/export.geojson")(blp.arguments(CrsArgsSchema, location="query", as_kwargs=True)(
        blp.doc(responses=_GEOJSON)(forbidden(authenticated()(as_geojson)))))


for _kind in kinds():
    if _kind.export_columns:
        _exports(_kind)
