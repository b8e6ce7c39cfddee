"""Undercover visits: finding categories, visit tasks, visits and findings (design: field/visits/visits.py).

Every endpoint here answers 404 to inspectors, liaisons and leaders, as if it did not
exist, whatever they send; squad members see their own squad's tasks and their own records,
under codes. The rule is the domain's (field/visits/visits.py ``require_undercover_role``, first
in every verb and lookup of the area); ``before_reading`` runs it before the body is read. Visits
and findings are record kinds: their endpoints come from api/records.py, hosted here.
"""

from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from field.visits import callbacks, taxonomy, visits
from field.core.pages import page
from schemas.common import PageArgsSchema, page_of
from schemas.sync import register_entity_schema
from schemas.visits import (
    CaseSchema,
    CategoryCreateSchema,
    CategoryQuerySchema,
    CategorySchema,
    CategoryUpdateSchema,
    TaskCreateSchema,
    TaskQuerySchema,
    TaskSchema,
    TaskUpdateSchema,
)

from .auth import authenticated, before_reading, current_device, current_user
from .db import db
from .idempotency import discloses_identity
from .located import located
from .records import record_routes

blp = Blueprint("visits", __name__, url_prefix="/api/v1",
                description="Undercover visits (明查暗访): the office's tasks for squads, their visits and findings, "
                            "and the finding categories. Office staff and squad members only: 404 for anyone else")
before_reading(blp, visits.require_undercover_role)  # outsiders: 404 whatever they send (the domain's rule)

register_entity_schema("visit_task", TaskSchema())


# -- finding categories ------------------------------------------------------------------------


@blp.route("/finding-categories")
class Categories(MethodView):
    @blp.arguments(CategoryQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(CategorySchema))
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, query, cursor, limit):
        """The finding categories that apply to the caller (office staff: and those below them)"""
        return page(db(), taxonomy.categories_query, db(), current_user(), cursor=cursor, limit=limit, **query)

    @blp.arguments(CategoryCreateSchema)
    @blp.response(201, CategorySchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body):
        """Add a category for the admin's jurisdiction (it applies below it too; admins)"""
        row = taxonomy.create_category(db(), current_user(), **body)
        return row


@blp.route("/finding-categories/<uuid:category_id>")
class CategoryById(MethodView):
    @blp.response(200, CategorySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, category_id: uuid.UUID):
        """One finding category"""
        return taxonomy.get_category(db(), current_user(), category_id)

    @blp.arguments(CategoryUpdateSchema)
    @blp.response(200, CategorySchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def patch(self, body, category_id: uuid.UUID):
        """Relabel, regroup or (de)activate an office's own category (admins; the seeded ones are fixed)"""
        row = taxonomy.get_category(db(), current_user(), category_id)
        taxonomy.update_category(db(), current_user(), row, body)
        return row


# -- visit tasks -------------------------------------------------------------------------------


@blp.route("/visit-tasks")
class Tasks(MethodView):
    @located(blp)
    @blp.arguments(TaskQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(TaskSchema))
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, query, cursor, limit):
        """Visit tasks: office staff all of their scope, a squad member their own squad's"""
        return page(db(), visits.tasks_query, current_user(), cursor=cursor, limit=limit, **query)

    @located(blp)
    @blp.arguments(TaskCreateSchema)
    @blp.response(201, TaskSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body):
        """Give a squad a task (office staff)

        The target is one of: ``unit_id`` (a department, section or window),
        ``enterprise_id``, ``place_name`` with ``location``, or, for the method
        ``callback``, ``sample_id`` (a callback sample, assigned once).
        """
        task = visits.create_task(db(), current_user(), **body)
        return task


@blp.route("/visit-tasks/<uuid:task_id>")
class TaskById(MethodView):
    @located(blp)
    @blp.response(200, TaskSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, task_id: uuid.UUID):
        """One visit task (a squad member: of their own squad)"""
        return visits.get_task(db(), current_user(), task_id)

    @located(blp)
    @blp.arguments(TaskUpdateSchema)
    @blp.response(200, TaskSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def patch(self, body, task_id: uuid.UUID):
        """Change a task's theme, instructions, window or state (office staff)"""
        task = visits.get_task(db(), current_user(), task_id)
        visits.update_task(db(), current_user(), task, body)
        return task


@blp.route("/visit-tasks/<uuid:task_id>/cases")
class TaskCases(MethodView):
    @discloses_identity
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(CaseSchema))
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, task_id: uuid.UUID, cursor, limit):
        """The cases a callback task is to call back, with the applicants' contacts (none for other tasks)

        Showing the contacts is a disclosure, logged in the custody chain (applicant_contacts.shown).
        """
        task = visits.get_task(db(), current_user(), task_id)
        cases = page(db(), callbacks.task_cases_query, task, cursor=cursor, limit=limit)
        callbacks.show_cases(db(), current_user(), cases.items, device_id=current_device().id)
        return cases


# Visits and findings themselves: the record-kind seam's endpoints (api/records.py), on this blueprint.
record_routes(blp, "visit", "finding")

