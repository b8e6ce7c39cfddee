"""tus 1.0 at /api/v1/uploads: core, creation, creation-with-upload, checksum, expiration, termination.

Off-the-shelf tus clients (tus-js-client, TUSKit, tus-android-client, tuspy) work unchanged;
they authenticate with the bearer token like every other client. Upload-Metadata carries
``kind`` (photo, audio, video; required), ``record_id`` (required), ``sha256`` (the phone's
hash at capture) and ``filename``.

- ``OPTIONS /uploads``: Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm.
- ``POST /uploads``: creation (201, Location, Upload-Expires), with the first bytes in the
  body if its Content-Type is application/offset+octet-stream.
- ``HEAD /uploads/<id>``: Upload-Offset, Upload-Length, Upload-Expires; Cache-Control: no-store.
  An upload whose bytes are all in but whose completion was cut short (a crash, the store
  down) is completed by this HEAD: clients stop asking once the offset is the length.
- ``PATCH /uploads/<id>``: a chunk at Upload-Offset (204 with the new offset). When the last
  byte is in, the pipeline runs in the same request (field/attachments/receipt.py): a refusal
  answers with its problem and the upload then answers 410.
- ``DELETE /uploads/<id>``: termination (204; then 404).
- ``GET /uploads/<id>``: not tus: the upload as JSON, with the resulting original's hash or
  the reason it was refused.

Statuses follow the spec: 412 without ``Tus-Resumable: 1.0.0`` (with Tus-Version), 413 over
Tus-Max-Size or Upload-Length, 415 for a PATCH (or creation) body of another type, JSON
included (these views read their own bodies: the JSON guard of api/bodies.py leaves them alone), 409 with the current
Upload-Offset when the offset is not the upload's, 460 when the chunk does not match
Upload-Checksum (the chunk is discarded), 423 while another request appends to the
upload, 404 for someone else's or a terminated upload, 410 for an expired or refused one,
429 with Retry-After at a per-user cap (UPLOAD_MAX_OPEN_PER_USER and
UPLOAD_MAX_PENDING_BYTES_PER_USER at creation, UPLOAD_MAX_STREAMS_PER_USER at each
PATCH), the problem naming the cap in ``limit``; nothing is read of a refused PATCH.
Every answer, errors included, carries Tus-Resumable; errors are problem+json. An
upload's id is looked up before the protocol version is checked, so an id that is not
the caller's answers 404 whatever the headers.

Commits: the lease (evidence/uploads.py) is committed before any byte is read, so no
transaction stays open while a chunk streams in; the chunk's result and the lease's
release are committed after. On an error the transaction is rolled back, the offset is
re-read from the store, the lease released and that committed, then the error answered.
"""

from __future__ import annotations

import base64
import binascii
import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import BinaryIO

from flask import Response, current_app, g, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from werkzeug.http import http_date

from evidence import uploads
from field.attachments import links, receipt
from field.core.evidence_errors import EvidenceError, TooLarge
from field.core.models.evidence import Upload
from schemas.evidence import UploadStatusSchema

from .auth import authenticated, current_device, current_user
from .bodies import reads_own_body
from .db import commit, db
from .evidence import blob_store, limits, policy

blp = Blueprint("uploads", __name__, url_prefix="/api/v1/uploads",
                description="Resumable evidence uploads (tus 1.0: creation, creation-with-upload, checksum, "
                            "expiration, termination)")

OFFSET_STREAM = "application/offset+octet-stream"

_TUS_REQUEST_HEADER = {"name": "Tus-Resumable", "in": "header", "required": True,
                       "schema": {"type": "string", "enum": [uploads.TUS_VERSION]}}
_OFFSET_HEADER = {"name": "Upload-Offset", "in": "header", "required": True,
                  "schema": {"type": "integer", "minimum": 0}}
_CHECKSUM_HEADER = {"name": "Upload-Checksum", "in": "header", "required": False, "schema": {"type": "string"},
                    "description": "<algorithm> <base64 digest of this chunk>; sha1, sha256 or md5"}
_CHUNK_BODY = {"required": True, "content": {OFFSET_STREAM: {"schema": {"type": "string", "format": "binary"}}}}
_PROBLEM = {"$ref": "#/components/schemas/Problem"}
_CHECKSUM_FAILED = {"460": {"description": "The chunk does not match Upload-Checksum; it was discarded",
                            "content": {"application/problem+json": {"schema": _PROBLEM}}}}


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config.get("UPLOAD_LOCK_SECONDS", uploads.DEFAULT_LEASE.total_seconds()))


def _expires_in() -> timedelta:
    return timedelta(hours=current_app.config["UPLOAD_EXPIRES_HOURS"])


def _caps() -> uploads.Caps:
    config = current_app.config
    return uploads.Caps(open_uploads=config["UPLOAD_MAX_OPEN_PER_USER"],
                        pending_bytes=config["UPLOAD_MAX_PENDING_BYTES_PER_USER"],
                        streams=config["UPLOAD_MAX_STREAMS_PER_USER"])


@blp.after_app_request
def _tus_headers(response: Response) -> Response:
    """Tus-Resumable on every answer under /uploads (routing errors included), and what the view exposed."""
    if request.path == blp.url_prefix or request.path.startswith(blp.url_prefix + "/"):
        response.headers["Tus-Resumable"] = uploads.TUS_VERSION
        for name, value in g.get("tus_headers", {}).items():
            response.headers[name] = value
        # An offset answered from a cache would make a client resend or skip bytes.
        response.headers["Cache-Control"] = "no-store"
    return response


def _set_header(name: str, value: str) -> None:
    if "tus_headers" not in g:
        g.tus_headers = {}
    g.tus_headers[name] = value


def _expose(upload: Upload) -> None:
    """Where the upload stands, for this answer's headers (errors included, e.g. 409)."""
    _set_header("Upload-Offset", str(upload.offset))
    _set_header("Upload-Length", str(upload.length))
    if upload.completed_at is None:
        _set_header("Upload-Expires", http_date(upload.expires_at))


def _require_version() -> None:
    if request.headers.get("Tus-Resumable") != uploads.TUS_VERSION:
        _set_header("Tus-Version", uploads.TUS_VERSION)
        abort(412, message=f"Send Tus-Resumable: {uploads.TUS_VERSION}, the tus version this server speaks.")


def _whole_number(name: str) -> int:
    raw = request.headers.get(name)
    if raw is None:
        abort(400, message=f"The {name} header is required.")
    raw = raw.strip()
    if not raw.isdigit() or not raw.isascii():
        abort(400, message=f"{name} must be a whole number of bytes.")
    return int(raw)


def _metadata() -> dict[str, str]:
    """Upload-Metadata: comma-separated ``key base64(value)`` pairs (a key alone has an empty value)."""
    pairs: dict[str, str] = {}
    for item in (request.headers.get("Upload-Metadata") or "").split(","):
        item = item.strip()
        if not item:
            continue
        key, _, value = item.partition(" ")
        if not key.isascii() or not key.isprintable() or key in pairs:
            abort(400, message=f"Upload-Metadata: {key!r} is not a valid, unique key.")
        try:
            pairs[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            abort(400, message=f"Upload-Metadata: the value of {key!r} is not base64-encoded UTF-8.")
    return pairs


def _checksum() -> uploads.Checksum | None:
    raw = request.headers.get("Upload-Checksum")
    if raw is None:
        return None
    algorithm, _, encoded = raw.strip().partition(" ")
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        abort(400, message="Upload-Checksum must be '<algorithm> <base64 digest>'.")
    return uploads.Checksum(algorithm.lower(), digest)


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


@contextmanager
def _lease_on(upload: Upload, caps: uploads.Caps = uploads.Caps()) -> Iterator[str]:
    """Hold the upload's lease for the block: committed before, released (and committed) after, even on error.

    The tus lease points, the one documented exception to the request's single commit (api/db.py):
    a chunk's bytes take minutes to arrive, and are read with no transaction open (on SQLite an
    open one holds the write lock every other request needs); the lease is how concurrent
    PATCHes and HEADs of the same upload see it is taken, so it must be committed before.
    """
    store = blob_store()
    token = uploads.acquire_lock(db(), store, upload, lease=_lease(), caps=caps)
    commit()  # lease point: the lease is visible before the bytes are read
    try:
        yield token
    except BaseException:
        db().rollback()
        db().refresh(upload)
        try:
            uploads.resync(db(), store, upload)
        except EvidenceError:
            pass  # the store is down: the offset stays what was committed, the next HEAD re-reads it
        uploads.release_lock(db(), upload, token)
        commit()  # lease point: the lease is released (and the offset stored) although the request fails
        if upload.terminated_at is None:
            _expose(upload)
        raise
    uploads.release_lock(db(), upload, token)
    commit()  # lease point: the lease ends with what the block stored, before anything after it can fail


def _completion_lease(upload: Upload) -> timedelta:
    # Completion reads the bytes up to three times (earlier chunks back from S3, the hash, sniff and
    # facts, sending the original) without a chance to renew: give it time for that at a pessimistic
    # 5 MB/s, so no PATCH takes the upload meanwhile.
    return _lease() + timedelta(seconds=3 * upload.length / 5_000_000)


def _receive_chunk(upload: Upload, offset: int, body: BinaryIO | None = None,
                   caps: uploads.Caps | None = None) -> None:
    """Append ``body`` (the request body) at ``offset``, and run the pipeline once the last byte is in."""
    checksum = _checksum()
    refusal = None
    with _lease_on(upload, _caps() if caps is None else caps) as token:

        def renew(lease: timedelta | None = None) -> None:
            uploads.renew_lock(db(), upload.id, token, lease=lease or _lease())
            commit()  # lease point: a renewal is seen by the others only once committed

        uploads.append(db(), blob_store(), upload, offset=offset, stream=request.stream if body is None else body,
                       checksum=checksum,
                       declared_size=request.content_length, expires_in=_expires_in(), renew=renew,
                       renew_every_s=_lease().total_seconds() / 3)
        if upload.offset == upload.length and upload.completed_at is None:
            renew(_completion_lease(upload))
            refusal = receipt.complete_upload(db(), blob_store(), upload, uploader=current_user(),
                                              policy=policy()).refusal
    if refusal is not None:
        # The upload is gone (410 from now on): no offset to tell.
        for name in ("Upload-Offset", "Upload-Expires"):
            g.get("tus_headers", {}).pop(name, None)
        raise refusal
    if upload.completed_at is not None and upload.staging_discarded_at is None:
        uploads.discard_staging(db(), blob_store(), upload)  # the original is committed: the copy may go
    _expose(upload)


@blp.route("")
@reads_own_body
class Uploads(MethodView):
    @blp.doc(responses={"204": {"description": "What this server supports, in Tus-* headers"}}, security=[])
    def options(self):
        """tus discovery: version, extensions, largest upload, checksum algorithms"""
        response = Response(status=204)
        response.headers["Tus-Version"] = uploads.TUS_VERSION
        response.headers["Tus-Extension"] = ",".join(uploads.TUS_EXTENSIONS)
        response.headers["Tus-Max-Size"] = str(limits().largest)
        response.headers["Tus-Checksum-Algorithm"] = ",".join(uploads.CHECKSUM_ALGORITHMS)
        return response

    @blp.doc(parameters=[
        _TUS_REQUEST_HEADER,
        {"name": "Upload-Length", "in": "header", "required": True, "schema": {"type": "integer", "minimum": 0}},
        {"name": "Upload-Metadata", "in": "header", "required": True, "schema": {"type": "string"},
         "description": "kind (photo|audio|video) and record_id required; sha256, filename optional; "
                        "each value base64-encoded"},
    ], requestBody={"required": False, "content": {OFFSET_STREAM: {"schema": {"type": "string",
                                                                              "format": "binary"}}}},
        responses={"201": {"description": "Created: Location is the upload's URL"}, **_CHECKSUM_FAILED})
    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.alt_response(412, response="PRECONDITION_FAILED")
    @blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
    @blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @authenticated()
    def post(self):
        """Create an upload (tus creation), optionally with its first bytes (creation-with-upload)"""
        user = current_user()
        _require_version()
        if "Upload-Defer-Length" in request.headers:
            abort(400, message="Upload-Defer-Length is not supported: send Upload-Length.")
        length = _whole_number("Upload-Length")
        if length > limits().largest:
            raise TooLarge(limits().largest)
        metadata = _metadata()
        with_bytes = _has_body()
        if with_bytes and request.mimetype != OFFSET_STREAM:
            abort(415, message=f"Send the first bytes as {OFFSET_STREAM}.")
        upload = uploads.create_upload(db(), user, device_id=current_device().id, length=length,
                                       metadata=metadata, limits=limits(), expires_in=_expires_in(),
                                       caps=_caps(), check_record=links.check_record_for_evidence)
        # Lease point: the upload exists (its Location answers HEAD) before its first bytes' lease is
        # taken, and stays if those bytes are refused: a tus client resumes it.
        commit()
        _set_header("Location", url_for("uploads.UploadById", upload_id=upload.id, _external=True))
        _expose(upload)
        if with_bytes or length == 0:  # an empty file is complete as soon as it exists
            _receive_chunk(upload, 0)
        return Response(status=201)


@blp.route("/<uuid:upload_id>")
@reads_own_body
class UploadById(MethodView):
    @blp.doc(parameters=[_TUS_REQUEST_HEADER],
             responses={"200": {"description": "Upload-Offset, Upload-Length, Upload-Expires"}})
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(410, response="GONE")
    @blp.alt_response(412, response="PRECONDITION_FAILED")
    @blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.alt_response(423, response="LOCKED")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @authenticated()
    def head(self, upload_id: uuid.UUID):
        """Where an upload stands (tus HEAD)"""
        upload = uploads.get_upload(db(), current_user(), upload_id)
        _require_version()
        if upload.offset == upload.length and upload.completed_at is None:
            # Every byte is in but the completion did not happen: the server died during it, or
            # the store was down (503). tus clients stop at Upload-Offset == Upload-Length and
            # would never send the empty PATCH that finishes it, so the HEAD that resumes them
            # finishes it (423 while someone, or a dead process's lease, still holds it).
            _receive_chunk(upload, upload.offset, body=io.BytesIO(), caps=uploads.Caps())
        _expose(upload)
        return Response(status=200)

    @blp.doc(parameters=[_TUS_REQUEST_HEADER, _OFFSET_HEADER, _CHECKSUM_HEADER], requestBody=_CHUNK_BODY,
             responses={"204": {"description": "Appended: Upload-Offset is the new offset"}, **_CHECKSUM_FAILED})
    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(410, response="GONE")
    @blp.alt_response(412, response="PRECONDITION_FAILED")
    @blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
    @blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.alt_response(423, response="LOCKED")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @authenticated()
    def patch(self, upload_id: uuid.UUID):
        """Append a chunk at Upload-Offset; the last one stores, checks and attaches the evidence"""
        upload = uploads.get_upload(db(), current_user(), upload_id)
        _require_version()
        if request.mimetype != OFFSET_STREAM:
            abort(415, message=f"A PATCH body must be {OFFSET_STREAM}.")
        offset = _whole_number("Upload-Offset")
        _expose(upload)
        _receive_chunk(upload, offset)
        return Response(status=204)

    @blp.doc(parameters=[_TUS_REQUEST_HEADER], responses={"204": {"description": "Terminated"}})
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(410, response="GONE")
    @blp.alt_response(412, response="PRECONDITION_FAILED")
    @blp.alt_response(423, response="LOCKED")
    @authenticated()
    def delete(self, upload_id: uuid.UUID):
        """Stop an upload and discard its bytes (tus termination); an original it made stays"""
        upload = uploads.get_upload(db(), current_user(), upload_id)
        _require_version()
        with _lease_on(upload):
            uploads.terminate(db(), blob_store(), upload)
        return Response(status=204)

    @blp.response(200, UploadStatusSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, upload_id: uuid.UUID):
        """The upload as JSON: its state, and the stored original or why it was refused (not part of tus)"""
        return uploads.get_upload(db(), current_user(), upload_id, live=False)
