"""Monitoring points (监测点): open or covert, with their liaisons, leader and visit obligation."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from field.directory import monitoring
from schemas.common import AreaArgsSchema, PageArgsSchema, page_of
from schemas.directory import (
    MonitoringPointCreateSchema,
    MonitoringPointQuerySchema,
    MonitoringPointSchema,
    MonitoringPointUpdateSchema,
)
from schemas.sync import register_entity_schema

from .auth import authenticated, current_user
from .db import db
from .located import located

blp = Blueprint("monitoring_points", __name__, url_prefix="/api/v1/monitoring-points",
                description="Enterprises the office designated as monitoring points. A covert point is visible "
                            "only to admins and reviewers of its jurisdiction and to its own liaisons and leader; "
                            "to everyone else it does not exist (404)")
register_entity_schema("monitoring_point", MonitoringPointSchema())


@blp.route("")
class MonitoringPoints(MethodView):
    @located(blp, geojson=True)
    @blp.arguments(MonitoringPointQuerySchema, location="query")
    @blp.arguments(AreaArgsSchema, location="query", as_kwargs=True)
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(MonitoringPointSchema))
    @authenticated()
    def get(self, query, area, cursor, limit):
        """The points the caller may know of (liaisons and leaders: their own)"""
        return monitoring.list_points(db(), current_user(), query, area, cursor=cursor, limit=limit)

    @located(blp)
    @blp.arguments(MonitoringPointCreateSchema)
    @blp.response(201, MonitoringPointSchema)
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body):
        """Designate an enterprise as a monitoring point"""
        point = monitoring.create_point(db(), current_user(), **body)
        return point


@blp.route("/<uuid:point_id>")
class MonitoringPointById(MethodView):
    @located(blp)
    @blp.response(200, MonitoringPointSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, point_id: uuid.UUID):
        """One point (404 for a covert point the caller may not know of)"""
        return monitoring.get_point(db(), current_user(), point_id)

    @located(blp)
    @blp.arguments(MonitoringPointUpdateSchema)
    @blp.response(200, MonitoringPointSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def patch(self, body, point_id: uuid.UUID):
        """Change a point: covert or open, liaisons, leader, visit frequency, active dates"""
        point = monitoring.get_point(db(), current_user(), point_id, action="change")
        monitoring.update_point(db(), current_user(), point, body)
        return point

    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def delete(self, point_id: uuid.UUID):
        """End a designation (the enterprise stays)"""
        point = monitoring.get_point(db(), current_user(), point_id, action="change")
        monitoring.delete_point(db(), current_user(), point)
