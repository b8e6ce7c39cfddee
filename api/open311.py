"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2): off-the-shelf 311 apps file and follow complaints.

Services are the complaint categories; a service request is a complaint filed on the ``open311`` channel, its
``service_request_id`` the tracking number. The POST is form-encoded as the spec says and answers the secret
as ``token`` (the only time it is shown). Reads publish the status only (``open``/``closed``, the work
order's state as ``status_notes``): a complaint is about people's conduct, so its text, place and the unit's
answer are not public; the tracking secret opens them (the mailbox page). Formats: ``.json`` and ``.xml``.

This is a plain Flask blueprint, outside the OpenAPI document: the contract is Open311's own. Errors are
the app's problem documents like everywhere else.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import marshmallow as ma
from flask import Blueprint, Response, current_app, jsonify, request
from flask_smorest import abort
from sqlalchemy import select

from field.complaints import intake
from field.complaints.categories import CATEGORIES
from field.complaints.models import Channel, Complaint, State
from field.core.errors import FieldProblem, InvalidInput
from field.core.locations import GivenLocation
from field.core.scope import subtree
from schemas.common import Line, Text
from schemas.complaints import MAX_TEXT

from .bodies import reads_own_body
from .db import db
from .public_complaints import default_jurisdiction, filing_limits, following_limits

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")


@bp.before_request
def _small_bodies():
    limit = current_app.config["PUBLIC_COMPLAINT_MAX_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        abort(413, message=f"A service request's body is limited to {limit} bytes.")

CLOSED = frozenset({State.closed, State.rejected, State.merged})
#: The most requests one GET lists, and how far back it looks by default (the spec's 90 days).
MAX_LISTED = 200
DEFAULT_DAYS = 90


class _RequestForm(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # api_key, device_id, account_id, attribute[…] are accepted and ignored

    jurisdiction_id = Line(9, load_default=None)
    service_code = ma.fields.String(required=True, validate=ma.validate.OneOf([c.code for c in CATEGORIES]))
    lat = ma.fields.Float(load_default=None, validate=ma.validate.Range(-90, 90))
    long = ma.fields.Float(load_default=None, validate=ma.validate.Range(-180, 180))
    address_string = Line(300, load_default=None)
    description = Text(MAX_TEXT, required=True)
    email = Line(200, load_default=None)
    phone = Line(40, load_default=None)
    first_name = Line(50, load_default=None)
    last_name = Line(50, load_default=None)


def _load(schema: ma.Schema, data) -> dict:
    try:
        return schema.load(data)
    except ma.ValidationError as exc:
        problems = [FieldProblem(name, " ".join(map(str, msgs)) if isinstance(msgs, list) else str(msgs))
                    for name, msgs in exc.normalized_messages().items()]
        error = InvalidInput(problems[0].field, problems[0].message)
        error.fields = problems
        raise error from None


def _fmt(fmt: str) -> str:
    if fmt not in ("json", "xml"):
        raise InvalidInput("format", "json or xml.")
    return fmt


def _xml(root: str, item: str, rows: list[dict]) -> Response:
    top = ET.Element(root)
    for row in rows:
        node = ET.SubElement(top, item)
        for key, value in row.items():
            ET.SubElement(node, key).text = "" if value is None else str(value).lower() if isinstance(
                value, bool) else str(value)
    body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")
    return Response(body, mimetype="text/xml")


def _answer(fmt: str, root: str, item: str, rows: list[dict], status: int = 200) -> Response:
    response = jsonify(rows) if fmt == "json" else _xml(root, item, rows)
    response.status_code = status
    return response


def _w3c(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None


def _jurisdiction():
    return intake.public_jurisdiction(db(), request.values.get("jurisdiction_id"), default_jurisdiction(),
                                      "jurisdiction_id")


@bp.get("/services.<fmt>")
@following_limits
def services(fmt: str):
    _jurisdiction()
    rows = [{"service_code": c.code, "service_name": c.label_zh, "description": c.label_en, "metadata": False,
             "type": "realtime", "keywords": "", "group": "complaint"} for c in CATEGORIES]
    return _answer(_fmt(fmt), "services", "service", rows)


def _request_row(complaint: Complaint) -> dict:
    name = next((c.label_zh for c in CATEGORIES if c.code == complaint.category_code), complaint.category_code)
    return {"service_request_id": complaint.tracking_number,
            "status": "closed" if complaint.state in CLOSED else "open",
            "status_notes": complaint.state.value, "service_name": name, "service_code": complaint.category_code,
            "requested_datetime": _w3c(complaint.received_at), "updated_datetime": _w3c(complaint.updated_at),
            "expected_datetime": complaint.answer_due.isoformat() if complaint.answer_due else None}


@bp.post("/requests.<fmt>")
@reads_own_body  # Open311 posts forms (application/x-www-form-urlencoded), bounded by the hook below
@filing_limits
def create_request(fmt: str):
    fmt = _fmt(fmt)
    form = _load(_RequestForm(), request.form)
    jurisdiction = intake.public_jurisdiction(db(), form["jurisdiction_id"], default_jurisdiction(),
                                              "jurisdiction_id")
    if (form["lat"] is None) != (form["long"] is None):
        raise InvalidInput("lat" if form["lat"] is None else "long", "Send lat and long together.")
    if form["lat"] is None and not form["address_string"]:
        raise InvalidInput("address_string", "Send lat and long, or address_string.")
    location = GivenLocation(form["long"], form["lat"]) if form["lat"] is not None else None
    name = " ".join(p for p in (form["last_name"], form["first_name"]) if p) or None
    receipt = intake.file_public(db(), jurisdiction, {
        "category": form["service_code"], "text": form["description"], "location": location,
        "address": form["address_string"], "name": name, "contact": form["phone"] or form["email"]},
        channel=Channel.open311)
    row = {"service_request_id": receipt.tracking_number, "token": receipt.secret,
           "service_notice": "请保存受理编号和查询密码（仅显示一次），用于查询办理结果和评价。"}
    response = _answer(fmt, "service_requests", "request", [row], 201)
    response.headers["Cache-Control"] = "no-store"
    return response


def _visible_to_public(stmt, jurisdiction):
    return stmt.where(Complaint.jurisdiction_id.in_(subtree(jurisdiction.path)))


@bp.get("/requests.<fmt>")
@following_limits
def list_requests(fmt: str):
    fmt, jurisdiction = _fmt(fmt), _jurisdiction()
    stmt = _visible_to_public(select(Complaint), jurisdiction)
    ids = [i.strip().upper() for i in request.args.get("service_request_id", "").split(",") if i.strip()]
    if ids:
        stmt = stmt.where(Complaint.tracking_number.in_(ids[:MAX_LISTED]))
    else:
        codes = [c for c in request.args.get("service_code", "").split(",") if c]
        if codes:
            stmt = stmt.where(Complaint.category_code.in_(codes))
        status = request.args.get("status")
        if status == "open":
            stmt = stmt.where(Complaint.state.not_in(CLOSED))
        elif status == "closed":
            stmt = stmt.where(Complaint.state.in_(CLOSED))
        elif status:
            raise InvalidInput("status", "open or closed.")
        end = _when("end_date") or datetime.now(timezone.utc)
        start = _when("start_date") or end - timedelta(days=DEFAULT_DAYS)
        if end - start > timedelta(days=DEFAULT_DAYS):
            raise InvalidInput("start_date", "A search spans 90 days at most.")
        stmt = stmt.where(Complaint.received_at >= start, Complaint.received_at <= end)
    rows = db().execute(stmt.order_by(Complaint.received_at.desc()).limit(MAX_LISTED)).scalars().all()
    return _answer(fmt, "service_requests", "request", [_request_row(c) for c in rows])


def _when(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(name, "A W3C date and time, e.g. 2026-05-01T00:00:00Z.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@bp.get("/requests/<string:request_id>.<fmt>")
@following_limits
def get_request(request_id: str, fmt: str):
    fmt, jurisdiction = _fmt(fmt), _jurisdiction()
    complaint = intake.by_number(db(), request_id)
    if complaint.jurisdiction_id not in set(db().execute(subtree(jurisdiction.path)).scalars()):
        intake.by_number(db(), "")  # the same 404 as an unknown number
    return _answer(fmt, "service_requests", "request", [_request_row(complaint)])

