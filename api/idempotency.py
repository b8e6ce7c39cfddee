"""The ``Idempotency-Key`` header on POSTs: replay the first answer, refuse a reused key."""

from __future__ import annotations

import hashlib

from flask import Flask, Response, current_app, g, request

from field import idempotency
from field.errors import AuthenticationFailed

from .auth import current_user

HEADER = "Idempotency-Key"


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
            user = current_user()
        except AuthenticationFailed:
            return None  # the view answers 401; nothing to remember
        session = current_app.extensions["SESSION_FACTORY"]()
        try:
            replay = idempotency.claim(session, user, key, _fingerprint())
        finally:
            session.close()
        if replay is not None:
            resp = Response(replay.body, status=replay.status, mimetype=replay.mimetype)
            resp.headers["Idempotent-Replayed"] = "true"
            return resp
        g.idempotency_key = (user, key)
        return None

    @app.after_request
    def _complete(response: Response):
        claimed = g.pop("idempotency_key", None)
        if claimed is None:
            return response
        user, key = claimed
        session = current_app.extensions["SESSION_FACTORY"]()
        try:
            if response.status_code >= 500:
                idempotency.release(session, user, key)
            else:
                idempotency.complete(session, user, key, response.status_code, response.mimetype,
                                     response.get_data(as_text=True))
        finally:
            session.close()
        return response
