"""Streamed exports of findings and contact-point reports for the office (CSV and GeoJSON)."""

from __future__ import annotations

from flask import Response, request, stream_with_context
from flask_smorest import Blueprint

from field import findings, record_exports, reports
from field.crs import CRS_NAMES
from field.models import OFFICE_ROLES

from .auth import authenticated, current_user
from .db import db

blp = Blueprint("exports", __name__, url_prefix="/api/v1",
                description="Findings and reports as CSV for the office's spreadsheets, or GeoJSON for maps")

_CSV = {"200": {"description": "UTF-8 CSV with a byte-order mark, streamed",
                "content": {"text/csv": {"schema": {"type": "string"}}}}}
_GEOJSON = {"200": {"description": "A GeoJSON FeatureCollection, streamed (?crs=gcj02|bd09 for Chinese maps)",
                    "content": {"application/geo+json": {"schema": {"type": "object"}}}}}


def _stream(chunks, mimetype: str, filename: str) -> Response:
    resp = Response(stream_with_context(chunks), mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def _crs() -> str:
    crs = request.args.get("crs", "wgs84")
    if crs not in CRS_NAMES:
        from flask_smorest import abort
        abort(422, messages={"query": {"crs": [f"One of: {', '.join(CRS_NAMES)}."]}})
    return crs


@blp.route("/findings/export.csv")
@blp.doc(responses=_CSV)
@authenticated(*OFFICE_ROLES)
def findings_csv():
    """Findings in the caller's scope as CSV"""
    stmt = findings.findings_query(current_user())
    return _stream(record_exports.csv_chunks(db(), stmt, record_exports.FINDING_COLUMNS), "text/csv", "findings.csv")


@blp.route("/findings/export.geojson")
@blp.doc(responses=_GEOJSON)
@authenticated(*OFFICE_ROLES)
def findings_geojson():
    """Findings in the caller's scope as GeoJSON"""
    stmt = findings.findings_query(current_user())
    return _stream(record_exports.geojson_chunks(db(), stmt, record_exports.FINDING_COLUMNS, _crs()),
                   "application/geo+json", "findings.geojson")


@blp.route("/reports/export.csv")
@blp.doc(responses=_CSV)
@authenticated(*OFFICE_ROLES)
def reports_csv():
    """Contact-point reports in the caller's scope as CSV"""
    stmt = reports.reports_query(current_user())
    return _stream(record_exports.csv_chunks(db(), stmt, record_exports.REPORT_COLUMNS), "text/csv", "reports.csv")


@blp.route("/reports/export.geojson")
@blp.doc(responses=_GEOJSON)
@authenticated(*OFFICE_ROLES)
def reports_geojson():
    """Contact-point reports in the caller's scope as GeoJSON"""
    stmt = reports.reports_query(current_user())
    return _stream(record_exports.geojson_chunks(db(), stmt, record_exports.REPORT_COLUMNS, _crs()),
                   "application/geo+json", "reports.geojson")
