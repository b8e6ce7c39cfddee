"""Liveness, readiness and the problem-type pages."""

from __future__ import annotations

from flask import jsonify
from flask_smorest import Blueprint
from sqlalchemy import text

from .db import db
from .errors import CATALOGUE, problem

blp = Blueprint("health", __name__, description="Process and database health")


@blp.route("/healthz")
@blp.doc(responses={"200": {"description": "The process is up"}})
def healthz():
    """Process up"""
    return jsonify(status="ok")


@blp.route("/readyz")
@blp.doc(responses={"200": {"description": "The database answers"},
                    "503": "SERVICE_UNAVAILABLE"})
def readyz():
    """Database reachable"""
    try:
        db().execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database means not ready
        return problem("unavailable", f"The database is not reachable: {type(exc).__name__}.",
                       headers={"Retry-After": "5"})
    return jsonify(status="ready")


@blp.route("/problems/<slug>")
@blp.doc(responses={"200": {"description": "What this problem type means"},
                    "404": "NOT_FOUND"})
def problem_type(slug: str):
    """Describe a problem type"""
    kind = CATALOGUE.get(slug)
    if kind is None:
        return problem("not-found", f"No problem type {slug!r}.")
    return jsonify(type=f"/problems/{slug}", title=kind.title, status=kind.status)
