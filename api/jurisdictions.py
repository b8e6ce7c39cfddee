"""The jurisdiction tree: the caller's own and what lies below it."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from field.accounts import jurisdictions
from field.core.pages import page
from schemas.common import PageArgsSchema, page_of
from schemas.jurisdictions import (
    JurisdictionCreateSchema,
    JurisdictionQuerySchema,
    JurisdictionSchema,
    JurisdictionUpdateSchema,
)

from .auth import authenticated, current_user
from .db import db

blp = Blueprint("jurisdictions", __name__, url_prefix="/api/v1/jurisdictions",
                description="Province → city → district → street; each user sees their own subtree")


@blp.route("")
class Jurisdictions(MethodView):
    @blp.arguments(JurisdictionQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(JurisdictionSchema))
    @authenticated()
    def get(self, query, cursor, limit):
        """Jurisdictions in the caller's scope"""
        return page(db(), jurisdictions.jurisdictions_query, current_user(), cursor=cursor, limit=limit, **query)

    @blp.arguments(JurisdictionCreateSchema)
    @blp.response(201, JurisdictionSchema)
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body):
        """Add a jurisdiction below one in the admin's scope"""
        j = jurisdictions.create_jurisdiction(db(), actor=current_user(), **body)
        return j


@blp.route("/<uuid:jurisdiction_id>")
class JurisdictionById(MethodView):
    @blp.response(200, JurisdictionSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, jurisdiction_id: uuid.UUID):
        """One jurisdiction with its boundary"""
        return jurisdictions.get_jurisdiction(db(), current_user(), jurisdiction_id)

    @blp.arguments(JurisdictionUpdateSchema)
    @blp.response(200, JurisdictionSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def patch(self, body, jurisdiction_id: uuid.UUID):
        """Rename a jurisdiction or replace its boundary"""
        j = jurisdictions.get_jurisdiction(db(), current_user(), jurisdiction_id, action="jurisdictions.change")
        jurisdictions.update_jurisdiction(db(), current_user(), j, body)
        return j
