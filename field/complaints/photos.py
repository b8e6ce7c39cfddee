"""Photos a member of the public sends with a complaint: the evidence pipeline's originals, without an account.

Who may add one is whoever holds the complaint's secret (the page's form carries the photos with the
complaint itself; the JSON door takes them with the tracking number and secret), and only while the
complaint waits for triage: once the office has looked at it, what it was filed with is settled. At
most ``MAX_PHOTOS`` per complaint, each at most the configured size. The bytes go through receipt's
own checks (field/attachments/receipt.keep_original: hashed, sniffed, write-once under the hash,
custody entries with no actor); viewing copies are made off the request like every original's, and
they carry no EXIF (evidence/photo_render.py), so no phone's position or serial leaves the office.
"""

from __future__ import annotations

from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from field.attachments.receipt import MediaPolicy, keep_original
from field.core.errors import Conflict, InvalidInput
from field.core.models.base import utcnow
from field.core.storage import BlobStore
from field.custody import chain as custody

from .models import Complaint, ComplaintPhoto, State

#: Photos one complaint may carry.
MAX_PHOTOS = 3


def _filename(value: str | None) -> str | None:
    """The phone's name for the file, for downloads: no path, printable, at most 120 characters."""
    name = (value or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()[:120]
    return name or None


def count(session: Session, complaint: Complaint) -> int:
    return session.execute(select(func.count()).select_from(ComplaintPhoto)
                           .where(ComplaintPhoto.complaint_id == complaint.id)).scalar_one()


def add_photo(session: Session, store: BlobStore, complaint: Complaint, fp: BinaryIO, *, policy: MediaPolicy,
              max_bytes: int, filename: str | None, channel: str, field: str = "photo") -> ComplaintPhoto:
    """Keep ``fp`` (seekable) as an original and link it to ``complaint``; the same photo twice is one link."""
    if complaint.state is not State.received:
        raise Conflict(f"Complaint {complaint.tracking_number} is already being handled: no more photos.")
    if count(session, complaint) >= MAX_PHOTOS:
        raise InvalidInput(field, f"At most {MAX_PHOTOS} photos per complaint.")
    blob = keep_original(session, store, fp, kind="photo", limit=max_bytes, policy=policy,
                         jurisdiction_id=complaint.jurisdiction_id, channel=channel, content_field=field,
                         data={"complaint": complaint.tracking_number})
    existing = session.get(ComplaintPhoto, (complaint.id, blob.sha256))
    if existing is not None:
        return existing
    photo = ComplaintPhoto(complaint_id=complaint.id, blob_sha256=blob.sha256, filename=_filename(filename),
                           attached_at=utcnow())
    session.add(photo)
    session.flush()
    session.refresh(complaint, ["photos"])
    custody.record(session, jurisdiction_id=complaint.jurisdiction_id, kind="complaint.photo_added",
                   subject_type="complaint", subject_id=complaint.id,
                   data={"tracking_number": complaint.tracking_number, "sha256": blob.sha256})
    return photo
