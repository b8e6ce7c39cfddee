"""The ``Idempotency-Key`` header on POSTs: replay the first answer, refuse a reused key.

Disclosures of an identity (views marked ``discloses_identity``) are the exception, in this
one place: their answers are never stored, so the header is refused on them, and they are
never cached along the way either (``Cache-Control: no-store``).
"""

from __future__ import annotations

import hashlib

from flask import Flask, Response, current_app, g, request
from flask_smorest import Blueprint, abort

from field.core.errors import AuthenticationFailed

from . import idempotency_store as idempotency
from .auth import current_user
from .db import db, on_answer

HEADER = "Idempotency-Key"
#: The attribute that marks a view function as a disclosure of an identity.
_DISCLOSES = "discloses_identity"


def discloses_identity(view):
    """Mark a view whose answer shows a real identity (a monitor's, a complainant's, an applicant's).

    Its answer is never stored for a replay: a replay would show the identity again without a
    new custody entry, and the stored answer would keep the identity in the idempotency table.
    So a request with an ``Idempotency-Key`` is refused (422), whatever its method, and every
    answer, refusals included, says ``Cache-Control: no-store``. The view itself writes the
    custody entry of the disclosure. The operation is published with ``x-discloses-identity``.
    """
    view = Blueprint.doc(**{"x-discloses-identity": True})(view)
    setattr(view, _DISCLOSES, True)
    return view


def holds_a_secret(view):
    """Mark a view whose answer carries a secret shown once (a complaint's tracking secret).

    Handled as a disclosure (no stored answer for a replay, ``Idempotency-Key`` refused,
    ``no-store``), but not published as one: the answer holds no identity.
    """
    setattr(view, _DISCLOSES, True)
    return view


def _discloses() -> bool:
    view = current_app.view_functions.get(request.endpoint)
    if view is not None and hasattr(view, "view_class"):  # a MethodView: the handler of this method
        view = getattr(view.view_class, request.method.lower(), None)
    return getattr(view, _DISCLOSES, False)


def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}?{request.query_string.decode()}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def init_idempotency(app: Flask) -> None:
    @app.before_request
    def _claim():
        key = request.headers.get(HEADER)
        if key and _discloses():
            abort(422, messages={"headers": {HEADER: [
                "A disclosure of an identity is never replayed: each one is a new, logged disclosure. "
                "Send it without this header."]}})
        # Uploads are resumable and content-addressed already; hashing their bodies here
        # would read them into memory.
        if request.method != "POST" or not key or request.mimetype in (
                "application/offset+octet-stream", "multipart/form-data"):
            return None
        if len(key) > 200:
            abort(422, messages={"headers": {HEADER: ["At most 200 characters."]}})
        try:
            # The key is taken in the transaction that reads the token and does the work.
            user = current_user()
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
    def _no_store(response: Response):
        if request.endpoint and _discloses():
            response.headers["Cache-Control"] = "no-store"
        return response

    def _record(response: Response, work_stands: bool) -> None:
        # In the request's transaction, before the wrapper's one commit (api/db.py); again, as a
        # refusal, if that commit failed (the key went with the rolled-back work).
        taken = g.get("idempotency_taken")
        if taken is not None:
            idempotency.record(db(), taken, response.status_code, response.mimetype,
                               response.get_data(as_text=True), work_stands=work_stands)

    on_answer(app, _record)
