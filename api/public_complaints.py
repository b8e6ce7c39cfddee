"""The public's JSON door to complaints: file one, follow it and rate the answer with the tracking number and secret.

No account. Every write is rate-limited per client address, a complaint also per contact given; bodies are
small (``PUBLIC_COMPLAINT_MAX_BYTES``); the secret travels only in bodies, never in a URL a referer could leak.
"""

from __future__ import annotations

import hashlib

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint, abort

from field.complaints import handling, intake, photos, views
from field.complaints.models import Channel
from schemas.complaints import (
    ComplaintPhotoReceiptSchema,
    ComplaintFollowSchema,
    ComplaintPublicReceiptSchema,
    ComplaintPublicStatusSchema,
    ComplaintRateSchema,
    PublicComplaintSchema,
)

from .auth import limiter
from .bodies import reads_own_body
from .clock import office_day
from .db import db
from .evidence import blob_store, policy

blp = Blueprint("public_complaints", __name__, url_prefix="/api/v1/public",
                description="The public's complaints (民情信箱), no account: file, follow and rate with the tracking "
                            "number and secret (rate-limited per address and per contact)")


#: A photo's form around its bytes: the tracking number, the secret, the multipart boundaries.
PHOTO_FORM_OVERHEAD = 16 * 1024


@blp.before_request
def _small_bodies():
    limit = current_app.config["PUBLIC_COMPLAINT_MAX_BYTES"]
    if request.endpoint == "public_complaints.add_photo":
        limit = current_app.config["PUBLIC_COMPLAINT_PHOTO_MAX_BYTES"] + PHOTO_FORM_OVERHEAD
        request.max_content_length = limit  # a body without Content-Length is cut there too
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
    # A contact's budget counts complaints filed, not a form sent back to be corrected.
    view = limiter.shared_limit(lambda: current_app.config["PUBLIC_COMPLAINT_LIMIT_PER_CONTACT"],
                                "complaint-contact", key_func=contact_key, exempt_when=_no_contact,
                                deduct_when=lambda response: response.status_code < 400)(view)
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


@blp.route("/complaints/photos", methods=["POST"])
@reads_own_body  # multipart: the tracking number, the secret and one photo
@following_limits  # guesses at secrets; a complaint itself takes at most 3 photos
@blp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["tracking_number", "secret", "file"],
    "properties": {"tracking_number": {"type": "string"}, "secret": {"type": "string"},
                   "file": {"type": "string", "format": "binary"}}}}}})
@blp.response(201, ComplaintPhotoReceiptSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def add_photo():
    """Add a photo to a complaint still waiting for triage (at most 3), with its tracking number and secret

    The photo goes through the evidence pipeline: hashed and kept as sent, checked to be a photo; the
    office's viewing copies carry no EXIF. The same photo twice is kept once."""
    if request.mimetype != "multipart/form-data":
        abort(415, message="Send the photo as multipart/form-data, with tracking_number and secret.")
    file = request.files.get("file")
    try:
        if file is None or not file.filename:
            abort(422, messages={"form": {"file": ["Attach the photo as the form field 'file'."]}})
        session = db()
        complaint = intake.by_secret(session, request.form.get("tracking_number", ""), request.form.get("secret", ""))
        photo = photos.add_photo(session, blob_store(), complaint, file.stream, policy=policy(),
                                 max_bytes=current_app.config["PUBLIC_COMPLAINT_PHOTO_MAX_BYTES"],
                                 filename=file.filename, channel="public door", field="file")
        return {"sha256": photo.blob_sha256, "photos": photos.count(session, complaint)}
    finally:
        if file is not None:
            file.close()
