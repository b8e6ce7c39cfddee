"""Evidence rows: originals by SHA-256, their derivatives, tus uploads in progress, attachments to records.

An original's bytes are stored once whoever sends them (``blobs``, keyed by the hash);
who may read them is decided per attachment (``attachments``: one row per record and
original, with its uploader). Bytes live in the blob store (evidence/storage.py); these
tables hold what is known about them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from geoalchemy2 import Geometry
from geoalchemy2.shape import to_shape
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.core.locations import Location
from .base import Base, IdMixin, JurisdictionScoped, utcnow

#: What a phone may declare an upload to be; the content must agree (evidence/sniff.py).
MEDIA_KINDS = ("photo", "audio", "video")


class DerivativesState:
    """Where an original stands with its viewing copies (``Blob.derivatives_state``)."""

    #: A photo whose thumb and preview are still to be made (by ``fieldwatch derive`` or the first view).
    pending = "pending"
    #: Thumb and preview stored; their rows are in ``blob_derivatives``.
    ready = "ready"
    #: The photo's pixels cannot be decoded: kept as opaque evidence, without derivatives.
    failed = "failed"
    #: Audio and video: nothing to derive.
    none = "none"


class Blob(JurisdictionScoped, Base):
    """One original, stored once under its SHA-256 however many times and by whom it was sent.

    ``jurisdiction_id`` is that of its first upload (custody entries about its
    derivatives go to that chain); access is never decided here but per attachment.
    """

    __tablename__ = "blobs"
    __table_args__ = (Index("ix_blobs_pending", "derivatives_state", "received_at"),)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    #: photo, audio or video, decided from the content (never the name or declared type).
    media_kind: Mapped[str] = mapped_column(String(8))
    mime: Mapped[str] = mapped_column(String(64))
    #: Extension for download names, from the sniffed type.
    ext: Mapped[str] = mapped_column(String(8))
    #: When the bytes were first received (server clock).
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_uploader_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    #: Photo facts read from the header at receipt (evidence/photo.py ``read_facts``).
    has_exif: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Capture time in UTC. Camera times without an offset are read as the office's zone (Asia/Shanghai).
    captured_at: Mapped[datetime | None]
    captured_at_has_offset: Mapped[bool] = mapped_column(Boolean, default=False)
    #: EXIF GPS position (WGS-84 by definition), for the plausibility check against the record's place.
    gps_point = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=True)
    gps_accuracy_m: Mapped[float | None] = mapped_column(Float)
    make: Mapped[str | None] = mapped_column(String(128))
    model: Mapped[str | None] = mapped_column(String(128))
    orientation: Mapped[int | None] = mapped_column(SmallInteger)
    #: Size as displayed (orientation applied).
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    #: Every fact as read (``PhotoFacts.as_json``), serial numbers and camera-local time included.
    facts: Mapped[dict] = mapped_column(JSON, default=dict)

    #: 64-bit dHash as a signed BIGINT (``PhotoResult.perceptual_hash_signed``), once derived.
    perceptual_hash: Mapped[int | None] = mapped_column(BigInteger, index=True)
    perceptual_hash_algorithm: Mapped[str | None] = mapped_column(String(16))

    derivatives_state: Mapped[str] = mapped_column(String(8), default=DerivativesState.pending)
    #: Why the derivatives could not be made (the decoder's complaint), when ``failed``.
    derivatives_error: Mapped[str | None] = mapped_column(String(300))
    #: Lease of whoever is making the derivatives (the worker or a first viewer), so only one does.
    derive_locked_by: Mapped[str | None] = mapped_column(String(32))
    derive_locked_until: Mapped[datetime | None]

    #: When the stored bytes were found not to hash to ``sha256`` (or gone): the original is quarantined,
    #: never served nor derived from, until the genuine bytes are sent again (evidence/integrity.py).
    damaged_at: Mapped[datetime | None]
    #: What was found: the hash the stored bytes have now, or that they are missing.
    damage: Mapped[str | None] = mapped_column(String(300))
    #: Bytes after the end of the image (JPEG EOI, PNG IEND, WebP RIFF size, last ISO BMFF box): something
    #: appended to the photo, a ZIP for one (a polyglot). None: not looked at (audio, video).
    trailing_bytes: Mapped[int | None] = mapped_column(BigInteger)

    derivatives: Mapped[list[BlobDerivative]] = relationship(
        back_populates="original", lazy="selectin", order_by="BlobDerivative.kind")

    @property
    def gps_location(self) -> Location | None:
        if self.gps_point is None:
            return None
        point = to_shape(self.gps_point)
        return Location(point.x, point.y, self.gps_accuracy_m)

    @property
    def trailing_data(self) -> bool:
        return bool(self.trailing_bytes)

    def derivative(self, kind: str) -> BlobDerivative | None:
        return next((d for d in self.derivatives if d.kind == kind), None)


class BlobDerivative(JurisdictionScoped, Base):
    """A viewing copy of a photo (thumb ~320 px, preview ~1280 px): upright, metadata-free JPEG."""

    __tablename__ = "blob_derivatives"

    original_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), primary_key=True)
    #: thumb or preview.
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    #: SHA-256 of the derivative's own bytes (its ETag).
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    original: Mapped[Blob] = relationship(back_populates="derivatives")


class Upload(JurisdictionScoped, Base):
    """A tus upload: its declared length, what has arrived, and what became of it.

    The staged bytes live in the blob store under ``staging_id``; ``offset`` mirrors
    their length (the store is the truth and is re-read under the lock). The lock is
    a lease (``locked_by``/``locked_until``) taken by an atomic UPDATE, so it holds
    across processes and hosts on both databases without keeping a transaction open
    while bytes stream in.
    """

    __tablename__ = "uploads"
    __table_args__ = (Index("ix_uploads_expiry", "completed_at", "expires_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    #: The only user who may see or continue this upload; anyone else gets 404.
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[uuid.UUID | None]
    #: photo, audio or video, as declared in Upload-Metadata (picks the size limit).
    kind: Mapped[str] = mapped_column(String(8))
    #: Upload-Length: the total the client announced.
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    filename: Mapped[str | None] = mapped_column(String(255))
    #: The field record the evidence belongs to (it may not have arrived yet).
    record_id: Mapped[uuid.UUID] = mapped_column(index=True)
    #: The SHA-256 the phone computed at capture; the stored bytes must have it.
    declared_sha256: Mapped[str | None] = mapped_column(String(64))
    #: Every Upload-Metadata pair as sent (decoded), for the record.
    upload_metadata: Mapped[dict] = mapped_column(JSON, default=dict)

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Unfinished uploads answer 410 after this; every PATCH moves it forward.
    expires_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    terminated_at: Mapped[datetime | None]
    #: Set when the finished bytes were refused (hash, type, corrupt): nothing was kept.
    failed_at: Mapped[datetime | None]
    failure: Mapped[str | None] = mapped_column(String(500))
    #: When the staged bytes were removed (completion, failure, termination or expiry clean-up).
    staging_discarded_at: Mapped[datetime | None]
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))

    locked_by: Mapped[str | None] = mapped_column(String(32))
    locked_until: Mapped[datetime | None]

    @property
    def staging_id(self) -> str:
        """The name of the staged bytes in the blob store."""
        return self.id.hex

    def state(self, now: datetime) -> str:
        if self.terminated_at is not None:
            return "terminated"
        if self.completed_at is not None:
            return "complete"
        if self.failed_at is not None:
            return "failed"
        if self.expires_at <= now:
            return "expired"
        return "open"


class Attachment(IdMixin, JurisdictionScoped, Base):
    """An original attached to a field record by its uploader.

    ``record_id`` has no foreign key on purpose: evidence often arrives before its
    record (photos go up while the record waits for a signal); the two link up by
    id when the record comes. Only attachments by the record's own submitter count
    for it (field/attachments/links.py).
    """

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("record_id", "blob_sha256", name="uq_attachments_record_blob"),)

    record_id: Mapped[uuid.UUID] = mapped_column(index=True)
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    uploader_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[uuid.UUID | None]
    #: The tus upload it came through (None for a multipart upload).
    upload_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("uploads.id"))
    #: The name the phone gave the file, for downloads; never trusted for the type.
    filename: Mapped[str | None] = mapped_column(String(255))
    attached_at: Mapped[datetime] = mapped_column(default=utcnow)

    blob: Mapped[Blob] = relationship(lazy="joined")
