"""The console's pages: each parses, calls one domain function and renders or redirects (the wrapper commits: api/db.py)."""

from __future__ import annotations

import uuid

import marshmallow as ma
from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from api.auth import login_limits
from api.db import db
from api.evidence import send_derivative, send_original
from field.core.errors import AuthenticationFailed, InvalidInput, InvalidTransition
from field.records import lifecycle as records
from field.visits import record_history, review_sheet
from schemas.records import QueueArgsSchema, ReviewDecisionSchema

from .. import session
from ..pages import local_path
from . import blp, maps
from .record_fields import fields_of, version_text

PAGE_SIZE = 25
_FILTERS = tuple(QueueArgsSchema().fields)


# -- sign-in and sign-out ------------------------------------------------------------------------


@blp.get("/sign-in")
def sign_in_form():
    user, _device = session.current_or_none()
    if user is not None:
        return redirect(url_for(".queue"), code=303)
    return render_template("console/sign_in.html", next=request.args.get("next"),
                           ended=request.args.get("ended"), signed_out="signed_out" in request.args)


@blp.post("/sign-in")
@login_limits()
def sign_in():
    username, password = request.form.get("username", ""), request.form.get("password", "")
    back = local_path(request.form.get("next"), url_for(".queue"))
    try:
        issued = session.sign_in(username, password)
    except AuthenticationFailed:
        # 401: the status the login limits count (api/auth.py login_failed).
        return render_template("console/sign_in.html", next=back, username=username, failed=True), 401
    except session.NotOfficeStaff as refused:
        return render_template("console/not_for_you.html", role=refused.role.value), 403
    response = redirect(back, code=303)
    session.set_cookie(response, issued)
    return response


@blp.post("/sign-out")
def sign_out():
    session.sign_out()
    response = redirect(url_for(".sign_in_form", signed_out=1), code=303)
    session.clear_cookie(response)
    return response


# -- the review queue ----------------------------------------------------------------------------


def _queue_filters() -> tuple[dict, dict]:
    """The queue's filters from the query string (empty fields dropped), by the API's own schema."""
    given = {k: v for k, v in request.args.items() if k in _FILTERS and v.strip()}
    try:
        return QueueArgsSchema().load(given), {}
    except ma.ValidationError as invalid:
        return {}, invalid.messages


@blp.get("/")
def queue():
    user, _device = session.current()
    filters, errors = _queue_filters()
    cursor = request.args.get("cursor") or None
    page = review_sheet.queue_page(db(), user, filters, cursor=cursor, limit=PAGE_SIZE) if not errors else None
    if request.headers.get("HX-Request") and cursor and page is not None:
        return render_template("console/_queue_more.html", page=page, query=_query_without_cursor())
    return render_template("console/queue.html", page=page, errors=errors, given=request.args,
                           choices=review_sheet.queue_choices(db(), user), query=_query_without_cursor(),
                           first_page=cursor is None), 422 if errors else 200


def _query_without_cursor() -> dict:
    return {k: v for k, v in request.args.items() if k in _FILTERS and v.strip()}


# -- a record ------------------------------------------------------------------------------------


def _record_page(record_id: uuid.UUID, *, error: str | None = None, comment: str = "", status: int = 200):
    user, _device = session.current()
    sheet = review_sheet.record_sheet(db(), user, record_id)
    return render_template("console/record.html", sheet=sheet, fields=fields_of(db(), sheet),
                           error=error, comment=comment, decided=request.args.get("decided"),
                           versions=record_history.version_table(db(), sheet.record),
                           trails={item.sha256: record_history.evidence_trail(db(), user, item.sha256)
                                   for item in sheet.evidence if item.arrived},
                           positions=_photo_positions(sheet), version_text=version_text), status


def _photo_positions(sheet) -> dict[str, dict]:
    """Per photo with an EXIF position, beside a record with one: the distance and a small map's spec."""
    shown = {}
    for item in sheet.evidence:
        distance = record_history.photo_distance_m(sheet.location, item.gps)
        if distance is None:
            continue
        record_at, photo_at = maps.shown(*sheet.location[:2]), maps.shown(*item.gps[:2])
        shown[item.sha256] = {"distance_m": distance, "map": maps.spec(
            markers=[{"lat": record_at[0], "lon": record_at[1], "kind": "record", "label": _("Record's position")},
                     {"lat": photo_at[0], "lon": photo_at[1], "kind": "photo", "label": _("Photo's position")}],
            lines=[[list(record_at), list(photo_at)]], max_zoom=17)}
    return shown


@blp.get("/records/<uuid:record_id>")
def record(record_id: uuid.UUID):
    return _record_page(record_id)


@blp.post("/records/<uuid:record_id>/review")
def review(record_id: uuid.UUID):
    user, _device = session.current()
    comment = request.form.get("comment", "")
    try:
        body = ReviewDecisionSchema().load({"state": request.form.get("state", ""), "comment": comment or None})
    except ma.ValidationError as invalid:
        return _record_page(record_id, error="; ".join(f"{k}: {' '.join(v)}" for k, v in invalid.messages.items()),
                            comment=comment, status=422)
    record = records.get_record(db(), user, record_id, action="review")
    try:
        records.review(db(), user, record, body["state"], body["comment"])
    except (InvalidInput, InvalidTransition) as refused:
        db().rollback()
        if isinstance(refused, InvalidTransition):
            error, status = _("This record was decided meanwhile; see its state and comments."), 409
        elif any(f.field == "comment" for f in refused.fields):
            error, status = _("Say why in the comment: the submitter reads it and answers."), 422
        else:
            error, status = refused.detail, 422
        return _record_page(record_id, error=error, comment=comment, status=status)
    return redirect(url_for(".record", record_id=record_id, decided=body["state"].value), code=303)


# -- evidence, under the API's rules -------------------------------------------------------------


@blp.get("/evidence/<string:sha256>/<any(thumb, preview):name>")
def evidence_copy(sha256: str, name: str):
    user, device = session.current()
    return send_derivative(user, device.id, sha256, name)


@blp.get("/evidence/<string:sha256>/original")
def evidence_original(sha256: str):
    user, device = session.current()
    return send_original(user, device.id, sha256)
