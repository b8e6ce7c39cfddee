"""Enterprises: the district's companies, keyed by credit code; whether one is a monitoring point is need-to-know."""

from __future__ import annotations

import csv
import io
import uuid

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from field.directory import enterprises
from field.core.spreadsheets import spreadsheet_cell
from field.directory.imports import COLUMNS
from schemas.common import AreaArgsSchema, PageArgsSchema, page_of
from schemas.directory import (
    EnterpriseCreateSchema,
    EnterpriseQuerySchema,
    EnterpriseSchema,
    EnterpriseUpdateSchema,
)
from schemas.sync import register_entity_schema

from .auth import authenticated, current_user
from .db import db, streamed
from .located import located

blp = Blueprint("enterprises", __name__, url_prefix="/api/v1/enterprises",
                description="Enterprises with credit code, location and flags (admins write, all read)")
register_entity_schema("enterprise", EnterpriseSchema())

#: The import header, plus the id and the point status as far as the caller may know it.
EXPORT_COLUMNS = ("id",) + COLUMNS["enterprises"] + ("monitoring_point",)


@blp.route("")
class Enterprises(MethodView):
    @located(blp, geojson=True)
    @blp.arguments(EnterpriseQuerySchema, location="query")
    @blp.arguments(AreaArgsSchema, location="query", as_kwargs=True)
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(EnterpriseSchema))
    @authenticated()
    def get(self, query, area, cursor, limit):
        """Enterprises in the caller's scope; search, flags, near, radius, box, boundary and nearest-N"""
        return enterprises.list_enterprises(db(), current_user(), query, area, cursor=cursor, limit=limit)

    @located(blp)
    @blp.arguments(EnterpriseCreateSchema)
    @blp.response(201, EnterpriseSchema)
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body):
        """Add an enterprise; the credit code is checked (GB 32100-2015) and must be new"""
        enterprise = enterprises.create_enterprise(db(), current_user(), **body)
        return enterprise


@blp.route("/export")
@blp.arguments(EnterpriseQuerySchema, location="query")
@blp.response(200, description="CSV (UTF-8 with BOM, for Excel): the import header plus id and monitoring_point",
              content_type="text/csv")
@blp.doc(responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
@authenticated()
def export(query):
    """All enterprises of the caller's scope as CSV, in the import format (WGS-84)"""
    rows = enterprises.export_enterprises(db(), current_user(), query)

    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow(EXPORT_COLUMNS)
        for enterprise, jurisdiction_code in rows:
            location = enterprise.location
            point = enterprise.visible_point
            # The import format: `fieldwatch import enterprises` reads it back as written, so
            # formulas are not defused here (a leading ' would become part of the name).
            writer.writerow([spreadsheet_cell(value, defuse_formulas=False) for value in (
                enterprise.id, enterprise.credit_code, enterprise.name, jurisdiction_code, enterprise.address,
                location.lon if location else None, location.lat if location else None,
                "wgs84" if location else None, None if location is None else location.accuracy_m,
                *(int(getattr(enterprise, flag)) for flag in enterprises.FLAGS),
                enterprise.contact_name, enterprise.contact_phone,
                None if point is None else ("covert" if point.covert else "open"),
            )])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    return Response(streamed(lines()), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="enterprises.csv"'})


@blp.route("/<uuid:enterprise_id>")
class EnterpriseById(MethodView):
    @located(blp)
    @blp.response(200, EnterpriseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, enterprise_id: uuid.UUID):
        """One enterprise"""
        return enterprises.get_enterprise(db(), current_user(), enterprise_id)

    @located(blp)
    @blp.arguments(EnterpriseUpdateSchema)
    @blp.response(200, EnterpriseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def patch(self, body, enterprise_id: uuid.UUID):
        """Change an enterprise"""
        enterprise = enterprises.get_enterprise(db(), current_user(), enterprise_id, action="change")
        enterprises.update_enterprise(db(), current_user(), enterprise, body)
        return enterprise

    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def delete(self, enterprise_id: uuid.UUID):
        """Delete an enterprise that is not a monitoring point"""
        enterprise = enterprises.get_enterprise(db(), current_user(), enterprise_id, action="change")
        enterprises.delete_enterprise(db(), current_user(), enterprise)
