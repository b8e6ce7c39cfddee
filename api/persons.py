"""Persons: staff of units who may be the subject of a finding or a case (not users)."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from field.directory import units
from field.core.pages import page
from schemas.common import PageArgsSchema, page_of
from schemas.directory import PersonCreateSchema, PersonQuerySchema, PersonSchema, PersonUpdateSchema
from schemas.sync import register_entity_schema

from .auth import authenticated, current_user
from .db import db

blp = Blueprint("persons", __name__, url_prefix="/api/v1/persons",
                description="Staff of units, with post and rank (admins write, all read)")
register_entity_schema("person", PersonSchema())


@blp.route("")
class Persons(MethodView):
    @blp.arguments(PersonQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(PersonSchema))
    @authenticated()
    def get(self, query, cursor, limit):
        """Persons in the caller's scope"""
        return page(db(), units.persons_query, current_user(), cursor=cursor, limit=limit, **query)

    @blp.arguments(PersonCreateSchema)
    @blp.response(201, PersonSchema)
    @authenticated()
    def post(self, body):
        """Add a person to a unit"""
        person = units.create_person(db(), current_user(), **body)
        return person


@blp.route("/<uuid:person_id>")
class PersonById(MethodView):
    @blp.response(200, PersonSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, person_id: uuid.UUID):
        """One person"""
        return units.get_person(db(), current_user(), person_id)

    @blp.arguments(PersonUpdateSchema)
    @blp.response(200, PersonSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def patch(self, body, person_id: uuid.UUID):
        """Change a person's post, rank, name or unit"""
        person = units.get_person(db(), current_user(), person_id, action="change")
        units.update_person(db(), current_user(), person, body)
        return person

    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def delete(self, person_id: uuid.UUID):
        """Delete a person (records that name them keep pointing at them)"""
        person = units.get_person(db(), current_user(), person_id, action="change")
        units.delete_person(db(), current_user(), person)
