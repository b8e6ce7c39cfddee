"""The public's JSON door to complaints: file one, follow it and rate the answer with the tracking number and secret.

No account. Every write is rate-limited per client address, a complaint also per contact given; bodies are
small (``PUBLIC_COMPLAINT_MAX_BYTES``); the secret travels only in bodies, never in a URL a referer could leak.
"""

from __future__ import annotations

import hashlib

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint, abort

from field.complaints import handling, intake, views
from field.complaints.models import Channel
from schemas.complaints import (
    ComplaintFollowSchema,
    ComplaintPublicReceiptSchema,
    ComplaintPublicStatusSchema,
    ComplaintRateSchema,
    PublicComplaintSchema,
)

from .auth import limiter
from .clock import office_day
from .complaints import commits_on_success
from .db import db

blp = Blueprint("public_complaints", __name__, url_prefix="/api/v1/public",
                description="The public's complaints (民情信箱), no account: file, follow and rate with the tracking "
                            "number and secret (rate-limited per address and per contact)")
commits_on_success(blp)


@blp.before_request
def _small_bodies():
    limit = current_app.config["PUBLIC_COMPLAINT_MAX_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        abort(413, message=f"A complaint's body is limited to {limit} bytes.")


def contact_key() -> str:
    """The per-contact budget's key: a hash of the contact given (digits only for a phone), never the contact."""
    body = (request.get_json(silent=True) if request.is_json else request.form) or {}
    raw = str(body.get("contact") or body.get("phone") or body.get("email") or "") if isinstance(body, dict) else ""
    digits = "".join(ch for ch in raw if ch.isdigit())
    # The national number: +86 138…, 0086 138… and 138… are one phone.
    digits = digits[4:] if digits.startswith("0086") else digits[2:] if digits.startswith("86") and len(
        digits) == 13 else digits
    normal = digits if len(digits) >= 7 else raw.strip().lower()
    return "complaint-contact:" + hashlib.sha256(normal.encode()).hexdigest()[:32]


def _no_contact() -> bool:
    body = (request.get_json(silent=True) if request.is_json else request.form) or {}
    return not (isinstance(body, dict) and (body.get("contact") or body.get("phone") or body.get("email")))


def filing_limits(view):
    """Per address, and per contact when one is given: shared by every public door that files a complaint."""
    view = limiter.shared_limit(lambda: current_app.config["PUBLIC_COMPLAINT_LIMIT_PER_CONTACT"],
                                "complaint-contact", key_func=contact_key, exempt_when=_no_contact)(view)
    return limiter.shared_limit(lambda: current_app.config["PUBLIC_COMPLAINT_LIMIT_PER_ADDRESS"],
                                "complaint-address", key_func=get_remote_address)(view)


def following_limits(view):
    return limiter.shared_limit(lambda: current_app.config["PUBLIC_FOLLOW_LIMIT_PER_ADDRESS"],
                                "complaint-follow", key_func=get_remote_address)(view)


def default_jurisdiction() -> str:
    return current_app.config["COMPLAINTS_JURISDICTION"]


@blp.route("/complaints", methods=["POST"])
@filing_limits
@blp.arguments(PublicComplaintSchema)
@blp.response(201, ComplaintPublicReceiptSchema)
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def file_complaint(body):
    """File a complaint: answers the tracking number and the secret, once"""
    session = db()
    jurisdiction = intake.public_jurisdiction(session, body.pop("jurisdiction_code"), default_jurisdiction())
    return intake.file_public(session, jurisdiction, body, channel=Channel.mailbox)


@blp.route("/complaints/follow", methods=["POST"])
@following_limits
@blp.arguments(ComplaintFollowSchema)
@blp.response(200, ComplaintPublicStatusSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def follow(body):
    """Where the complaint stands and the unit's answer (the secret in the body, never in the URL)"""
    return views.public_view(intake.by_secret(db(), body["tracking_number"], body["secret"]))


@blp.route("/complaints/rate", methods=["POST"])
@following_limits
@blp.arguments(ComplaintRateSchema)
@blp.response(200, ComplaintPublicStatusSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def rate(body):
    """Rate the unit's answer: satisfied, basically satisfied or dissatisfied (which reopens it)"""
    session = db()
    complaint = intake.by_secret(session, body["tracking_number"], body["secret"])
    handling.rate(session, complaint, rating=body["rating"], resolved=body["resolved"], text=body["text"],
                  today=office_day())
    return views.public_view(complaint)
