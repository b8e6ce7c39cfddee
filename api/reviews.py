"""Review of field records: the office's queue, decisions, the comment thread, versions."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from field.records import lifecycle as records
from schemas.common import PageArgsSchema, page_of
from schemas.records import (
    CommentCreateSchema,
    CommentSchema,
    QueueArgsSchema,
    RecordEnvelopeSchema,
    RecordReviewSchema,
    ReviewDecisionSchema,
    VersionSchema,
)

from schemas.sync import register_entity_schema

from .auth import authenticated, current_user
from .db import db

register_entity_schema("record_review", RecordReviewSchema())

blp = Blueprint("reviews", __name__, url_prefix="/api/v1",
                description="Review of every kind of field record by the office")


@blp.route("/review-queue")
class ReviewQueue(MethodView):
    @blp.arguments(QueueArgsSchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(RecordEnvelopeSchema))
    @blp.alt_response(404, response="NOT_FOUND", description="jurisdiction_id names no jurisdiction in scope")
    @authenticated()
    def get(self, filters, cursor, limit):
        """Records waiting for review, oldest first"""
        return records.queue_page(db(), current_user(), filters, cursor=cursor, limit=limit)


@blp.route("/records/<uuid:record_id>/review")
class RecordReview(MethodView):
    @blp.arguments(ReviewDecisionSchema)
    @blp.response(200, RecordEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body, record_id: uuid.UUID):
        """Take a record into review, accept it, ask for more information or reject it"""
        record = records.get_record(db(), current_user(), record_id, action="review")
        records.review(db(), current_user(), record, body["state"], body["comment"])
        return record


@blp.route("/records/<uuid:record_id>/comments")
class RecordComments(MethodView):
    @blp.response(200, CommentSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, record_id: uuid.UUID):
        """The review thread of a record (its submitter or office staff)"""
        record = records.get_record(db(), current_user(), record_id)
        return records.comments(db(), record)

    @blp.arguments(CommentCreateSchema)
    @blp.response(201, CommentSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def post(self, body, record_id: uuid.UUID):
        """Add to the thread"""
        record = records.get_record(db(), current_user(), record_id)
        note = records.add_comment(db(), current_user(), record, body["body"])
        return note


@blp.route("/records/<uuid:record_id>/versions")
class RecordVersions(MethodView):
    @blp.response(200, VersionSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, record_id: uuid.UUID):
        """Every submitted version of a record, oldest first"""
        record = records.get_record(db(), current_user(), record_id)
        return records.versions(db(), record)
