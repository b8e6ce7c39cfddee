"""Evidence over HTTP: one-request uploads, the limits, originals and viewing copies, a record's attachments.

- ``POST /evidence``: multipart/form-data (``file``, ``record_id``, ``kind``, ``sha256``), the
  same pipeline as a finished tus upload (field/attachments/receipt.py). werkzeug's form parser
  spools the file part to a temporary file beyond 500 KiB, so memory stays flat; the
  request may be at most the largest kind limit plus 64 KiB of form (413 beyond), set
  per request here, not app-wide.
- ``GET /evidence/limits``: what a phone may send, before it sends.
- ``GET /evidence/<sha256>``: an original's facts; ``/original``, ``/thumb``, ``/preview``:
  its bytes, to whoever may see a record it is attached to (field/attachments/access.py), as an
  attachment with ``X-Content-Type-Options: nosniff``, its type and ETag = its SHA-256.
  From S3 the answer is a 302 to a signed URL valid ``EVIDENCE_SIGNED_URL_SECONDS``
  (the bytes then never pass through the app). Reads are logged (custody
  ``evidence.downloaded`` / ``evidence.viewed``) before the bytes or the URL are given.
  Viewing copies missing on first view are made then, under a lease, so two viewers
  never both decode, and with no transaction open while the photo decodes (on SQLite
  one would hold the write lock for seconds); the ``fieldwatch derive`` worker normally
  makes them first.
- ``GET /records/<id>/attachments``: the record's declared evidence, what arrived, and
  for office staff the plausibility flags.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import timedelta

import marshmallow as ma
from flask import Response, current_app, redirect, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from evidence import pipeline, uploads
from field.attachments import access, derivation, links, originals, receipt
from field.core.evidence_errors import EvidenceDamaged
from evidence.storage import CHUNK_SIZE, BlobStore, content_disposition, make_blob_store
from field.records import lifecycle as records
from field.core.models.platform import OFFICE_ROLES
from field.core.models.evidence import DerivativesState
from schemas.evidence import (
    MULTIPART_REQUEST_BODY,
    AttachmentSchema,
    AttachmentStateSchema,
    EvidenceFormSchema,
    EvidenceSchema,
    LimitsSchema,
)

from .auth import authenticated, current_device, current_user
from .bodies import reads_own_body
from .db import commit, db, keep_work
from .located import located

blp = Blueprint("evidence", __name__, url_prefix="/api/v1",
                description="Evidence: one-request uploads, limits, originals and viewing copies, attachments")

#: Room for the form fields and part headers around the file in a multipart upload.
MULTIPART_OVERHEAD = 64 * 1024
#: How long a viewer waits for a viewing copy someone else is making before a 503.
DERIVE_WAIT_S = 15.0


# -- configuration -------------------------------------------------------------------------------


def blob_store() -> BlobStore:
    """The app's evidence store, made from the configuration on first use (tests may set their own)."""
    store = current_app.extensions.get("BLOB_STORE")
    if store is None:
        store = current_app.extensions["BLOB_STORE"] = make_blob_store(current_app.config)
    return store


def limits() -> uploads.Limits:
    config = current_app.config
    return uploads.Limits(photo=config["EVIDENCE_MAX_PHOTO_BYTES"], audio=config["EVIDENCE_MAX_AUDIO_BYTES"],
                          video=config["EVIDENCE_MAX_VIDEO_BYTES"])


def policy() -> pipeline.Policy:
    config = current_app.config
    return pipeline.Policy(limits=limits(), max_pixels=config["EVIDENCE_MAX_PIXELS"],
                           max_parallel_decodes=config["EVIDENCE_MAX_PARALLEL_DECODES"])


@blp.record_once
def _configure_thresholds(state) -> None:
    # field/records.submit refreshes a record's flags without knowing the app: the
    # thresholds it uses are set here, once, from the configuration.
    config = state.app.config
    links.configure(links.Thresholds(gps_max_distance_m=config["EVIDENCE_GPS_MAX_DISTANCE_M"],
                                     time_window=timedelta(hours=config["EVIDENCE_TIME_WINDOW_H"])))


# -- uploads in one request ----------------------------------------------------------------------


@blp.route("/evidence")
@reads_own_body  # multipart, judged here: any other type is 415 naming multipart/form-data
class EvidenceUploads(MethodView):
    @blp.doc(requestBody=MULTIPART_REQUEST_BODY)
    @blp.response(201, AttachmentSchema, description="Stored and attached")
    @blp.alt_response(200, schema=AttachmentSchema, description="Already attached to this record (a repeat)")
    @blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
    @blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @authenticated()
    def post(self):
        """Upload one small file as evidence of a record (multipart; tus for anything large)"""
        if request.mimetype != "multipart/form-data":
            abort(415, message="Send the file as multipart/form-data (or use the tus endpoint /api/v1/uploads).")
        # Only this route takes a large body; werkzeug refuses more with 413 while parsing.
        request.max_content_length = limits().largest + MULTIPART_OVERHEAD
        try:
            form = EvidenceFormSchema().load(request.form.to_dict())
        except ma.ValidationError as err:
            abort(422, messages={"form": err.messages})
        file = request.files.get("file")
        if file is None:
            abort(422, messages={"form": {"file": ["Attach the file as the form field 'file'."]}})
        received = receipt.receive(
            db(), blob_store(), file.stream, uploader=current_user(), device_id=current_device().id,
            kind=form["kind"], record_id=form["record_id"], policy=policy(), channel="multipart",
            declared_sha256=form["sha256"], filename=uploads.clean_filename(file.filename))
        return received.attachment, 201 if received.attachment_created else 200


@blp.route("/evidence/limits")
class EvidenceLimits(MethodView):
    @blp.response(200, LimitsSchema)
    @authenticated()
    def get(self):
        """What may be uploaded: the size limit per kind, the pixel limit, the tus endpoint"""
        current = limits()
        return {
            "photo": current.photo, "audio": current.audio, "video": current.video,
            "max_pixels": current_app.config["EVIDENCE_MAX_PIXELS"],
            "multipart_endpoint": "/api/v1/evidence",
            "tus": {"endpoint": "/api/v1/uploads", "version": uploads.TUS_VERSION, "max_size": current.largest,
                    "extensions": list(uploads.TUS_EXTENSIONS),
                    "checksum_algorithms": list(uploads.CHECKSUM_ALGORITHMS),
                    "expires_hours": current_app.config["UPLOAD_EXPIRES_HOURS"]},
        }


# -- reading -------------------------------------------------------------------------------------


@blp.route("/evidence/<string:sha256>")
class EvidenceBySha(MethodView):
    @located(blp)
    @blp.response(200, EvidenceSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, sha256: str):
        """An original's facts (EXIF, type, perceptual hash) and viewing copies"""
        return access.readable_attachment(db(), current_user(), sha256).blob


_BINARY = {"schema": {"type": "string", "format": "binary"}}


def _bytes_doc(description: str, media_types: tuple[str, ...]) -> dict:
    return {"responses": {
        "200": {"description": description, "content": {m: _BINARY for m in media_types}},
        "302": {"description": "S3 storage: a short-lived signed URL to download from (Location)"},
        "304": {"description": "If-None-Match matched the ETag (the SHA-256)"},
    }}


#: An original is served as the type its bytes were sniffed as (evidence/sniff.py): a photo, audio or video.
_ORIGINAL_DOC = _bytes_doc("The original bytes, as an attachment, typed as sniffed", ("image/*", "audio/*", "video/*"))
#: Viewing copies are always JPEG.
_DERIVATIVE_DOC = _bytes_doc("The viewing copy, as an attachment", ("image/jpeg",))


@blp.route("/evidence/<string:sha256>/original")
class EvidenceOriginal(MethodView):
    @blp.doc(**_ORIGINAL_DOC)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="evidence-damaged: the stored bytes no longer match "
                                                           "their SHA-256; quarantined until the file is sent again")
    @authenticated()
    def get(self, sha256: str):
        """The original exactly as received, checked against its hash; every read is logged"""
        return send_original(current_user(), current_device().id, sha256)


@blp.route("/evidence/<string:sha256>/<any(thumb, preview):name>")
class EvidenceDerivative(MethodView):
    @blp.doc(**_DERIVATIVE_DOC)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="evidence-damaged: not yet derived, and the original "
                                                           "is quarantined")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @authenticated()
    def get(self, sha256: str, name: str):
        """A photo's thumbnail (~320 px) or preview (~1280 px): upright, no metadata; made on first view if needed"""
        return send_derivative(current_user(), current_device().id, sha256, name)


# The console's image routes (web/console) call these two as well: one access rule, one custody entry.


def send_original(user, device_id, sha256: str) -> Response:
    """The original to ``user`` if a record they may see has it (404 otherwise), checked against its
    hash, its read logged first; a damaged original is a 409 and is quarantined."""
    attachment = access.readable_attachment(db(), user, sha256)
    blob = attachment.blob
    if _not_modified(blob.sha256):
        return _not_modified_response(blob.sha256)
    name = attachment.filename or f"{blob.sha256[:16]}.{blob.ext}"
    read = originals.read_original(db(), blob_store(), attachment, user=user, device_id=device_id, filename=name,
                                   expires_s=current_app.config["EVIDENCE_SIGNED_URL_SECONDS"], policy=policy())
    if read.refusal is not None:
        keep_work()  # the quarantine of a damaged original and its custody entry stand: the answer is 409
        raise read.refusal
    if read.url:
        return _to_signed_url(read.url)
    return _bytes(read.stream, mimetype=blob.mime, size=blob.size, etag=blob.sha256, filename=name)


def send_derivative(user, device_id, sha256: str, name: str) -> Response:
    """A viewing copy (thumb or preview) under the same rule as the original, its read logged first."""
    attachment = access.readable_attachment(db(), user, sha256)
    blob = _derived(attachment.blob)
    derivative = blob.derivative(name)
    if derivative is None:
        reason = blob.derivatives_error or f"{blob.mime} has no viewing copies"
        raise pipeline.NoDerivative(f"This evidence has no {name}: {reason}")
    if _not_modified(derivative.sha256):
        return _not_modified_response(derivative.sha256)
    filename = f"{(attachment.filename or blob.sha256[:16]).rsplit('.', 1)[0]}-{name}.jpg"
    url = blob_store().signed_url(blob.sha256, filename=filename, derivative=name, content_type="image/jpeg",
                                  expires_s=current_app.config["EVIDENCE_SIGNED_URL_SECONDS"])
    originals.log_access(db(), user=user, device_id=device_id, attachment=attachment, what=name,
                         via="signed_url" if url else "stream")
    if url:
        return _to_signed_url(url)
    return _bytes(blob_store().open_derivative(blob.sha256, name), mimetype="image/jpeg", size=derivative.size,
                  etag=derivative.sha256, filename=filename)


def _derived(blob):
    """The blob with its viewing copies made, if they can be: by this request under a lease,
    or by whoever holds the lease, waited for up to DERIVE_WAIT_S (then 503). A quarantined
    original without them is 409: nothing is derived from damaged bytes."""
    if blob.derivatives_state != DerivativesState.pending:
        return blob
    if blob.damaged_at is not None:
        raise EvidenceDamaged(blob.sha256, blob.damage)
    current = policy()
    deadline = time.monotonic() + DERIVE_WAIT_S
    while True:
        if derivation.claim_derivation(db(), blob.sha256, lease=current.derive_lease):
            # Lease point: the derivation lease is committed, so that concurrent viewers see it
            # and wait, and no transaction is open from here until the decode is done
            # (make_derivatives: seconds of CPU; on SQLite a held write lock would stop every writer).
            commit()
            made = pipeline.make_derivatives(blob_store(), blob.sha256, policy=current, size=blob.size)
            derivation.record_derivatives(db(), blob, made)
            # Lease point: the viewing copies (or the quarantine, if the bytes failed their hash)
            # end the lease, for the viewers waiting on it, whatever this request answers next.
            commit()
            if blob.damaged_at is not None:
                raise EvidenceDamaged(blob.sha256, blob.damage)
            return blob
        db().rollback()  # end the transaction, to see what the lease holder commits
        db().refresh(blob)
        if blob.derivatives_state != DerivativesState.pending:
            return blob
        if time.monotonic() >= deadline:
            raise pipeline.DerivationPending()
        # Wait outside any transaction: the refresh began one, and on SQLite it holds the write
        # lock, which the lease holder needs to record what it made (it waited, then 503).
        db().rollback()
        time.sleep(0.25)


def _not_modified(etag: str) -> bool:
    return request.if_none_match.contains(etag)


def _not_modified_response(etag: str) -> Response:
    response = Response(status=304)
    response.set_etag(etag)
    return response


def _to_signed_url(url: str) -> Response:
    response = redirect(url, code=302)
    response.headers["Cache-Control"] = "no-store"  # the URL is short-lived and personal
    return response


def _bytes(stream, *, mimetype: str, size: int, etag: str, filename: str) -> Response:
    """Stream stored bytes as a download that no browser will render or sniff."""

    def pieces():
        with stream:
            while piece := stream.read(CHUNK_SIZE):
                yield piece

    response = Response(pieces(), mimetype=mimetype, direct_passthrough=True)
    response.headers["Content-Length"] = str(size)
    response.set_etag(etag)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # Never served from a shared cache; a private one revalidates (cheap: the ETag never changes).
    response.headers["Cache-Control"] = "private, no-cache"
    return response


# -- a record's evidence -------------------------------------------------------------------------


@blp.route("/records/<uuid:record_id>/attachments")
class RecordAttachments(MethodView):
    @located(blp)
    @blp.response(200, AttachmentStateSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, record_id: uuid.UUID):
        """The record's declared evidence, which has arrived, and for office staff its plausibility flags"""
        user = current_user()
        record = records.get_record(db(), user, record_id)
        states = links.attachments_state(db(), record)
        if user.role not in OFFICE_ROLES:
            states = [replace(state, flags=None) for state in states]
        return states
