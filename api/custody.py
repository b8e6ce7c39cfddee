"""Custody checkpoints over HTTP (admins): the list, and each signed note as a document to download.

Checkpoints are made by ``fieldwatch checkpoint`` (cron), where the signing key lives; the web
app never needs the private key. docs/custody.md says how a third party checks a note.
"""

from __future__ import annotations

import uuid

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from evidence.storage import content_disposition
from field.core.pages import page
from field.custody import checkpoints
from schemas.common import PageArgsSchema, page_of
from schemas.custody import CheckpointSchema

from .auth import authenticated, current_user
from .db import db

blp = Blueprint("custody", __name__, url_prefix="/api/v1/custody",
                description="Custody log checkpoints: the signed head of every chain (admins)")

_NOTE_DOC = {"responses": {"200": {
    "description": "The checkpoint as a C2SP signed note (UTF-8 text, Ed25519 signature line), as an attachment",
    "content": {"text/plain": {"schema": {"type": "string"}}}}}}


@blp.route("/checkpoints")
class Checkpoints(MethodView):
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(CheckpointSchema))
    @authenticated()
    def get(self, cursor, limit):
        """Signed checkpoints of the custody log, newest first"""
        return page(db(), checkpoints.checkpoints_query, current_user(), cursor=cursor, limit=limit)


@blp.route("/checkpoints/<uuid:checkpoint_id>")
class CheckpointNote(MethodView):
    @blp.doc(**_NOTE_DOC)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, checkpoint_id: uuid.UUID):
        """One checkpoint as its signed note, to print, file or hand to a third party"""
        row = checkpoints.get_checkpoint(db(), checkpoint_id, current_user())
        response = Response(row.note, mimetype="text/plain")
        response.headers["Content-Disposition"] = content_disposition(
            f"custody-checkpoint-{row.made_at:%Y%m%dT%H%M%SZ}-{row.id.hex[:8]}.txt")
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
