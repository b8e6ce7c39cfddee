"""tus 1.0 uploads as plain functions: create, find, lock, append a chunk, terminate, expire.

State (``field.core.models.evidence.Upload``): open → complete | failed | terminated, and an
open upload past ``expires_at`` is expired (410, its staged bytes swept by ``cleanup_expired``).
Bytes are staged in the blob store under ``upload.staging_id``; completion (hash, sniff,
facts, keep the staged bytes as the original, custody, attach, then complete or failed) is the
domain's ``complete_upload``
(field/attachments/receipt.py), which api/ and cli/ call once the last byte is in.

The per-upload lock is a lease: ``acquire_lock`` sets ``locked_by``/``locked_until`` with
one conditional UPDATE (``WHERE locked_by IS NULL OR locked_until < now``), which is atomic
on PostgreSQL and on SQLite alike, so two PATCHes racing on the same upload — in two
threads, processes or hosts — cannot both hold it: the loser gets ``UploadLocked`` (423).
The caller commits right after acquiring, so no transaction stays open while bytes
stream in; the lease is renewed while they flow (``append``'s ``renew``) and lapses by
itself if the process dies. The store refuses a second write at the same offset
anyway (flock locally, If-None-Match on S3), so even a holder whose lease lapsed
cannot interleave with its successor: one of them gets OffsetMismatch (409).

Per-user caps (``Caps``, upload_caps.py) are checked at creation and at each lease.

These functions flush and never commit; the HTTP layer (api/uploads.py) commits.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, BinaryIO

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from field.core.errors import InvalidInput, NotFound
from field.core.evidence_errors import EvidenceError, OffsetMismatch, StageBusy, TooLarge
from field.core.models.base import utcnow
from field.core.models.evidence import MEDIA_KINDS
from field.core.models.evidence import Upload
from field.core.models.platform import User

from .storage import BlobStore
from .upload_caps import Caps, _check_open_caps, _check_stream_cap


TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = ("creation", "creation-with-upload", "checksum", "expiration", "termination")
#: Upload-Checksum algorithms (tus names them by their IANA hash names).
CHECKSUM_ALGORITHMS: dict[str, Callable[[], Any]] = {
    "sha1": hashlib.sha1, "sha256": hashlib.sha256, "md5": hashlib.md5,
}
#: Longest file name kept from Upload-Metadata.
MAX_FILENAME = 255
#: How long a lock holder may go without renewing before another request may take the upload.
DEFAULT_LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class Limits:
    """The largest upload accepted per declared kind, in bytes."""

    photo: int
    audio: int
    video: int

    def of(self, kind: str) -> int:
        return {"photo": self.photo, "audio": self.audio, "video": self.video}[kind]

    @property
    def largest(self) -> int:
        """Tus-Max-Size: no upload of any kind may be longer."""
        return max(self.photo, self.audio, self.video)


class UploadGone(EvidenceError):
    """The upload expired unfinished, or its bytes were refused: start a new one (410)."""

    code = "upload_gone"


class UploadLocked(EvidenceError):
    """Another request is appending to this upload right now (423)."""

    code = "upload_locked"
    default_detail = ("Another request is sending bytes to this upload; wait for it to finish, "
                      "then ask for the offset (HEAD) and continue.")


class ChecksumMismatch(EvidenceError):
    """The chunk does not have the Upload-Checksum the client sent; it was discarded (460)."""

    code = "checksum_mismatch"

    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm
        super().__init__(f"The chunk does not match its {algorithm} Upload-Checksum; it was discarded. "
                         "Send it again from the current offset.")


class UnsupportedChecksum(EvidenceError):
    """Upload-Checksum names an algorithm we do not compute (400, as tus says)."""

    code = "unsupported_checksum"


@dataclass(frozen=True)
class Checksum:
    """An Upload-Checksum: the algorithm and the digest the client computed over its chunk."""

    algorithm: str
    digest: bytes

    def __post_init__(self) -> None:
        if self.algorithm not in CHECKSUM_ALGORITHMS:
            raise UnsupportedChecksum(
                f"Upload-Checksum algorithm {self.algorithm!r} is not supported; use one of "
                f"{', '.join(CHECKSUM_ALGORITHMS)}.")


# -- creation and lookup -------------------------------------------------------------------------


def create_upload(
    session: Session, owner: User, *, device_id: uuid.UUID | None, length: int, metadata: dict[str, str],
    limits: Limits, expires_in: timedelta, check_record: Callable[[Session, User, uuid.UUID, str], None],
    caps: Caps = Caps(), now: datetime | None = None,
) -> Upload:
    """A new upload of ``length`` bytes; ``metadata`` is the decoded Upload-Metadata.

    ``kind`` (photo, audio, video) and ``record_id`` are required; ``sha256`` (the phone's
    hash at capture) and ``filename`` are optional. Over the kind's limit: TooLarge (413).
    Over the owner's open-upload or pending-byte cap: TooManyUploads (429).

    ``check_record(session, owner, record_id, field)`` is the domain's rule of which records
    the owner may send evidence for (field.attachments.links ``check_record_for_evidence``,
    wired in by api/); it runs after the metadata is read and before the caps.
    """
    now = now or utcnow()
    kind = metadata.get("kind")
    if kind not in MEDIA_KINDS:
        raise InvalidInput("Upload-Metadata.kind", f"Say what the file is: one of {', '.join(MEDIA_KINDS)}.")
    if length < 0:
        raise InvalidInput("Upload-Length", "Must be a whole number of bytes, 0 or more.")
    if length > limits.of(kind):
        raise TooLarge(limits.of(kind))
    record_id = parse_record_id(metadata.get("record_id"), "Upload-Metadata.record_id")
    declared = parse_sha256(metadata.get("sha256"), "Upload-Metadata.sha256")
    filename = clean_filename(metadata.get("filename") or metadata.get("name"))
    check_record(session, owner, record_id, "Upload-Metadata.record_id")
    _check_open_caps(session, owner.id, length, caps, now)
    upload = Upload(
        owner_id=owner.id, device_id=device_id, jurisdiction_id=owner.jurisdiction_id, kind=kind,
        length=length, offset=0, filename=filename, record_id=record_id, declared_sha256=declared,
        upload_metadata=dict(metadata), created_at=now, expires_at=now + expires_in,
    )
    session.add(upload)
    session.flush()
    return upload


def parse_record_id(value: str | None, field: str) -> uuid.UUID:
    if not value:
        raise InvalidInput(field, "Name the field record this evidence belongs to (its UUID).")
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise InvalidInput(field, "Not a UUID.") from None


def parse_sha256(value: str | None, field: str) -> str | None:
    if value is None or value == "":
        return None
    value = value.strip().lower()
    if len(value) != 64 or any(ch not in "0123456789abcdef" for ch in value):
        raise InvalidInput(field, "A SHA-256 is 64 hexadecimal characters.")
    return value


def clean_filename(value: str | None) -> str | None:
    """The client's file name for downloads: printable, no path, at most MAX_FILENAME characters."""
    if not value:
        return None
    name = value.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:MAX_FILENAME] or None


def get_upload(session: Session, user: User, upload_id: uuid.UUID, *, live: bool = True,
               now: datetime | None = None) -> Upload:
    """The caller's own upload; someone else's, or a terminated one: NotFound.

    With ``live`` (every tus request), an expired or refused upload is UploadGone;
    without, it is returned as it is, to say what became of it.
    """
    upload = session.execute(
        select(Upload).where(Upload.id == upload_id, Upload.owner_id == user.id)
    ).scalar_one_or_none()
    if upload is None or upload.terminated_at is not None:
        raise NotFound("upload")
    if not live:
        return upload
    state = upload.state(now or utcnow())
    if state == "failed":
        raise UploadGone(f"This upload was refused ({upload.failure}); nothing was kept. Start a new upload.")
    if state == "expired":
        raise UploadGone("This upload expired before it was finished; start a new upload.")
    return upload


# -- the lock ----------------------------------------------------------------------------------


def acquire_lock(
    session: Session, store: BlobStore, upload: Upload, *, lease: timedelta = DEFAULT_LEASE,
    caps: Caps = Caps(), now: datetime | None = None,
) -> str:
    """Take the upload's lease for this request and return its token; UploadLocked if someone holds it.

    With ``caps.streams``, TooManyUploads when that many other uploads of the owner hold a
    lease (are receiving bytes). Commit right after: the lease must be visible to other
    processes. The upload is re-read, and its offset taken from the store, the truth
    about what arrived.
    """
    now = now or utcnow()
    _check_stream_cap(session, upload, caps, now)
    token = secrets.token_hex(16)
    taken = session.execute(
        update(Upload)
        .where(Upload.id == upload.id, or_(Upload.locked_by.is_(None), Upload.locked_until < now))
        .values(locked_by=token, locked_until=now + lease)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise UploadLocked()
    session.refresh(upload)
    try:
        resync(session, store, upload)
    except StageBusy:
        # The lease lapsed but its holder is still writing: the upload is as busy as if it held it.
        # The caller's rollback returns the lease (nothing is committed before this returns).
        raise UploadLocked() from None
    return token


def renew_lock(session: Session, upload_id: uuid.UUID, token: str, *, lease: timedelta = DEFAULT_LEASE,
               now: datetime | None = None) -> bool:
    """Extend the lease while bytes still flow; False if it was lost (taken over after lapsing)."""
    now = now or utcnow()
    return session.execute(
        update(Upload).where(Upload.id == upload_id, Upload.locked_by == token)
        .values(locked_until=now + lease).execution_options(synchronize_session=False)
    ).rowcount == 1


def release_lock(session: Session, upload: Upload, token: str) -> None:
    """Give the lease back if it is still ours."""
    session.execute(
        update(Upload).where(Upload.id == upload.id, Upload.locked_by == token)
        .values(locked_by=None, locked_until=None).execution_options(synchronize_session=False)
    )
    if upload.locked_by == token:
        upload.locked_by, upload.locked_until = None, None
    session.flush()


def resync(session: Session, store: BlobStore, upload: Upload) -> None:
    """Take the offset from the store (after a crash or a cut connection, it knows best).

    StageBusy when a chunk is being appended right now (the size is not settled). The committed
    offset is staged for sure: the store looks only beyond it (on S3, one HEAD, no LIST).
    """
    if upload.completed_at is None and upload.staging_discarded_at is None:
        staged = store.stage_size(upload.staging_id, upload.offset)
        if staged != upload.offset:
            upload.offset = staged
            session.flush()


# -- appending -----------------------------------------------------------------------------------


class _Incoming(io.RawIOBase):
    """The request body as the store reads it: hashed for Upload-Checksum, the lease renewed as it flows."""

    def __init__(self, stream: BinaryIO, digest: Any | None, renew: Callable[[], Any] | None,
                 renew_every_s: float) -> None:
        self._stream = stream
        self._digest = digest
        self._renew = renew
        self._renew_every_s = renew_every_s
        self._next_renewal = time.monotonic() + renew_every_s

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        readinto = getattr(self._stream, "readinto", None)
        if readinto is not None:
            n = readinto(view) or 0
        else:
            data = self._stream.read(len(view))
            n = len(data)
            view[:n] = data
        if n and self._digest is not None:
            self._digest.update(view[:n])
        if self._renew is not None and time.monotonic() >= self._next_renewal:
            self._renew()
            self._next_renewal = time.monotonic() + self._renew_every_s
        return n


def append(
    session: Session, store: BlobStore, upload: Upload, *, offset: int, stream: BinaryIO,
    checksum: Checksum | None = None, declared_size: int | None = None, expires_in: timedelta,
    renew: Callable[[], Any] | None = None,
    renew_every_s: float = DEFAULT_LEASE.total_seconds() / 3, now: datetime | None = None,
) -> int:
    """Append a chunk at ``offset`` (the caller holds the lock); returns the new offset.

    OffsetMismatch (409) when ``offset`` is not where the upload stands, and nothing is
    read. TooLarge (413) when the chunk would pass Upload-Length: nothing of it is kept
    (and nothing is read when ``declared_size``, its Content-Length, already says so).
    ChecksumMismatch (460) when it does not match Upload-Checksum: it is discarded. If the
    client goes away mid-chunk, what arrived is kept — unless a checksum was announced,
    which a partial chunk cannot meet — and the error propagates; ``resync`` then sets
    the offset from the store.
    """
    if upload.completed_at is not None or offset != upload.offset:
        raise OffsetMismatch(upload.offset, offset)
    if declared_size is not None and offset + declared_size > upload.length:
        raise TooLarge(upload.length)
    digest = CHECKSUM_ALGORITHMS[checksum.algorithm]() if checksum else None
    incoming = _Incoming(stream, digest, renew, renew_every_s)
    try:
        new_offset = store.stage_append(upload.staging_id, offset, incoming, max_bytes=upload.length)
    except (OffsetMismatch, TooLarge):
        raise
    except BaseException:
        if checksum is not None:
            store.stage_truncate(upload.staging_id, offset)
        raise
    if digest is not None and digest.digest() != checksum.digest:
        store.stage_truncate(upload.staging_id, offset)
        raise ChecksumMismatch(checksum.algorithm)
    upload.offset = new_offset
    # Sliding expiry: a phone that keeps sending, however slowly, keeps its upload.
    upload.expires_at = (now or utcnow()) + expires_in
    session.flush()
    return new_offset


# -- the end of an upload ------------------------------------------------------------------------


def terminate(session: Session, store: BlobStore, upload: Upload, *, now: datetime | None = None) -> None:
    """tus termination: the staged bytes go, the upload answers 404 from now on.

    An original already made from a completed upload stays: evidence is never deleted
    by the phone that sent it.
    """
    now = now or utcnow()
    if upload.staging_discarded_at is None:
        store.stage_discard(upload.staging_id)
        upload.staging_discarded_at = now
    upload.terminated_at = now
    session.flush()


def discard_staging(session: Session, store: BlobStore, upload: Upload, *, now: datetime | None = None) -> None:
    """Remove the staged copy of a completed upload (its original is committed)."""
    store.stage_discard(upload.staging_id, upload.length)
    upload.staging_discarded_at = now or utcnow()
    session.flush()


def cleanup_expired(session: Session, store: BlobStore, *, now: datetime | None = None, batch: int = 500) -> int:
    """Discard the staged bytes of unfinished uploads past their expiry; returns how many.

    Also the staged copies of completed uploads that a crash left behind (between the
    commit of the original and the discard). Uploads whose lease is still held are left
    for the next run. An expired upload whose bytes are all staged is not unfinished: its
    completion was cut short (a crash, the store down) and the phone never asked again;
    it is kept, its offset set from the store, for ``received_uncompleted`` and the
    completion (field/attachments/receipt.py ``complete_upload``). Run it from cron (``fieldwatch
    cleanup-uploads``, which completes those too); it is safe to run on several hosts at once.
    """
    now = now or utcnow()
    done = 0
    busy: list[uuid.UUID] = []  # still receiving bytes although their lease lapsed: left alone
    while True:
        stale = list(session.execute(
            select(Upload).where(
                Upload.id.not_in(busy),
                Upload.staging_discarded_at.is_(None),
                or_(Upload.completed_at.is_not(None),
                    (Upload.expires_at < now) & (Upload.offset < Upload.length)),
                or_(Upload.locked_until.is_(None), Upload.locked_until < now),
            ).order_by(Upload.expires_at, Upload.id).limit(batch)
        ).scalars())
        if not stale:
            return done
        for upload in stale:
            if upload.completed_at is None and upload.failed_at is None and upload.terminated_at is None:
                try:
                    staged = store.stage_size(upload.staging_id)
                except StageBusy:
                    busy.append(upload.id)
                    continue
                if staged == upload.length:  # every byte arrived; the offset's commit did not
                    upload.offset = staged
                    continue
            store.stage_discard(upload.staging_id)
            upload.staging_discarded_at = now
            done += 1
        session.flush()


def received_uncompleted(session: Session, *, now: datetime | None = None, limit: int = 100) -> list[Upload]:
    """Uploads whose bytes are all in but that were never completed, and whose lease has lapsed.

    A crash or a store outage cut their completion short. The HEAD of a resuming phone
    completes them; if the phone never asks again, ``fieldwatch cleanup-uploads`` does,
    through the same ``complete_upload`` (expired or not: they are evidence, not garbage).
    """
    now = now or utcnow()
    return list(session.execute(
        select(Upload).where(
            Upload.offset == Upload.length, Upload.completed_at.is_(None), Upload.failed_at.is_(None),
            Upload.terminated_at.is_(None), Upload.staging_discarded_at.is_(None),
            or_(Upload.locked_until.is_(None), Upload.locked_until < now),
        ).order_by(Upload.created_at, Upload.id).limit(limit)
    ).scalars())
