"""Units: departments, public-service companies, their sections and service windows, as a tree."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from field.directory import units
from schemas.common import AreaArgsSchema, PageArgsSchema, page_of
from schemas.directory import UnitCreateSchema, UnitQuerySchema, UnitSchema, UnitUpdateSchema
from schemas.sync import register_entity_schema

from .auth import authenticated, current_user
from .db import db
from .located import located

blp = Blueprint("units", __name__, url_prefix="/api/v1/units",
                description="Departments, public-service companies, sections and windows (admins write, all read)")
register_entity_schema("unit", UnitSchema())


@blp.route("")
class Units(MethodView):
    @located(blp, geojson=True)
    @blp.arguments(UnitQuerySchema, location="query")
    @blp.arguments(AreaArgsSchema, location="query", as_kwargs=True)
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(UnitSchema))
    @authenticated()
    def get(self, query, area, cursor, limit):
        """Units in the caller's scope; near, radius, box, boundary and nearest-N searches"""
        return units.list_units(db(), current_user(), query, area, cursor=cursor, limit=limit)

    @located(blp)
    @blp.arguments(UnitCreateSchema)
    @blp.response(201, UnitSchema)
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body):
        """Add a unit; a section or window names its parent"""
        unit = units.create_unit(db(), current_user(), **body)
        return unit


@blp.route("/<uuid:unit_id>")
class UnitById(MethodView):
    @located(blp)
    @blp.response(200, UnitSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, unit_id: uuid.UUID):
        """One unit"""
        return units.get_unit(db(), current_user(), unit_id)

    @located(blp)
    @blp.arguments(UnitUpdateSchema)
    @blp.response(200, UnitSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def patch(self, body, unit_id: uuid.UUID):
        """Change a unit; a new jurisdiction moves its sections and staff with it"""
        unit = units.get_unit(db(), current_user(), unit_id, action="change")
        units.update_unit(db(), current_user(), unit, body)
        return unit

    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def delete(self, unit_id: uuid.UUID):
        """Delete a unit with nothing below it (records that name it keep pointing at it)"""
        unit = units.get_unit(db(), current_user(), unit_id, action="change")
        units.delete_unit(db(), current_user(), unit)
