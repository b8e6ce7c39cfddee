"""The one catalogue of problems: every error leaves the API as RFC 9457 application/problem+json."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from flask import Flask, Response, request
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from field.core import evidence_errors
from evidence import pipeline as evidence_pipeline
from evidence import upload_caps
from evidence import uploads as evidence_uploads
from field.core import errors as domain
from field.evaluations import ballots as evaluation_ballots

log = logging.getLogger(__name__)

PROBLEM_MIME = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    status: int
    title: str


#: slug → what it means. ``type`` is ``/problems/<slug>``, which the API also serves.
CATALOGUE: dict[str, ProblemType] = {
    "bad-request": ProblemType(400, "The request is malformed"),
    "unauthenticated": ProblemType(401, "Authentication required"),
    "forbidden": ProblemType(403, "Not allowed"),
    "not-found": ProblemType(404, "Not found"),
    "method-not-allowed": ProblemType(405, "Method not allowed"),
    "not-acceptable": ProblemType(406, "Not acceptable"),
    "conflict": ProblemType(409, "Conflict with the stored state"),
    "invalid-transition": ProblemType(409, "State change not allowed"),
    "evidence-damaged": ProblemType(409, "Evidence damaged"),
    "gone": ProblemType(410, "Gone"),
    "precondition-failed": ProblemType(412, "Precondition failed"),
    "payload-too-large": ProblemType(413, "Request body too large"),
    "unsupported-media-type": ProblemType(415, "Unsupported media type"),
    "validation-failed": ProblemType(422, "The input is not valid"),
    "locked": ProblemType(423, "Locked"),
    "precondition-required": ProblemType(428, "Precondition required"),
    "rate-limited": ProblemType(429, "Too many requests"),
    "checksum-mismatch": ProblemType(460, "Checksum mismatch"),
    "internal-error": ProblemType(500, "Internal server error"),
    "unavailable": ProblemType(503, "Service temporarily unavailable"),
}

_BY_STATUS = {}
for _slug, _p in CATALOGUE.items():
    _BY_STATUS.setdefault(_p.status, _slug)

#: Domain error → problem slug. The first matching class (in MRO order) wins.
DOMAIN_ERRORS: dict[type[Exception], str] = {
    domain.NotFound: "not-found",
    domain.NotAllowed: "forbidden",
    domain.AuthenticationFailed: "unauthenticated",
    domain.InvalidTransition: "invalid-transition",
    domain.Conflict: "conflict",
    domain.InvalidInput: "validation-failed",
    domain.DomainError: "validation-failed",
    evidence_errors.UnsupportedMedia: "unsupported-media-type",
    evidence_errors.TooLarge: "payload-too-large",
    evidence_errors.OffsetMismatch: "conflict",
    evidence_errors.BlobNotFound: "not-found",
    evidence_errors.StorageUnavailable: "unavailable",
    evidence_errors.BlobConflict: "internal-error",
    evidence_errors.EvidenceDamaged: "evidence-damaged",
    evidence_errors.EvidenceError: "validation-failed",
    evidence_uploads.UploadGone: "gone",
    evidence_uploads.UploadLocked: "locked",
    upload_caps.TooManyUploads: "rate-limited",
    evaluation_ballots.TooManyBallots: "rate-limited",
    evidence_uploads.ChecksumMismatch: "checksum-mismatch",
    evidence_uploads.UnsupportedChecksum: "bad-request",
    evidence_pipeline.NoDerivative: "not-found",
    evidence_pipeline.DerivationPending: "unavailable",
}


def problem_body(slug: str, detail: str | None = None, *, status: int | None = None,
                 fields: list[dict] | None = None, **extra) -> dict:
    """The problem document itself (a batch answers one per refused item, inside its own body)."""
    kind = CATALOGUE[slug]
    body = {
        "type": f"/problems/{slug}",
        "title": kind.title,
        "status": status or kind.status,
        "detail": detail or kind.title,
    }
    if fields:
        body["errors"] = fields
    body.update(extra)
    return body


def problem(slug: str, detail: str | None = None, *, status: int | None = None,
            fields: list[dict] | None = None, headers: dict | None = None, **extra) -> Response:
    return _answer(problem_body(slug, detail, status=status, fields=fields, **extra), headers)


def _answer(body: dict, headers: dict | None) -> Response:
    try:
        body["instance"] = request.path
    except RuntimeError:  # outside a request (tests of the mapping)
        pass
    resp = Response(json.dumps(body, ensure_ascii=False, default=str), status=body["status"],
                    mimetype=PROBLEM_MIME)
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def flatten_messages(messages, prefix="") -> list[dict]:
    """webargs' nested {"json": {"field": ["msg"]}} → [{"field": "field", "in": "json", ...}]."""
    out = []

    def walk(node, path, location):
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, path + [str(key)], location)
        elif isinstance(node, (list, tuple)) and node and all(isinstance(m, str) for m in node):
            for msg in node:
                out.append({"field": ".".join(path) or "_body", "in": location, "message": msg})
        elif isinstance(node, (list, tuple)):
            for item in node:
                walk(item, path, location)
        else:
            out.append({"field": ".".join(path) or "_body", "in": location, "message": str(node)})

    if isinstance(messages, dict):
        for location, node in messages.items():
            walk(node, [], location)
    else:
        walk(messages, [], "json")
    return out


def domain_slug(exc: Exception) -> str:
    """The catalogue's name for a domain error (the first of its classes that is mapped)."""
    return next(DOMAIN_ERRORS[k] for k in type(exc).__mro__ if k in DOMAIN_ERRORS)


def domain_status(exc: Exception) -> int:
    """The HTTP status a domain error answers."""
    return getattr(exc, "status", None) or CATALOGUE[domain_slug(exc)].status


def domain_problem_body(exc: Exception, field_prefix: str = "") -> dict:
    """A domain error's problem document; ``field_prefix`` puts its field names where they sit in
    a larger body (a batch's ``items.3.body.``)."""
    fields = [{"field": field_prefix + f.field, "message": f.message} for f in getattr(exc, "fields", [])]
    extra = dict(getattr(exc, "extra", {}) or {})
    return problem_body(domain_slug(exc), getattr(exc, "detail", str(exc)), fields=fields,
                        status=getattr(exc, "status", None), **extra)


def _domain_problem(exc: Exception) -> Response:
    retry_after = getattr(exc, "retry_after", None) or (5 if domain_slug(exc) == "unavailable" else None)
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return _answer(domain_problem_body(exc), headers)


def _http_problem(exc: HTTPException) -> Response:
    status = exc.code or 500
    slug = _BY_STATUS.get(status, "bad-request" if status < 500 else "internal-error")
    data = getattr(exc, "data", None) or {}
    fields = flatten_messages(data["messages"]) if "messages" in data else None
    if status == 422 and fields is None:
        fields = []
    headers = dict(data.get("headers") or {})
    valid_methods = getattr(exc, "valid_methods", None)
    if status == 405 and valid_methods:
        headers["Allow"] = ", ".join(valid_methods)
    extra = {k: v for k, v in data.items() if k not in ("messages", "headers", "message", "exc", "schema")}
    detail = data.get("message") or exc.description or CATALOGUE[slug].title
    if fields:
        detail = "Some fields are not valid: " + ", ".join(sorted({f["field"] for f in fields})) + "."
    return problem(slug, detail, status=status, fields=fields, headers=headers, **extra)


def _rate_limited(exc) -> Response:
    """429 with the limit that was hit and the wait, in the body as well as the headers."""
    import math
    import time

    from .auth import limiter

    current = limiter.current_limit
    retry_after = max(1, math.ceil(current.reset_at - time.time())) if current else 60
    return problem("rate-limited", f"Too many failed attempts: the limit is {exc.limit.limit}. "
                   f"Try again in {retry_after} seconds.",
                   limit=str(exc.limit.limit), retry_after=retry_after,
                   headers={"Retry-After": str(retry_after)})


def register_error_handlers(app: Flask) -> None:
    from flask_limiter.errors import RateLimitExceeded

    app.register_error_handler(RateLimitExceeded, _rate_limited)
    for error_class in {k for k in DOMAIN_ERRORS}:
        app.register_error_handler(error_class, _domain_problem)
    app.register_error_handler(HTTPException, _http_problem)

    @app.errorhandler(IntegrityError)
    def _integrity(exc):
        # A unique or foreign-key constraint caught a race the domain checks could not see.
        log.info("integrity error mapped to 409: %s", exc.orig)
        return problem("conflict", "The request conflicts with stored data (a duplicate or a dangling reference).")

    @app.errorhandler(OperationalError)
    def _db_down(exc):
        log.error("database unavailable: %s", exc)
        return problem("unavailable", "The database is not reachable; try again shortly.",
                       headers={"Retry-After": "5"})

    @app.errorhandler(DBAPIError)
    def _db_error(exc):
        if exc.connection_invalidated:
            return problem("unavailable", "The database connection was lost; try again shortly.",
                           headers={"Retry-After": "5"})
        log.exception("database error")
        return problem("internal-error", "An unexpected error occurred; it has been logged.")

    @app.errorhandler(Exception)
    def _unexpected(exc):
        if isinstance(exc, HTTPException):
            return _http_problem(exc)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem("internal-error", "An unexpected error occurred; it has been logged.")
