"""The public's complaint pages (民情信箱) for a phone browser and WeChat's: file, get the receipt, follow, rate.

No account and no script needed (a map pick is added when the office has a tile server). The pages
call the JSON door's verbs (field/complaints: intake, photos, handling, views) and share its rate
limits (api/public_complaints.py). The tracking secret never appears in a URL: it is shown once on
the receipt, travels in form bodies and, so that a phone can follow its own complaint, in an
HttpOnly cookie limited to /complaints; every page that shows it is ``no-store``.
"""

from __future__ import annotations

import math

import marshmallow as ma
from flask import current_app, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from api.db import db
from api.evidence import blob_store, policy
from api.public_complaints import default_jurisdiction, filing_limits, following_limits
from field.complaints import handling, intake, photos, views
from field.complaints.categories import CATEGORIES
from field.complaints.models import Channel, Rating, State
from field.core.errors import Conflict, DomainError, InvalidTransition, NotFound
from field.core.evidence_errors import EvidenceError
from field.core.locations import GivenLocation
from field.core.office import office_today
from schemas.complaints import MAX_TEXT

from .. import csrf
from ..i18n import current_language
from . import blp


#: The cookie that lets a phone follow its own complaint: "<tracking number> <secret>", HttpOnly, /complaints only.
COOKIE = "fw_complaint"
COOKIE_DAYS = 180
#: The page's multipart body: the form's text fields and the photos.
FORM_OVERHEAD = 64 * 1024

STATE_LABELS = {
    State.received: _l("Received, waiting to be examined"),
    State.accepted: _l("Accepted, about to be sent to the unit responsible"),
    State.rejected: _l("Not taken up"),
    State.merged: _l("Handled together with an earlier complaint on the same matter"),
    State.dispatched: _l("With the unit responsible, waiting for its answer"),
    State.answered: _l("Answered: please rate the answer"),
    State.closed: _l("Closed"),
}
RATING_LABELS = {
    Rating.satisfied: _l("Satisfied"),
    Rating.basically_satisfied: _l("Basically satisfied"),
    Rating.dissatisfied: _l("Dissatisfied"),
}


class _FormSchema(ma.Schema):
    """The page's fields, as the browser sends them (strings); the domain checks the rest."""

    category = ma.fields.String(required=True, validate=ma.validate.OneOf([c.code for c in CATEGORIES]))
    text = ma.fields.String(required=True, validate=ma.validate.Length(1, MAX_TEXT))
    address = ma.fields.String(load_default="", validate=ma.validate.Length(max=300))
    lon = ma.fields.Float(load_default=None, allow_nan=False, validate=ma.validate.Range(-180, 180))
    lat = ma.fields.Float(load_default=None, allow_nan=False, validate=ma.validate.Range(-90, 90))
    name = ma.fields.String(load_default="", validate=ma.validate.Length(max=100))
    contact = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))

    class Meta:
        unknown = ma.EXCLUDE


def _form_values() -> dict:
    values = {k: v.strip() for k, v in request.form.items() if k != csrf.FIELD}
    return {k: v for k, v in values.items() if v != "" or k in ("text", "category")}


def _categories():
    chinese = current_language() == "zh-CN"
    return [(c.code, c.label_zh if chinese else c.label_en) for c in CATEGORIES]


def _category_label(code: str) -> str:
    return dict(_categories()).get(code, code)


def _map_settings() -> dict | None:
    tiles = current_app.config["PUBLIC_MAP_TILES"]
    if not tiles:
        return None
    lon, lat = (float(x) for x in current_app.config["PUBLIC_MAP_CENTER"].split(","))
    return {"tiles": tiles, "lon": lon, "lat": lat}


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _form_page(values: dict | None = None, errors: dict | None = None, status: int = 200):
    page = render_template("public/complaint_form.html", values=values or {}, errors=errors or {},
                           categories=_categories(), map=_map_settings(), max_photos=photos.MAX_PHOTOS,
                           photo_mb=current_app.config["PUBLIC_COMPLAINT_PHOTO_MAX_BYTES"] // (1024 * 1024))
    return page, status


@blp.before_request
def _room_for_photos():
    # Only the filing form takes photos: the pages' 64 KiB limit (web/pages.py) is raised for it alone,
    # before anything (the rate limits' contact key) reads the body.
    if request.endpoint == "public.file_complaint" and request.method == "POST":
        request.max_content_length = (photos.MAX_PHOTOS * current_app.config["PUBLIC_COMPLAINT_PHOTO_MAX_BYTES"]
                                      + FORM_OVERHEAD)


@blp.get("/complaints/")
def complaint_form():
    return _form_page()


@blp.post("/complaints/")
@filing_limits
def file_complaint():
    csrf.require(csrf.pre_secret())
    try:
        return _file_complaint()
    finally:
        # werkzeug closes one file per field name at the end of the request: the other photos are ours to close.
        for file in request.files.getlist("photos"):
            file.close()


def _file_complaint():
    values = _form_values()
    try:
        body = _FormSchema().load(values)
    except ma.ValidationError as err:
        return _form_page(values, {k: " ".join(map(str, v)) for k, v in err.messages.items()}, 422)
    if (body["lon"] is None) != (body["lat"] is None) or (body["lon"] is not None and not (
            math.isfinite(body["lon"]) and math.isfinite(body["lat"]))):
        return _form_page(values, {"place": _("Pick the place again.")}, 422)
    files = [f for f in request.files.getlist("photos") if f and f.filename]
    if len(files) > photos.MAX_PHOTOS:
        return _form_page(values, {"photos": _("At most %(n)s photos.", n=photos.MAX_PHOTOS)}, 422)
    session = db()
    try:
        jurisdiction = intake.public_jurisdiction(session, None, default_jurisdiction())
        receipt = intake.file_public(session, jurisdiction, {
            "category": body["category"], "text": body["text"], "address": body["address"],
            "location": GivenLocation(body["lon"], body["lat"]) if body["lon"] is not None else None,
            "name": body["name"], "contact": body["contact"]}, channel=Channel.mailbox)
        for file in files:
            photos.add_photo(session, blob_store(), receipt.complaint, file.stream, policy=policy(),
                             max_bytes=current_app.config["PUBLIC_COMPLAINT_PHOTO_MAX_BYTES"],
                             filename=file.filename, channel="complaint page", field="photos")
    except EvidenceError:
        session.rollback()
        return _form_page(values, {"photos": _refusal("photos")}, 422)
    except DomainError as refused:
        session.rollback()
        errors = {("photos" if f.field in ("photos", "file") else f.field): _refusal(f.field)
                  for f in refused.fields}
        return _form_page(values, errors or {"form": _("The complaint could not be filed. Check it and try again.")},
                          422)
    response = make_response(render_template(
        "public/complaint_receipt.html", tracking_number=receipt.tracking_number, secret=receipt.secret,
        photo_count=len(files)), 201)
    _remember(response, receipt.tracking_number, receipt.secret)
    return _no_store(response)


def _refusal(field: str) -> str:
    """A domain refusal in the page's language (the domain's messages are for the API's English readers)."""
    if field == "photos":
        return _("A photo was refused: send JPEG, PNG, WebP or HEIC photos of at most %(mb)s MB each.",
                 mb=current_app.config["PUBLIC_COMPLAINT_PHOTO_MAX_BYTES"] // (1024 * 1024))
    return _("Say what happened.") if field == "text" else _("Check this field.")


def _remember(response, tracking_number: str, secret: str) -> None:
    response.set_cookie(COOKIE, f"{tracking_number} {secret}", max_age=COOKIE_DAYS * 24 * 3600,
                        path="/complaints", httponly=True, secure=request.is_secure, samesite="Strict")


def _remembered() -> tuple[str, str] | None:
    number, _sep, secret = request.cookies.get(COOKIE, "").partition(" ")
    return (number, secret) if number and secret else None


def _status_page(complaint, secret: str, *, status: int = 200, rated: bool = False, errors: dict | None = None):
    view = views.public_view(complaint)
    response = make_response(render_template(
        "public/complaint_status.html", view=view, secret=secret, state_label=STATE_LABELS[view.state],
        category=_category_label(view.category_code), ratings=list(RATING_LABELS.items()),
        rating_label=RATING_LABELS.get(Rating(view.rating)) if view.rating else None, rated=rated,
        errors=errors or {}), status)
    _remember(response, complaint.tracking_number, secret)
    return _no_store(response)


@blp.get("/complaints/follow")
def follow_form():
    remembered = _remembered()
    if remembered:
        try:
            return _status_page(intake.by_secret(db(), *remembered), remembered[1])
        except NotFound:
            pass  # a cookie of a complaint no longer found: ask again
    return _no_store(make_response(render_template("public/complaint_follow.html", values={})))


@blp.post("/complaints/follow")
@following_limits
def follow():
    csrf.require(csrf.pre_secret())
    number, secret = request.form.get("tracking_number", "").strip(), request.form.get("secret", "").strip()
    try:
        complaint = intake.by_secret(db(), number, secret)
    except NotFound:
        return _no_store(make_response(render_template(
            "public/complaint_follow.html", values={"tracking_number": number}, not_found=True), 404))
    return _status_page(complaint, secret)


@blp.post("/complaints/rate")
@following_limits
def rate():
    csrf.require(csrf.pre_secret())
    number, secret = request.form.get("tracking_number", "").strip(), request.form.get("secret", "").strip()
    session = db()
    complaint = intake.by_secret(session, number, secret)
    chosen = request.form.get("rating", "")
    if chosen not in {r.value for r in Rating}:
        return _status_page(complaint, secret, status=422, errors={"rating": _("Choose one.")})
    resolved = {"yes": True, "no": False}.get(request.form.get("resolved", ""))
    text = request.form.get("text", "").strip()[:MAX_TEXT]
    try:
        handling.rate(session, complaint, rating=Rating(chosen), resolved=resolved, text=text,
                      today=office_today())
    except (InvalidTransition, Conflict):
        # Rated already (from another tab, or twice in a hurry): the page shows the rating that counts.
        session.rollback()
        return _status_page(intake.by_secret(session, number, secret), secret, status=409,
                            errors={"rating": _("This answer has already been rated.")})
    return _status_page(complaint, secret, rated=True)


@blp.post("/complaints/forget")
def forget():
    """Take the complaint off this phone (a shared phone): the number and secret still work."""
    csrf.require(csrf.pre_secret())
    response = redirect(url_for("public.follow_form"), code=303)
    response.delete_cookie(COOKIE, path="/complaints", httponly=True, secure=request.is_secure, samesite="Strict")
    return response
