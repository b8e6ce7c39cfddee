"""Attachments of evidence to field records, and the plausibility flags reviewers see.

An attachment links an original (by SHA-256) to a record id; the record may arrive
later, and links up by its id. Only attachments made by the record's own submitter
count for it: nobody can slip evidence into someone else's record.

Flags, per attachment (``attachment_flags``), each computed from stored facts:

- ``gps_far_from_record``: the photo's EXIF position (WGS-84) lies further from the
  record's location (stored WGS-84) than ``gps_max_distance_m`` plus both accuracies.
- ``captured_outside_window``: the capture time (EXIF, else the GPS clock) falls outside
  the record's window: the kind's own ``evidence_window`` (a property giving (start, end))
  when it has one, else ``device_time`` ± ``time_window``.
- ``same_photo_elsewhere``: the same bytes are attached to another record.
- ``similar_photo_elsewhere``: a photo whose perceptual hash is within
  ``same_photo_max_distance`` bits is attached to another record of the same district.
- ``no_exif``: a photo without any EXIF at all.
- ``trailing_data``: bytes follow the end of the image (a ZIP appended to a JPEG: a polyglot),
  other than what cameras leave there (evidence/trailing.py).

``refresh_record_flags`` sets the envelope's ``flag_implausible_evidence``; it runs when
a record is submitted or amended (field/records/lifecycle.py), when evidence is attached to an
existing record, and when derivation gives a photo its perceptual hash.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from field.core import geo
from field.core.errors import InvalidInput
from field.core.models.platform import LEVEL_DEPTH, Jurisdiction, JurisdictionLevel, User
from field.core.models.evidence import Attachment, Blob
from field.core.models.records import FieldRecord
from field.core.models.base import utcnow

from field.custody import chain as custody
from field.core.media import SAME_PHOTO_MAX_DISTANCE, hash_distance


@dataclass(frozen=True)
class Thresholds:
    """How far is too far; set from the configuration when the app starts (``configure``)."""

    gps_max_distance_m: float = 500.0
    time_window: timedelta = timedelta(hours=12)
    same_photo_max_distance: int = SAME_PHOTO_MAX_DISTANCE


_configured = Thresholds()


def configure(thresholds: Thresholds) -> None:
    """Set the thresholds used when a caller passes none (the app does, from its configuration)."""
    global _configured
    _configured = thresholds


def current_thresholds() -> Thresholds:
    return _configured


@dataclass(frozen=True)
class Flag:
    """One reason to doubt one piece of evidence."""

    code: str
    sha256: str
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


FLAG_CODES = ("gps_far_from_record", "captured_outside_window", "same_photo_elsewhere",
              "similar_photo_elsewhere", "no_exif", "trailing_data")


# -- attaching -----------------------------------------------------------------------------------


def check_record_for_evidence(session: Session, user: User, record_id: uuid.UUID, field_name: str) -> None:
    """Evidence may name a record that has not arrived yet, but not someone else's record: 422."""
    submitter = session.execute(
        select(FieldRecord.submitted_by_id).where(FieldRecord.id == record_id)).scalar_one_or_none()
    if submitter is not None and submitter != user.id:
        raise InvalidInput(field_name, "Evidence can only be attached to your own records.")


def attach(
    session: Session, *, blob: Blob, record_id: uuid.UUID, uploader: User, device_id: uuid.UUID | None,
    upload_id: uuid.UUID | None = None, filename: str | None = None, now: datetime | None = None,
) -> tuple[Attachment, bool]:
    """Attach ``blob`` to ``record_id`` once; returns the attachment and whether it is new.

    A new attachment is a custody entry (``evidence.attached``) in the record's
    jurisdiction (the uploader's while the record has not arrived), and refreshes the
    record's flags when the record is there.
    """
    existing = _attachment(session, record_id, blob.sha256)
    if existing is not None:
        return existing, False
    record = session.get(FieldRecord, record_id)
    jurisdiction_id = record.jurisdiction_id if record is not None else uploader.jurisdiction_id
    try:
        with session.begin_nested():
            attachment = Attachment(
                record_id=record_id, blob_sha256=blob.sha256, blob=blob, uploader_id=uploader.id,
                device_id=device_id, upload_id=upload_id, filename=filename, attached_at=now or utcnow(),
                jurisdiction_id=jurisdiction_id)
            session.add(attachment)
            session.flush()
    except IntegrityError:
        # The same evidence for the same record, sent through two channels at once.
        found = _attachment(session, record_id, blob.sha256)
        if found is None:
            raise
        return found, False
    custody.record(session, jurisdiction_id=jurisdiction_id, kind="evidence.attached", subject_type="blob",
                   subject_id=blob.sha256, actor=uploader, device_id=device_id,
                   data={"record_id": str(record_id), "attachment_id": str(attachment.id),
                         "record_arrived": record is not None})
    if record is not None:
        refresh_record_flags(session, record)
    return attachment, True


def _attachment(session: Session, record_id: uuid.UUID, sha256: str) -> Attachment | None:
    return session.execute(
        select(Attachment).where(Attachment.record_id == record_id, Attachment.blob_sha256 == sha256)
    ).scalar_one_or_none()


def has_attachments(session: Session, record: FieldRecord) -> bool:
    """Whether any evidence is attached to the record's id (one indexed probe; a new record
    usually has none, its photos follow it)."""
    return session.execute(select(Attachment.id).where(
        Attachment.record_id == record.id, Attachment.uploader_id == record.submitted_by_id).limit(1)).first() \
        is not None


def records_with_attachments(session: Session, records: list[FieldRecord]) -> set[uuid.UUID]:
    """Which of ``records`` have evidence attached by their submitters (one query for them all)."""
    if not records:
        return set()
    found = session.execute(select(Attachment.record_id, Attachment.uploader_id).where(
        Attachment.record_id.in_([r.id for r in records])).distinct()).all()
    submitters = {r.id: r.submitted_by_id for r in records}
    return {record_id for record_id, uploader_id in found if submitters.get(record_id) == uploader_id}


def record_attachments(session: Session, record: FieldRecord) -> list[Attachment]:
    """The record's evidence: what its submitter attached to its id, oldest first."""
    return list(session.execute(
        select(Attachment).where(Attachment.record_id == record.id,
                                 Attachment.uploader_id == record.submitted_by_id)
        .order_by(Attachment.attached_at, Attachment.id)
    ).scalars())


# -- plausibility --------------------------------------------------------------------------------


def record_window(record: FieldRecord, thresholds: Thresholds) -> tuple[datetime, datetime] | None:
    """When the record's evidence should have been captured.

    A record kind with its own window (a visit task's dates, an inspection's slot)
    exposes it as ``evidence_window``: (start, end), aware datetimes, or None.
    """
    own = getattr(record, "evidence_window", None)
    if callable(own):
        own = own()
    if own is not None:
        return own
    if record.device_time is None:
        return None
    return record.device_time - thresholds.time_window, record.device_time + thresholds.time_window


def capture_instant(blob: Blob) -> datetime | None:
    """When the photo was taken: its EXIF capture time, else the GPS clock's time."""
    if blob.captured_at is not None:
        return blob.captured_at
    gps_time = (blob.facts or {}).get("gps_time")
    if gps_time:
        try:
            value = datetime.fromisoformat(gps_time)
        except ValueError:
            return None
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return None


def attachment_flags(session: Session, record: FieldRecord, attachment: Attachment,
                     thresholds: Thresholds | None = None) -> list[Flag]:
    """Why this piece of the record's evidence may not be what the record says it is."""
    thresholds = thresholds or _configured
    blob = attachment.blob
    flags: list[Flag] = []
    if blob.media_kind == "photo" and not blob.has_exif:
        flags.append(Flag("no_exif", blob.sha256, "The photo carries no EXIF at all: no camera, time or place."))
    if blob.trailing_bytes:
        looks_like = (blob.facts or {}).get("trailing", {}).get("looks_like", "unknown")
        flags.append(Flag("trailing_data", blob.sha256,
                          f"{blob.trailing_bytes} bytes follow the end of the image (they look like: {looks_like}); "
                          "the file was kept exactly as received.",
                          {"bytes": blob.trailing_bytes, "looks_like": looks_like}))

    photo_place = blob.gps_location
    if photo_place is not None and record.location is not None:
        where = geo.from_db(record.location)
        distance = geo.haversine_m(where.x, where.y, photo_place.lon, photo_place.lat)
        allowance = thresholds.gps_max_distance_m + (record.accuracy_m or 0.0) + (photo_place.accuracy_m or 0.0)
        if distance > allowance:
            flags.append(Flag("gps_far_from_record", blob.sha256,
                              f"The photo was taken {distance:,.0f} m from the record's location.",
                              {"distance_m": round(distance, 1), "allowed_m": round(allowance, 1)}))

    taken = capture_instant(blob)
    window = record_window(record, thresholds)
    if taken is not None and window is not None and not window[0] <= taken <= window[1]:
        flags.append(Flag("captured_outside_window", blob.sha256,
                          "The photo was taken outside the record's time window.",
                          {"captured_at": taken.isoformat(), "window_start": window[0].isoformat(),
                           "window_end": window[1].isoformat()}))

    elsewhere = session.execute(
        select(Attachment.record_id, Attachment.jurisdiction_id)
        .where(Attachment.blob_sha256 == blob.sha256, Attachment.record_id != record.id)
    ).all()
    if elsewhere:
        flags.append(Flag("same_photo_elsewhere", blob.sha256,
                          f"The same file is attached to {len(elsewhere)} other record(s).",
                          {"count": len(elsewhere),
                           # Ids only where the record's own office works; elsewhere, a count.
                           "record_ids": sorted(str(r) for r, j in elsewhere if j == record.jurisdiction_id)}))

    similar = _similar_elsewhere(session, record, blob, thresholds)
    if similar:
        flags.append(Flag("similar_photo_elsewhere", blob.sha256,
                          f"A nearly identical photo is attached to {len(similar)} other record(s).",
                          {"count": len(similar),
                           "closest_distance_bits": min(d for _r, _j, d in similar),
                           "record_ids": sorted({str(r) for r, j, _d in similar if j == record.jurisdiction_id})}))
    return flags


def _district_prefix(session: Session, jurisdiction_id: uuid.UUID) -> str:
    """The materialised path of the district a jurisdiction lies in (itself, if at district level or above)."""
    path, level = session.execute(
        select(Jurisdiction.path, Jurisdiction.level).where(Jurisdiction.id == jurisdiction_id)).one()
    below = LEVEL_DEPTH[JurisdictionLevel(level)] - LEVEL_DEPTH[JurisdictionLevel.district]
    if below <= 0:
        return path
    parts = path.strip("/").split("/")
    return "/" + "/".join(parts[:-below]) + "/"


def _similar_elsewhere(session: Session, record: FieldRecord, blob: Blob,
                       thresholds: Thresholds) -> list[tuple[uuid.UUID, uuid.UUID, int]]:
    """Other records of the district with a perceptually near photo: (record id, jurisdiction, distance).

    Hamming distance has no index on either database; the scan is bounded to one
    district's photos, a few thousand a year.
    """
    if blob.perceptual_hash is None:
        return []
    district = select(Jurisdiction.id).where(
        Jurisdiction.path.startswith(_district_prefix(session, record.jurisdiction_id), autoescape=True))
    rows = session.execute(
        select(Attachment.record_id, Attachment.jurisdiction_id, Blob.perceptual_hash)
        .join(Blob, Blob.sha256 == Attachment.blob_sha256)
        .where(Blob.perceptual_hash.is_not(None), Blob.sha256 != blob.sha256,
               Blob.perceptual_hash_algorithm == blob.perceptual_hash_algorithm,
               Attachment.record_id != record.id, Attachment.jurisdiction_id.in_(district))
    ).all()
    found = []
    for record_id, jurisdiction_id, other in rows:
        distance = hash_distance(blob.perceptual_hash, other)
        if distance <= thresholds.same_photo_max_distance:
            found.append((record_id, jurisdiction_id, distance))
    return found


def plausibility_for(session: Session, record: FieldRecord, thresholds: Thresholds | None = None) -> list[Flag]:
    """Every flag on every piece of the record's evidence."""
    return [flag for attachment in record_attachments(session, record)
            for flag in attachment_flags(session, record, attachment, thresholds)]


def refresh_record_flags(session: Session, record: FieldRecord, thresholds: Thresholds | None = None) -> list[Flag]:
    """Set ``flag_implausible_evidence`` from the record's evidence as it stands; returns the flags."""
    flags = plausibility_for(session, record, thresholds)
    if record.flag_implausible_evidence != bool(flags):
        record.flag_implausible_evidence = bool(flags)
        session.flush()
    return flags


def refresh_flags_for_blob(session: Session, blob: Blob, thresholds: Thresholds | None = None) -> int:
    """After a photo's facts changed (its perceptual hash became known): refresh every record it
    touches, its own and those holding a near-identical photo. Returns how many were refreshed."""
    thresholds = thresholds or _configured
    record_ids = set(session.execute(
        select(Attachment.record_id).where(Attachment.blob_sha256 == blob.sha256)).scalars())
    if blob.perceptual_hash is not None:
        for jurisdiction_id in set(session.execute(
                select(Attachment.jurisdiction_id).where(Attachment.blob_sha256 == blob.sha256)).scalars()):
            district = select(Jurisdiction.id).where(
                Jurisdiction.path.startswith(_district_prefix(session, jurisdiction_id), autoescape=True))
            for record_id, other in session.execute(
                    select(Attachment.record_id, Blob.perceptual_hash)
                    .join(Blob, Blob.sha256 == Attachment.blob_sha256)
                    .where(Blob.perceptual_hash.is_not(None), Blob.sha256 != blob.sha256,
                           Attachment.jurisdiction_id.in_(district))).all():
                if hash_distance(blob.perceptual_hash, other) <= thresholds.same_photo_max_distance:
                    record_ids.add(record_id)
    if not record_ids:
        return 0
    records = session.execute(select(FieldRecord).where(FieldRecord.id.in_(record_ids))).scalars().all()
    for record in records:
        refresh_record_flags(session, record, thresholds)
    return len(records)


# -- what a record shows -------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentState:
    """One line of a record's evidence: declared by the phone, arrived, and what is doubtful about it."""

    sha256: str
    media: str
    declared: bool
    arrived: bool
    attachment: Attachment | None
    flags: list[Flag]


def attachments_state(session: Session, record: FieldRecord,
                      thresholds: Thresholds | None = None) -> list[AttachmentState]:
    """The record's declared attachments (``declared_attachments``) in their order, each with
    whether it has arrived and its flags; then what arrived without being declared."""
    arrived = {a.blob_sha256: a for a in record_attachments(session, record)}
    out: list[AttachmentState] = []
    seen: set[str] = set()
    for item in record.declared_attachments or []:
        sha = str(item.get("sha256", "")).lower()
        if not sha or sha in seen:
            continue
        seen.add(sha)
        attachment = arrived.get(sha)
        flags = attachment_flags(session, record, attachment, thresholds) if attachment else []
        out.append(AttachmentState(sha, item.get("media") or (attachment.blob.media_kind if attachment else "photo"),
                                   True, attachment is not None, attachment, flags))
    for sha, attachment in arrived.items():
        if sha not in seen:
            out.append(AttachmentState(sha, attachment.blob.media_kind, False, True, attachment,
                                       attachment_flags(session, record, attachment, thresholds)))
    return out


__all__ = [
    "Thresholds", "configure", "current_thresholds", "Flag", "FLAG_CODES", "check_record_for_evidence", "attach",
    "has_attachments", "records_with_attachments", "record_attachments", "record_window", "capture_instant", "attachment_flags", "plausibility_for",
    "refresh_record_flags", "refresh_flags_for_blob", "AttachmentState", "attachments_state",
]
