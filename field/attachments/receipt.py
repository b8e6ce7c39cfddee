"""Receipt of evidence: received bytes become a checked, write-once original attached to its record.

Receipt (a finished tus upload, or one multipart request) runs in this order, so that
whatever is refused leaves nothing behind (the bytes work, steps 1 and 3, is evidence/'s,
handed in as the ``policy``; see ``MediaPolicy``):

1. hash the bytes (a tus upload's staged bytes as the store hashed them, or the form file
   werkzeug spooled to disk) and compare with the SHA-256 the phone computed at capture
   (a mismatch: 422);
2. refuse a record id that is someone else's record (422);
3. sniff the type from the content and refuse what the declared kind does not allow
   (415); for photos, read the EXIF facts from the header, no pixel decoded, and refuse
   a header over the pixel limit (422) or one no decoder can read (422);
4. store the original write-once under its hash (``put_original``, or for a tus upload
   ``keep_staged``: the staged bytes become the original without another copy through the
   app; both keep nothing on a mismatch, and the same bytes from anyone are stored once); a
   stored copy that fails its hash is replaced by these bytes (``repair_original``) and its
   quarantine lifted (originals.py);
5. the ``blobs`` row (once per hash; a photo's trailing data measured), custody
   ``evidence.received`` and ``evidence.verified`` in the uploader's jurisdiction;
6. attach to the record id (links.py: ``evidence.attached``, flags refreshed).

Derivatives are made off the request path (derivation.py); reads of originals are checked and
logged, damaged ones quarantined and stored ones re-hashed by originals.py.

Plain functions: they take the session, flush, never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, BinaryIO, Protocol
from zoneinfo import ZoneInfo

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from field.core.errors import InvalidInput
from field.core.evidence_errors import BlobConflict, CorruptMedia, TooLarge, TooManyPixels, UnsupportedMedia
from field.core.models.base import utcnow
from field.core.models.evidence import MEDIA_KINDS, Attachment, Blob, DerivativesState, Upload
from field.core.models.platform import User
from field.core.storage import BlobStore, StagedBytes, hash_file
from field.custody import chain as custody

from . import links
from .originals import lift_quarantine


class MediaPolicy(Protocol):
    """What receipt needs from the bytes side: evidence.pipeline.Policy, which api/ and cli/ build from
    the configuration and hand in."""

    #: The largest accepted size per declared kind: ``limits.of(kind)`` in bytes.
    limits: Any
    #: Zone of camera clocks that wrote no offset.
    camera_zone: str
    #: How long a derivation may take before another worker may take it over.
    derive_lease: timedelta

    def inspect(self, fp: BinaryIO, declared_kind: str) -> Any:
        """The sniffed type (``.media``: kind, mime, ext), a photo's header facts (``.facts``) and what
        follows its own bytes (``.trailing``), or a refusal."""
        ...


#: What refuses an upload for good (the same bytes sent again would be refused again).
REFUSALS: tuple[type[Exception], ...] = (UnsupportedMedia, CorruptMedia, TooManyPixels, TooLarge, InvalidInput)


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


@dataclass(frozen=True)
class _Stored:
    """The bytes as checked and kept: their hash, size and inspection, and what the store did with them."""

    sha256: str
    size: int
    inspection: Any
    created: bool    # the original is new in the store
    rewritten: bool  # a stored copy that failed its hash was replaced by these bytes

    def stored_as(self, blob_created: bool) -> str:
        return ("new" if self.created and blob_created else
                "repaired" if self.rewritten or self.created else "already stored")

    def lifts_quarantine(self, blob: Blob, blob_created: bool) -> bool:
        return self.rewritten or (not blob_created and (self.created or blob.damaged_at is not None))

    def how(self) -> str:
        return ("the stored copy failed its hash and was replaced by these bytes" if self.rewritten else
                "the stored copy was missing and these bytes were stored" if self.created else
                "the stored copy was found intact when the same bytes were sent again")


def _check_and_store(store: BlobStore, fp: BinaryIO | StagedBytes, *, kind: str, policy: MediaPolicy,
                     limit: int | None, kind_field: str, content_field: str, after_hash=None) -> _Stored:
    """Steps 1, 3 and 4 of a receipt: hash within the kind's limit (and ``limit``), ``after_hash(sha256)``
    (the caller's own checks), sniff and read the facts, store the original write-once (or repair it).

    ``fp`` is a seekable file, or a tus upload's staged bytes (``stage_complete``), which the store has
    hashed already and keeps as they lie."""
    if kind not in MEDIA_KINDS:
        raise InvalidInput(kind_field, f"One of {', '.join(MEDIA_KINDS)}.")
    limit = policy.limits.of(kind) if limit is None else min(limit, policy.limits.of(kind))
    staged = fp if isinstance(fp, StagedBytes) else None
    if staged is not None:
        fp = staged.file
    try:
        if staged is None:
            sha256, size = hash_file(fp, max_bytes=limit)
        elif staged.size > limit:
            raise TooLarge(limit)
        else:
            sha256, size = staged.sha256, staged.size
    except TooLarge as exc:
        exc.about(content_field)
        raise
    if after_hash is not None:
        after_hash(sha256)
    try:
        inspection = policy.inspect(fp, kind)
    except (UnsupportedMedia, CorruptMedia, TooManyPixels) as exc:
        exc.about(content_field)
        raise
    try:
        if staged is not None:
            created = store.keep_staged(staged, sha256).created
        else:
            created = store.put_original(fp, expected_sha256=sha256, max_bytes=limit).created
    except BlobConflict:
        created = False  # a copy of another length is stored under this hash: damaged
    rewritten = False
    if not created:
        # These bytes hash right: if the stored copy does not, they replace it (the one write over
        # an original). An intact copy is left as it is; either way it is read once more here.
        fp.seek(0)
        rewritten = store.repair_original(fp, sha256)
    return _Stored(sha256, size, inspection, created, rewritten)


def receive(
    session: Session, store: BlobStore, fp: BinaryIO | StagedBytes, *, uploader: User, device_id: uuid.UUID | None, kind: str,
    record_id: uuid.UUID, policy: MediaPolicy, channel: str, declared_sha256: str | None = None,
    filename: str | None = None, upload_id: uuid.UUID | None = None, field_prefix: str = "",
    content_field: str = "file", now: datetime | None = None,
) -> Received:
    """Check, store, describe, log and attach the bytes of ``fp`` (seekable, e.g. a spooled file, or a tus
    upload's staged bytes).

    ``field_prefix`` names where the inputs came from in errors ("Upload-Metadata." for tus);
    ``content_field`` names the bytes themselves in a refusal of them ("file" for the multipart
    form field, "_body" for a tus upload's PATCH bodies).
    """
    now = now or utcnow()

    def checked(sha256: str) -> None:
        if declared_sha256 is not None and declared_sha256.lower() != sha256:
            raise InvalidInput(f"{field_prefix}sha256",
                               f"The received bytes have SHA-256 {sha256}, not the {declared_sha256} the phone "
                               "computed: the file changed on the way. Nothing was kept; send it again.",
                               expected=declared_sha256.lower(), actual=sha256)
        links.check_record_for_evidence(session, uploader, record_id, f"{field_prefix}record_id")

    kept = _check_and_store(store, fp, kind=kind, policy=policy, limit=None, kind_field=f"{field_prefix}kind",
                            content_field=content_field, after_hash=checked)
    sha256, size = kept.sha256, kept.size
    blob, blob_created = _blob_row(session, sha256, size, kept.inspection, uploader, policy, now)
    custody.record(session, jurisdiction_id=uploader.jurisdiction_id, kind="evidence.received",
                   subject_type="blob", subject_id=sha256, actor=uploader, device_id=device_id,
                   data={"channel": channel, "upload_id": str(upload_id) if upload_id else None,
                         "record_id": str(record_id), "size": size, "declared_kind": kind, "filename": filename})
    custody.record(session, jurisdiction_id=uploader.jurisdiction_id, kind="evidence.verified",
                   subject_type="blob", subject_id=sha256, actor=uploader, device_id=device_id,
                   data={"sha256": sha256, "size": size, "mime": kept.inspection.media.mime,
                         "declared_sha256": declared_sha256.lower() if declared_sha256 else None,
                         "matches_declared": (declared_sha256.lower() == sha256) if declared_sha256 else None,
                         "stored": kept.stored_as(blob_created)})
    if kept.lifts_quarantine(blob, blob_created):
        lift_quarantine(session, blob, rewritten=kept.rewritten or kept.created, actor=uploader,
                        device_id=device_id, how=kept.how(),
                        data={"channel": channel, "upload_id": str(upload_id) if upload_id else None})
    attachment, attachment_created = links.attach(
        session, blob=blob, record_id=record_id, uploader=uploader, device_id=device_id, upload_id=upload_id,
        filename=filename, now=now)
    return Received(blob, attachment, blob_created, attachment_created)


def keep_original(
    session: Session, store: BlobStore, fp: BinaryIO, *, kind: str, limit: int, policy: MediaPolicy,
    jurisdiction_id: uuid.UUID, channel: str, data: dict, content_field: str = "file", now: datetime | None = None,
) -> Blob:
    """Receipt's steps 1, 3, 4 and 5 for bytes that no account sent (a member of the public's complaint photo).

    The same checks and the same write-once original as ``receive``, within ``limit`` bytes; the custody
    entries name no actor and go to ``jurisdiction_id``'s chain; the caller links the blob to what it is
    evidence of (nothing in ``attachments``, which are records' and need an uploader)."""
    now = now or utcnow()
    kept = _check_and_store(store, fp, kind=kind, policy=policy, limit=limit, kind_field="kind",
                            content_field=content_field)
    sha256, size = kept.sha256, kept.size
    blob, blob_created = _blob_row(session, sha256, size, kept.inspection, None, policy, now,
                                   jurisdiction_id=jurisdiction_id)
    custody.record(session, jurisdiction_id=jurisdiction_id, kind="evidence.received", subject_type="blob",
                   subject_id=sha256, data={"channel": channel, "size": size, "declared_kind": kind, **data})
    custody.record(session, jurisdiction_id=jurisdiction_id, kind="evidence.verified", subject_type="blob",
                   subject_id=sha256, data={"sha256": sha256, "size": size, "mime": kept.inspection.media.mime,
                                            "stored": kept.stored_as(blob_created)})
    if kept.lifts_quarantine(blob, blob_created):
        lift_quarantine(session, blob, rewritten=kept.rewritten or kept.created, actor=None, device_id=None,
                        how=kept.how(), data={"channel": channel})
    return blob


def _blob_row(session: Session, sha256: str, size: int, inspection: Any, uploader: User | None,
              policy: MediaPolicy, now: datetime, *, jurisdiction_id: uuid.UUID | None = None) -> tuple[Blob, bool]:
    existing = session.get(Blob, sha256)
    if existing is not None:
        return existing, False
    media, facts = inspection.media, inspection.facts
    blob = Blob(sha256=sha256, size=size, media_kind=media.kind, mime=media.mime, ext=media.ext, received_at=now,
                first_uploader_id=uploader.id if uploader else None,
                jurisdiction_id=uploader.jurisdiction_id if uploader else jurisdiction_id, facts={},
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


def _describe(blob: Blob, facts: Any, policy: MediaPolicy) -> None:
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


def complete_upload(session: Session, store: BlobStore, upload: Upload, *, uploader: User, policy: MediaPolicy,
                    now: datetime | None = None) -> Completion:
    """All bytes of a tus upload are in: run the pipeline on them.

    A refusal marks the upload failed and discards its bytes (it answers 410 after), and
    is returned rather than raised so that the caller can commit that state first.
    Anything else (storage down) propagates and leaves the upload to be completed by
    the next PATCH at its end. After a completion is committed, the caller discards the
    staged copy (evidence/uploads.py ``discard_staging``).
    """
    now = now or utcnow()
    try:
        # The staged bytes in one local file, hashed once by the store; kept as the original from there.
        with store.stage_complete(upload.staging_id, upload.length) as staged:
            received = receive(session, store, staged, uploader=uploader, device_id=upload.device_id, kind=upload.kind,
                               record_id=upload.record_id, policy=policy, channel="tus",
                               declared_sha256=upload.declared_sha256, filename=upload.filename,
                               upload_id=upload.id, field_prefix="Upload-Metadata.", content_field="_body",
                               now=now)
    except REFUSALS as exc:
        mark_failed(session, store, upload, getattr(exc, "detail", str(exc)), now=now)
        return Completion(refusal=exc)
    mark_complete(session, upload, received.blob.sha256, now=now)
    return Completion(received=received)


def mark_failed(session: Session, store: BlobStore, upload: Upload, reason: str, *,
                now: datetime | None = None) -> None:
    """The finished bytes were refused: discard them; the upload answers 410 from now on."""
    now = now or utcnow()
    store.stage_discard(upload.staging_id, upload.offset)
    upload.staging_discarded_at = now
    upload.failed_at = now
    upload.failure = reason[:500]
    session.flush()


def mark_complete(session: Session, upload: Upload, sha256: str, *, now: datetime | None = None) -> None:
    """The original is stored and attached. Its staged copy goes after the commit (``discard_staging``):
    were it discarded first and the commit then failed, the upload would have lost its bytes."""
    upload.completed_at = now or utcnow()
    upload.blob_sha256 = sha256
    session.flush()
