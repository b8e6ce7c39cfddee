"""The evidence pipeline: received bytes become a checked, write-once original attached to its record.

Receipt (a finished tus upload, or one multipart request) runs in this order, so that
whatever is refused leaves nothing behind:

1. hash the bytes (the staged upload, or the form file werkzeug spooled to disk) and
   compare with the SHA-256 the phone computed at capture (a mismatch: 422);
2. refuse a record id that is someone else's record (422);
3. sniff the type from the content and refuse what the declared kind does not allow
   (415); for photos, read the EXIF facts from the header, no pixel decoded, and refuse
   a header over the pixel limit (422) or one no decoder can read (422);
4. store the original write-once under its hash (``put_original`` hashes again and
   keeps nothing on a mismatch; the same bytes from anyone are stored once);
5. the ``blobs`` row (once per hash), custody ``evidence.received`` and
   ``evidence.verified`` in the uploader's jurisdiction;
6. attach to the record id (evidence/links.py: ``evidence.attached``, flags refreshed).

Derivatives are made off the request path: ``fieldwatch derive`` works through pending
photos, and the first view of a thumb or preview makes them if the worker has not yet
(``claim_derivation`` takes a lease with one conditional UPDATE, so two viewers or a
viewer and the worker never both decode). A photo whose pixels cannot be decoded is kept
as opaque evidence: ``derivatives_state`` failed, with the decoder's reason.

Plain functions: they take the session, flush, never commit.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import BinaryIO
from zoneinfo import ZoneInfo

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from field.core.errors import InvalidInput
from field.core.models.platform import OFFICE_ROLES, User
from field.core.models.evidence import Attachment, Blob, BlobDerivative, DerivativesState, Upload
from field.core.models.base import utcnow
from field.core.models.evidence import MEDIA_KINDS

from field.custody import chain as custody
from . import links
from evidence import uploads
from field.core.evidence_errors import (
    BlobNotFound,
    CorruptMedia,
    EvidenceError,
    TooLarge,
    TooManyPixels,
    UnsupportedMedia,
)
from evidence.photo import PERCEPTUAL_HASH_ALGORITHM, PhotoFacts, process_photo, read_facts
from evidence.sniff import SNIFF_BYTES, MediaType, sniff
from evidence.storage import CHUNK_SIZE, BlobStore

#: Audio recorded by phones often comes in an MP4 or 3GP container, which sniffs as video
#: (evidence/sniff.py cannot tell without parsing the tracks); declared audio may use them.
_AUDIO_CONTAINERS = frozenset({"video/mp4", "video/3gpp", "video/3gpp2"})

#: What refuses an upload for good (the same bytes sent again would be refused again).
REFUSALS: tuple[type[Exception], ...] = (UnsupportedMedia, CorruptMedia, TooManyPixels, TooLarge, InvalidInput)


class NoDerivative(EvidenceError):
    """The original has no such viewing copy: audio or video, or a photo whose pixels cannot be decoded."""

    code = "no_derivative"


class DerivationPending(EvidenceError):
    """Someone else is making this photo's viewing copies right now (503, retry shortly)."""

    code = "derivation_pending"
    default_detail = "The viewing copies of this photo are being made; try again in a few seconds."


@dataclass(frozen=True)
class Policy:
    """What the pipeline accepts and how it describes it; built from the configuration by the app."""

    limits: uploads.Limits
    #: Largest photo, in pixels declared by its header, that is accepted (decompression bombs).
    max_pixels: int = 50_000_000
    #: Zone of camera clocks that wrote no offset: the office's.
    camera_zone: str = "Asia/Shanghai"
    thumb_px: int = 320
    preview_px: int = 1280
    #: How long a derivation may take before another worker may take it over.
    derive_lease: timedelta = timedelta(minutes=2)


@dataclass(frozen=True)
class Inspection:
    media: MediaType
    facts: PhotoFacts | None


@dataclass(frozen=True)
class Received:
    blob: Blob
    attachment: Attachment
    #: False when these bytes were stored before (by anyone).
    blob_created: bool
    #: False when this evidence was already attached to this record (a repeat).
    attachment_created: bool


@dataclass(frozen=True)
class Completion:
    """How a tus upload ended: received, or refused (the refusal is the error to answer with)."""

    received: Received | None = None
    refusal: Exception | None = None


# -- receipt -------------------------------------------------------------------------------------


def hash_file(fp: BinaryIO, *, max_bytes: int | None = None) -> tuple[str, int]:
    """SHA-256 and length of a seekable file from its start, in CHUNK_SIZE pieces; TooLarge past ``max_bytes``."""
    fp.seek(0)
    digest = hashlib.sha256()
    size = 0
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    readinto = getattr(fp, "readinto", None)
    while True:
        if readinto is not None:
            n = readinto(view)
        else:
            data = fp.read(CHUNK_SIZE)
            n = len(data)
            view[:n] = data
        if not n:
            break
        size += n
        if max_bytes is not None and size > max_bytes:
            raise TooLarge(max_bytes)
        digest.update(view[:n])
    fp.seek(0)
    return digest.hexdigest(), size


def inspect(fp: BinaryIO, declared_kind: str, policy: Policy) -> Inspection:
    """The type from the content, checked against the declared kind; a photo's facts from its header."""
    fp.seek(0)
    head = fp.read(SNIFF_BYTES)
    fp.seek(0)
    media = sniff(head)
    if media is None:
        raise UnsupportedMedia()
    if media.kind != declared_kind and not (declared_kind == "audio" and media.mime in _AUDIO_CONTAINERS):
        raise UnsupportedMedia(f"The file is {media.mime}, not the {declared_kind} it was declared as.")
    facts = None
    if media.kind == "photo":
        facts = read_facts(fp)
        if facts.width * facts.height > policy.max_pixels:
            raise TooManyPixels(policy.max_pixels, facts.width, facts.height)
    fp.seek(0)
    return Inspection(media, facts)


def receive(
    session: Session, store: BlobStore, fp: BinaryIO, *, uploader: User, device_id: uuid.UUID | None, kind: str,
    record_id: uuid.UUID, policy: Policy, channel: str, declared_sha256: str | None = None,
    filename: str | None = None, upload_id: uuid.UUID | None = None, field_prefix: str = "",
    now: datetime | None = None,
) -> Received:
    """Check, store, describe, log and attach the bytes of ``fp`` (seekable, e.g. a spooled file).

    ``field_prefix`` names where the inputs came from in errors ("Upload-Metadata." for tus).
    """
    now = now or utcnow()
    if kind not in MEDIA_KINDS:
        raise InvalidInput(f"{field_prefix}kind", f"One of {', '.join(MEDIA_KINDS)}.")
    limit = policy.limits.of(kind)
    sha256, size = hash_file(fp, max_bytes=limit)
    if declared_sha256 is not None and declared_sha256.lower() != sha256:
        raise InvalidInput(f"{field_prefix}sha256",
                           f"The received bytes have SHA-256 {sha256}, not the {declared_sha256} the phone "
                           "computed: the file changed on the way. Nothing was kept; send it again.",
                           expected=declared_sha256.lower(), actual=sha256)
    links.check_record_for_evidence(session, uploader, record_id, f"{field_prefix}record_id")
    inspection = inspect(fp, kind, policy)
    stored = store.put_original(fp, expected_sha256=sha256, max_bytes=limit)
    blob, blob_created = _blob_row(session, sha256, size, inspection, uploader, policy, now)
    custody.record(session, jurisdiction_id=uploader.jurisdiction_id, kind="evidence.received",
                   subject_type="blob", subject_id=sha256, actor=uploader, device_id=device_id,
                   data={"channel": channel, "upload_id": str(upload_id) if upload_id else None,
                         "record_id": str(record_id), "size": size, "declared_kind": kind, "filename": filename})
    custody.record(session, jurisdiction_id=uploader.jurisdiction_id, kind="evidence.verified",
                   subject_type="blob", subject_id=sha256, actor=uploader, device_id=device_id,
                   data={"sha256": sha256, "size": size, "mime": inspection.media.mime,
                         "declared_sha256": declared_sha256.lower() if declared_sha256 else None,
                         "matches_declared": (declared_sha256.lower() == sha256) if declared_sha256 else None,
                         "stored": "new" if stored.created else "already stored"})
    attachment, attachment_created = links.attach(
        session, blob=blob, record_id=record_id, uploader=uploader, device_id=device_id, upload_id=upload_id,
        filename=filename, now=now)
    return Received(blob, attachment, blob_created, attachment_created)


def _blob_row(session: Session, sha256: str, size: int, inspection: Inspection, uploader: User, policy: Policy,
              now: datetime) -> tuple[Blob, bool]:
    existing = session.get(Blob, sha256)
    if existing is not None:
        return existing, False
    media, facts = inspection.media, inspection.facts
    blob = Blob(sha256=sha256, size=size, media_kind=media.kind, mime=media.mime, ext=media.ext, received_at=now,
                first_uploader_id=uploader.id, jurisdiction_id=uploader.jurisdiction_id, facts={},
                derivatives_state=DerivativesState.pending if media.kind == "photo" else DerivativesState.none)
    if facts is not None:
        _describe(blob, facts, policy)
    try:
        with session.begin_nested():
            session.add(blob)
            session.flush()
    except IntegrityError:
        # The same bytes finished through another upload at the same moment.
        return session.execute(select(Blob).where(Blob.sha256 == sha256)).scalar_one(), False
    return blob, True


def _describe(blob: Blob, facts: PhotoFacts, policy: Policy) -> None:
    blob.has_exif = facts.has_exif
    blob.facts = facts.as_json()
    if facts.captured_at is not None:
        taken = facts.captured_at
        if taken.tzinfo is None:
            taken = taken.replace(tzinfo=ZoneInfo(policy.camera_zone))
        blob.captured_at = taken.astimezone(timezone.utc)
        blob.captured_at_has_offset = facts.captured_at_has_offset
    if facts.gps_lat is not None and facts.gps_lon is not None:
        blob.gps_point = from_shape(Point(facts.gps_lon, facts.gps_lat), srid=4326)
        blob.gps_accuracy_m = facts.gps_accuracy_m
    blob.make, blob.model, blob.orientation = facts.make, facts.model, facts.orientation
    blob.width, blob.height = facts.display_width, facts.display_height


@contextmanager
def staged_file(store: BlobStore, staging_id: str) -> Iterator[BinaryIO]:
    """The staged bytes of an upload as a seekable file: the staging file itself locally,
    a local temporary copy from S3 (on disk, so memory stays flat)."""
    stream = store.stage_open(staging_id)
    try:
        if getattr(stream, "seekable", lambda: False)():
            stream.seek(0)
            yield stream
            return
        with tempfile.TemporaryFile(prefix="fieldwatch-staged-") as spool:
            shutil.copyfileobj(stream, spool, CHUNK_SIZE)
            spool.seek(0)
            yield spool
    finally:
        stream.close()


def complete_upload(session: Session, store: BlobStore, upload: Upload, *, uploader: User, policy: Policy,
                    now: datetime | None = None) -> Completion:
    """All bytes of a tus upload are in: run the pipeline on them.

    A refusal marks the upload failed and discards its bytes (it answers 410 after), and
    is returned rather than raised so that the caller can commit that state first.
    Anything else (storage down) propagates and leaves the upload to be completed by
    the next PATCH at its end. After a completion is committed, the caller discards the
    staged copy (``uploads.discard_staging``).
    """
    now = now or utcnow()
    try:
        with staged_file(store, upload.staging_id) as fp:
            received = receive(session, store, fp, uploader=uploader, device_id=upload.device_id, kind=upload.kind,
                               record_id=upload.record_id, policy=policy, channel="tus",
                               declared_sha256=upload.declared_sha256, filename=upload.filename,
                               upload_id=upload.id, field_prefix="Upload-Metadata.", now=now)
    except REFUSALS as exc:
        uploads.mark_failed(session, store, upload, getattr(exc, "detail", str(exc)), now=now)
        return Completion(refusal=exc)
    uploads.mark_complete(session, upload, received.blob.sha256, now=now)
    return Completion(received=received)


# -- derivatives ---------------------------------------------------------------------------------


def pending_derivations(session: Session, *, limit: int = 100, now: datetime | None = None) -> list[str]:
    """Photos still without derivatives whose lease is free, oldest first."""
    now = now or utcnow()
    return list(session.execute(
        select(Blob.sha256).where(Blob.derivatives_state == DerivativesState.pending,
                                  or_(Blob.derive_locked_until.is_(None), Blob.derive_locked_until < now))
        .order_by(Blob.received_at, Blob.sha256).limit(limit)
    ).scalars())


def claim_derivation(session: Session, sha256: str, *, lease: timedelta, now: datetime | None = None) -> str | None:
    """Take the lease to derive this photo; its token, or None if it is done or someone else has it.

    Commit right after, so the lease is seen by other processes.
    """
    now = now or utcnow()
    token = secrets.token_hex(16)
    taken = session.execute(
        update(Blob).where(Blob.sha256 == sha256, Blob.derivatives_state == DerivativesState.pending,
                           or_(Blob.derive_locked_until.is_(None), Blob.derive_locked_until < now))
        .values(derive_locked_by=token, derive_locked_until=now + lease)
        .execution_options(synchronize_session=False)
    ).rowcount
    return token if taken == 1 else None


def derive(session: Session, store: BlobStore, blob: Blob, *, policy: Policy, now: datetime | None = None) -> None:
    """Make, store and record the thumb and preview of a photo (the caller holds its lease).

    Decoding failures leave the photo as opaque evidence (state failed, with the reason);
    both outcomes are a custody entry ``evidence.derived`` in the jurisdiction of its first
    upload. The records it is attached to get their flags refreshed: the perceptual hash
    may show it is a photo used elsewhere.
    """
    now = now or utcnow()
    session.refresh(blob)
    try:
        with _seekable_original(store, blob.sha256) as fp:
            result = process_photo(fp, max_pixels=policy.max_pixels, thumb_px=policy.thumb_px,
                                   preview_px=policy.preview_px)
    except (UnsupportedMedia, CorruptMedia, TooManyPixels) as exc:
        blob.derivatives_state = DerivativesState.failed
        blob.derivatives_error = exc.detail[:300]
        blob.derive_locked_by = blob.derive_locked_until = None
        session.flush()
        custody.record(session, jurisdiction_id=blob.jurisdiction_id, kind="evidence.derived", subject_type="blob",
                       subject_id=blob.sha256, data={"result": "failed", "reason": exc.detail[:300]})
        return
    made = {}
    for kind, data, (width, height) in (("thumb", result.thumbnail, result.thumbnail_size),
                                        ("preview", result.preview, result.preview_size)):
        store.put_derivative(blob.sha256, kind, data)
        digest = hashlib.sha256(data).hexdigest()
        row = session.get(BlobDerivative, (blob.sha256, kind))
        if row is None:
            row = BlobDerivative(original_sha256=blob.sha256, kind=kind, jurisdiction_id=blob.jurisdiction_id)
            session.add(row)
        row.sha256, row.size, row.width, row.height, row.created_at = digest, len(data), width, height, now
        made[kind] = {"sha256": digest, "size": len(data), "width": width, "height": height}
    blob.perceptual_hash = result.perceptual_hash_signed
    blob.perceptual_hash_algorithm = PERCEPTUAL_HASH_ALGORITHM
    blob.derivatives_state = DerivativesState.ready
    blob.derivatives_error = None
    blob.derive_locked_by = blob.derive_locked_until = None
    session.flush()
    session.expire(blob, ["derivatives"])
    custody.record(session, jurisdiction_id=blob.jurisdiction_id, kind="evidence.derived", subject_type="blob",
                   subject_id=blob.sha256,
                   data={"result": "ready", "original_sha256": blob.sha256, **made,
                         "perceptual_hash": f"{result.perceptual_hash:016x}",
                         "perceptual_hash_algorithm": PERCEPTUAL_HASH_ALGORITHM})
    links.refresh_flags_for_blob(session, blob)


@contextmanager
def _seekable_original(store: BlobStore, sha256: str) -> Iterator[BinaryIO]:
    stream = store.open_original(sha256)
    try:
        if getattr(stream, "seekable", lambda: False)():
            yield stream
            return
        # Pillow needs to seek; an S3 body cannot. A local temporary copy keeps memory flat.
        with tempfile.TemporaryFile(prefix="fieldwatch-original-") as spool:
            shutil.copyfileobj(stream, spool, CHUNK_SIZE)
            spool.seek(0)
            yield spool
    finally:
        stream.close()


# -- access --------------------------------------------------------------------------------------

#: What can be read of an original: its bytes, or one of its viewing copies.
READABLE = ("original", "thumb", "preview")


def log_access(session: Session, *, user: User, device_id: uuid.UUID | None, attachment: Attachment,
               what: str, via: str = "stream") -> None:
    """Custody of reads: every read of an original (``evidence.downloaded``), and every thumb or
    preview shown to office staff (``evidence.viewed``), in the jurisdiction of the record
    through which it was read. ``via`` says whether the bytes were streamed or a signed URL given."""
    if what not in READABLE:
        raise ValueError(f"what must be one of {READABLE}")
    if what != "original" and user.role not in OFFICE_ROLES:
        return
    custody.record(session, jurisdiction_id=attachment.jurisdiction_id,
                   kind="evidence.downloaded" if what == "original" else "evidence.viewed",
                   subject_type="blob", subject_id=attachment.blob_sha256, actor=user, device_id=device_id,
                   data={"what": what, "via": via, "record_id": str(attachment.record_id),
                         "attachment_id": str(attachment.id)})


# -- verification --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OriginalProblem:
    sha256: str
    reason: str


@dataclass(frozen=True)
class OriginalsReport:
    checked: int
    first_problem: OriginalProblem | None = None
    problems: list[OriginalProblem] = field(default_factory=list)


def verify_originals(session: Session, store: BlobStore, *, batch: int = 500,
                     stop_at_first: bool = True) -> OriginalsReport:
    """Re-hash every stored original against the SHA-256 it is recorded (and addressed) under.

    Reads each original once, in CHUNK_SIZE pieces; stops at the first problem unless
    told otherwise. A missing original is a problem too.
    """
    checked = 0
    problems: list[OriginalProblem] = []
    last = ""
    while True:
        rows = session.execute(
            select(Blob.sha256, Blob.size).where(Blob.sha256 > last).order_by(Blob.sha256).limit(batch)).all()
        if not rows:
            break
        for sha256, size in rows:
            last = sha256
            checked += 1
            problem = _check_original(store, sha256, size)
            if problem is not None:
                problems.append(problem)
                if stop_at_first:
                    return OriginalsReport(checked, problem, problems)
    return OriginalsReport(checked, problems[0] if problems else None, problems)


def _check_original(store: BlobStore, sha256: str, size: int) -> OriginalProblem | None:
    try:
        stream = store.open_original(sha256)
    except BlobNotFound:
        return OriginalProblem(sha256, "the stored original is missing")
    digest = hashlib.sha256()
    length = 0
    with stream:
        while chunk := stream.read(CHUNK_SIZE):
            digest.update(chunk)
            length += len(chunk)
    actual = digest.hexdigest()
    if actual != sha256:
        return OriginalProblem(sha256, f"its stored bytes now hash to {actual} ({length} bytes, recorded {size})")
    if length != size:
        return OriginalProblem(sha256, f"it holds {length} bytes, recorded {size}")
    return None


__all__ = [
    "NoDerivative", "DerivationPending", "Policy", "Inspection", "Received", "Completion", "REFUSALS", "hash_file", "inspect", "receive",
    "staged_file", "complete_upload", "pending_derivations", "claim_derivation", "derive", "READABLE",
    "log_access", "OriginalProblem", "OriginalsReport", "verify_originals",
]
