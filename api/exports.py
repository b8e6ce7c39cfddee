"""Streamed exports of findings and contact-point reports for the office (CSV and GeoJSON)."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from evidence.storage import content_disposition
from field.visits import findings
from field.records import exports as record_exports
from field.reports import reports
from field.core.models.platform import OFFICE_ROLES

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


@blp.route("/findings/export.csv")
@blp.doc(responses=_CSV)
@authenticated(*OFFICE_ROLES)
def findings_csv():
    """Findings in the caller's scope as CSV"""
    stmt = findings.findings_query(current_user())
    return _stream(record_exports.csv_chunks(db(), stmt, record_exports.FINDING_COLUMNS), "text/csv", "findings.csv")


@blp.route("/findings/export.geojson")
@blp.arguments(CrsArgsSchema, location="query", as_kwargs=True)
@blp.doc(responses=_GEOJSON)
@authenticated(*OFFICE_ROLES)
def findings_geojson(crs):
    """Findings in the caller's scope as GeoJSON"""
    stmt = findings.findings_query(current_user())
    return _stream(record_exports.geojson_chunks(db(), stmt, record_exports.FINDING_COLUMNS, crs),
                   GEOJSON_MIME, "findings.geojson")


@blp.route("/reports/export.csv")
@blp.doc(responses=_CSV)
@authenticated(*OFFICE_ROLES)
def reports_csv():
    """Contact-point reports in the caller's scope as CSV"""
    stmt = reports.reports_query(current_user())
    return _stream(record_exports.csv_chunks(db(), stmt, record_exports.REPORT_COLUMNS), "text/csv", "reports.csv")


@blp.route("/reports/export.geojson")
@blp.arguments(CrsArgsSchema, location="query", as_kwargs=True)
@blp.doc(responses=_GEOJSON)
@authenticated(*OFFICE_ROLES)
def reports_geojson(crs):
    """Contact-point reports in the caller's scope as GeoJSON"""
    stmt = reports.reports_query(current_user())
    return _stream(record_exports.geojson_chunks(db(), stmt, record_exports.REPORT_COLUMNS, crs),
                   GEOJSON_MIME, "reports.geojson")
