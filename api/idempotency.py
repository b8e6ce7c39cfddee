"""The ``Idempotency-Key`` header on POSTs: replay the first answer, refuse a reused key."""

from __future__ import annotations

import hashlib
import logging

from flask import Flask, Response, g, request
from sqlalchemy.exc import SQLAlchemyError

from field.core import idempotency
from field.core.errors import AuthenticationFailed

from .auth import current_user
from .db import db

HEADER = "Idempotency-Key"
log = logging.getLogger("fieldwatch.idempotency")


def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}?{request.query_string.decode()}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def init_idempotency(app: Flask) -> None:
    @app.before_request
    def _claim():
        key = request.headers.get(HEADER)
        # Uploads are resumable and content-addressed already; hashing their bodies here
        # would read them into memory.
        if request.method != "POST" or not key or request.mimetype in (
                "application/offset+octet-stream", "multipart/form-data"):
            return None
        if len(key) > 200:
            from flask_smorest import abort
            abort(422, messages={"headers": {HEADER: ["At most 200 characters."]}})
        try:
            # The key is taken in the transaction that reads the token and does the work.
            user = current_user(continue_transaction=True)
        except AuthenticationFailed:
            return None  # the view answers 401; nothing to remember
        result = idempotency.take(db(), user, key, _fingerprint())
        if isinstance(result, idempotency.Replay):
            resp = Response(result.body, status=result.status, mimetype=result.mimetype)
            resp.headers["Idempotent-Replayed"] = "true"
            return resp
        g.idempotency_taken = result
        return None

    @app.after_request
    def _complete(response: Response):
        taken = g.pop("idempotency_taken", None)
        if taken is None:
            return response
        try:
            if response.status_code >= 500:
                idempotency.release(db(), taken)
            else:
                idempotency.answer(db(), taken, response.status_code, response.mimetype,
                                   response.get_data(as_text=True))
        except SQLAlchemyError:
            # The request's own outcome stands: its work committed (or not) already. Unstored,
            # a committed key stays in flight, and a retry is told so until it goes stale.
            log.exception("the answer to Idempotency-Key %r could not be stored", taken.key)
        return response
