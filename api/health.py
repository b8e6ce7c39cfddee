"""Liveness, readiness and the problem-type pages."""

from __future__ import annotations

import logging

from flask import jsonify
from flask_smorest import Blueprint
from sqlalchemy import text

from field.cases.calendar_years import calendar_warnings

from .clock import office_day
from .db import db
from .errors import CATALOGUE, problem

log = logging.getLogger(__name__)

blp = Blueprint("health", __name__, description="Process and database health")


@blp.route("/healthz")
@blp.doc(responses={"200": {"description": "The process is up"}})
def healthz():
    """Process up"""
    return jsonify(status="ok")


@blp.route("/readyz")
@blp.doc(responses={"200": {"description": "The database answers. ``warnings`` lists what an operator must "
                                           "see without it stopping service: from 1 November, next year's "
                                           "working-day schedule still undeclared (docs/calendar.md)"},
                    "503": "SERVICE_UNAVAILABLE"})
def readyz():
    """Database reachable; warnings the office must act on"""
    try:
        db().execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database means not ready
        return problem("unavailable", f"The database is not reachable: {type(exc).__name__}.",
                       headers={"Retry-After": "5"})
    try:
        # Without the codes: /readyz answers anyone, and which offices lag is the office's business.
        warnings = [{"code": w.code, "year": w.year, "message": w.message}
                    for w in calendar_warnings(db(), office_day())]
    except Exception:  # an advisory must never take the service out of rotation: say it could not be read
        log.exception("calendar warnings could not be read")
        warnings = [{"code": "calendar_unreadable", "message": "The working-day calendar could not be read; "
                                                               "see the server log."}]
    return jsonify(status="ready", warnings=warnings)


@blp.route("/problems/<slug>")
@blp.doc(responses={"200": {"description": "What this problem type means"},
                    "404": "NOT_FOUND"})
def problem_type(slug: str):
    """Describe a problem type"""
    kind = CATALOGUE.get(slug)
    if kind is None:
        return problem("not-found", f"No problem type {slug!r}.")
    return jsonify(type=f"/problems/{slug}", title=kind.title, status=kind.status)
