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

from evidence import integrity, uploads
from field.custody import chain as custody
from . import links
from field.core.evidence_errors import (
    BlobConflict,
    CorruptMedia,
    EvidenceDamaged,
    EvidenceError,
    TooLarge,
    TooManyPixels,
    UnsupportedMedia,
)
from evidence.integrity import OriginalProblem, OriginalsReport, verify_originals
from evidence.memory import decode_slots
from evidence.photo import PERCEPTUAL_HASH_ALGORITHM, PhotoFacts, process_photo, read_facts
from evidence.sniff import SNIFF_BYTES, MediaType, sniff
from evidence.storage import CHUNK_SIZE, BlobStore
from evidence.trailing import Trailing, trailing

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
    #: Full decodes one process holds at once (EVIDENCE_MAX_PARALLEL_DECODES; evidence/memory.py).
    max_parallel_decodes: int = 2

    def slots(self):
        """This process's slots for full decodes (evidence/memory.py)."""
        return decode_slots(self.max_parallel_decodes)


@dataclass(frozen=True)
class Inspection:
    media: MediaType
    facts: PhotoFacts | None
    #: What follows a photo's own bytes (evidence/trailing.py); None when nothing does, or not a photo.
    trailing: Trailing | None = None


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
    facts = appended = None
    if media.kind == "photo":
        facts = read_facts(fp, max_pixels=policy.max_pixels, slots=policy.slots())
        appended = trailing(fp, media.mime)
    fp.seek(0)
    return Inspection(media, facts, appended)


def receive(
    session: Session, store: BlobStore, fp: BinaryIO, *, uploader: User, device_id: uuid.UUID | None, kind: str,
    record_id: uuid.UUID, policy: Policy, channel: str, declared_sha256: str | None = None,
    filename: str | None = None, upload_id: uuid.UUID | None = None, field_prefix: str = "",
    content_field: str = "file", now: datetime | None = None,
) -> Received:
    """Check, store, describe, log and attach the bytes of ``fp`` (seekable, e.g. a spooled file).

    ``field_prefix`` names where the inputs came from in errors ("Upload-Metadata." for tus);
    ``content_field`` names the bytes themselves in a refusal of them ("file" for the multipart
    form field, "_body" for a tus upload's PATCH bodies).
    """
    now = now or utcnow()
    if kind not in MEDIA_KINDS:
        raise InvalidInput(f"{field_prefix}kind", f"One of {', '.join(MEDIA_KINDS)}.")
    limit = policy.limits.of(kind)
    try:
        sha256, size = hash_file(fp, max_bytes=limit)
    except TooLarge as exc:
        exc.about(content_field)
        raise
    if declared_sha256 is not None and declared_sha256.lower() != sha256:
        raise InvalidInput(f"{field_prefix}sha256",
                           f"The received bytes have SHA-256 {sha256}, not the {declared_sha256} the phone "
                           "computed: the file changed on the way. Nothing was kept; send it again.",
                           expected=declared_sha256.lower(), actual=sha256)
    links.check_record_for_evidence(session, uploader, record_id, f"{field_prefix}record_id")
    try:
        inspection = inspect(fp, kind, policy)
    except (UnsupportedMedia, CorruptMedia, TooManyPixels) as exc:
        exc.about(content_field)
        raise
    try:
        stored_created = store.put_original(fp, expected_sha256=sha256, max_bytes=limit).created
    except BlobConflict:
        stored_created = False  # a copy of another length is stored under this hash: damaged
    rewritten = False
    if not stored_created:
        # These bytes hash right: if the stored copy does not, they replace it (the one write over
        # an original). An intact copy is left as it is; either way it is read once more here.
        fp.seek(0)
        rewritten = store.repair_original(fp, sha256)
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
                         "stored": "new" if stored_created and blob_created else
                                   "repaired" if rewritten or stored_created else "already stored"})
    if rewritten or (not blob_created and (stored_created or blob.damaged_at is not None)):
        integrity.lift_quarantine(
            session, blob, rewritten=rewritten or stored_created, actor=uploader, device_id=device_id,
            how=("the stored copy failed its hash and was replaced by these bytes" if rewritten else
                 "the stored copy was missing and these bytes were stored" if stored_created else
                 "the stored copy was found intact when the same bytes were sent again"),
            data={"channel": channel, "upload_id": str(upload_id) if upload_id else None})
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
        appended = inspection.trailing
        # Stored as received all the same; only what no camera leaves there counts as trailing data.
        blob.trailing_bytes = appended.size if appended is not None and not appended.camera_trailer else 0
        if appended is not None:
            blob.facts = {**blob.facts, "trailing": appended.as_json()}
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
                               upload_id=upload.id, field_prefix="Upload-Metadata.", content_field="_body",
                               now=now)
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
        select(Blob.sha256).where(Blob.derivatives_state == DerivativesState.pending, Blob.damaged_at.is_(None),
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
                           Blob.damaged_at.is_(None),
                           or_(Blob.derive_locked_until.is_(None), Blob.derive_locked_until < now))
        .values(derive_locked_by=token, derive_locked_until=now + lease)
        .execution_options(synchronize_session=False)
    ).rowcount
    return token if taken == 1 else None


@dataclass(frozen=True)
class Derivation:
    """What decoding a photo gave: its stored viewing copies (kind → sha256, size, width, height)
    and perceptual hash, or why it has none."""

    made: dict[str, dict] = field(default_factory=dict)
    #: Unsigned, as PhotoResult gives it; ``perceptual_hash_signed`` fits the BIGINT column.
    perceptual_hash: int | None = None
    perceptual_hash_signed: int | None = None
    failure: str | None = None
    #: Why the stored bytes failed their hash: nothing was decoded (the original is quarantined).
    damaged: str | None = None


def make_derivatives(store: BlobStore, sha256: str, *, policy: Policy, size: int | None = None) -> Derivation:
    """Decode a photo and store its thumb and preview; the database is not touched.

    Call it with no transaction open (after committing the lease of ``claim_derivation``):
    reading the original and decoding it take seconds, and on SQLite every transaction
    holds the database's write lock (BEGIN IMMEDIATE, field/db.py), so a decode inside
    one stopped every other request; parallel first views then waited out their 15 s and
    answered 503. The decode takes one of the process's slots (evidence/memory.py).
    """
    try:
        # Never from damaged bytes: all of them are hashed first (evidence/integrity.py).
        with integrity.open_checked(store, sha256, size) as fp:
            result = process_photo(fp, max_pixels=policy.max_pixels, thumb_px=policy.thumb_px,
                                   preview_px=policy.preview_px, slots=policy.slots())
    except EvidenceDamaged as exc:
        return Derivation(damaged=exc.reason)
    except (UnsupportedMedia, CorruptMedia, TooManyPixels) as exc:
        return Derivation(failure=exc.detail[:300])
    made = {}
    for kind, data, (width, height) in (("thumb", result.thumbnail, result.thumbnail_size),
                                        ("preview", result.preview, result.preview_size)):
        store.put_derivative(sha256, kind, data)
        made[kind] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "width": width,
                      "height": height}
    return Derivation(made=made, perceptual_hash=result.perceptual_hash,
                      perceptual_hash_signed=result.perceptual_hash_signed)


def record_derivatives(session: Session, blob: Blob, derivation: Derivation, *, now: datetime | None = None) -> None:
    """Record what ``make_derivatives`` made of a photo and free its lease (the caller held it).

    A decoding failure leaves the photo as opaque evidence (state failed, with the reason);
    stored bytes that failed their hash quarantine it (``evidence.damaged``; it stays pending
    and is derived once repaired). Both decode outcomes are a custody entry ``evidence.derived``
    in the jurisdiction of its first upload. The records it is attached to get their flags refreshed: the perceptual hash
    may show it is a photo used elsewhere.
    """
    now = now or utcnow()
    session.refresh(blob)
    if derivation.damaged is not None:
        blob.derive_locked_by = blob.derive_locked_until = None
        integrity.mark_damaged(session, blob, derivation.damaged, found_by="derive", now=now)
        return
    if derivation.failure is not None:
        blob.derivatives_state = DerivativesState.failed
        blob.derivatives_error = derivation.failure
        blob.derive_locked_by = blob.derive_locked_until = None
        session.flush()
        custody.record(session, jurisdiction_id=blob.jurisdiction_id, kind="evidence.derived", subject_type="blob",
                       subject_id=blob.sha256, data={"result": "failed", "reason": derivation.failure})
        return
    made = derivation.made
    for kind, copy in made.items():
        row = session.get(BlobDerivative, (blob.sha256, kind))
        if row is None:
            row = BlobDerivative(original_sha256=blob.sha256, kind=kind, jurisdiction_id=blob.jurisdiction_id)
            session.add(row)
        row.sha256, row.size, row.width, row.height, row.created_at = (
            copy["sha256"], copy["size"], copy["width"], copy["height"], now)
    blob.perceptual_hash = derivation.perceptual_hash_signed
    blob.perceptual_hash_algorithm = PERCEPTUAL_HASH_ALGORITHM
    blob.derivatives_state = DerivativesState.ready
    blob.derivatives_error = None
    blob.derive_locked_by = blob.derive_locked_until = None
    session.flush()
    session.expire(blob, ["derivatives"])
    custody.record(session, jurisdiction_id=blob.jurisdiction_id, kind="evidence.derived", subject_type="blob",
                   subject_id=blob.sha256,
                   data={"result": "ready", "original_sha256": blob.sha256, **made,
                         "perceptual_hash": f"{derivation.perceptual_hash:016x}",
                         "perceptual_hash_algorithm": PERCEPTUAL_HASH_ALGORITHM})
    links.refresh_flags_for_blob(session, blob)


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


@dataclass(frozen=True)
class OriginalRead:
    """How an original is handed out: a signed URL, a checked stream, or the refusal to raise
    (after committing: the quarantine and its custody entry must stay)."""

    url: str | None = None
    stream: BinaryIO | None = None
    refusal: EvidenceDamaged | None = None


def read_original(session: Session, store: BlobStore, attachment: Attachment, *, user: User,
                  device_id: uuid.UUID | None, filename: str, expires_s: int) -> OriginalRead:
    """The original of ``attachment`` for ``user``, checked (evidence/integrity.py) and logged.

    A quarantined original, or one found damaged now (quarantined on the spot), is refused;
    a read given out is ``evidence.downloaded``, before any byte or URL leaves.
    """
    blob = attachment.blob
    if blob.damaged_at is not None:
        return OriginalRead(refusal=EvidenceDamaged(blob.sha256, blob.damage))
    url = store.signed_url(blob.sha256, filename=filename, content_type=blob.mime, expires_s=expires_s)
    stream = None
    try:
        if url is not None:
            problem = integrity.cheap_check(store, blob)
            if problem is not None:
                raise EvidenceDamaged(blob.sha256, problem)
        else:
            stream = integrity.CheckedReader(integrity.open_checked(store, blob.sha256, blob.size), blob.sha256)
    except EvidenceDamaged as exc:
        return OriginalRead(refusal=integrity.mark_damaged(session, blob, exc.reason, found_by="read", actor=user,
                                                           device_id=device_id))
    log_access(session, user=user, device_id=device_id, attachment=attachment, what="original",
               via="signed_url" if url else "stream")
    return OriginalRead(url=url, stream=stream)


__all__ = [
    "NoDerivative", "DerivationPending", "Policy", "Inspection", "Received", "Completion", "REFUSALS", "hash_file", "inspect", "receive",
    "staged_file", "complete_upload", "pending_derivations", "claim_derivation", "Derivation", "make_derivatives",
    "record_derivatives", "READABLE",
    "log_access", "OriginalRead", "read_original", "OriginalProblem", "OriginalsReport", "verify_originals",
]
