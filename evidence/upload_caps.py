"""Per-user caps of tus uploads, so one greedy or broken phone cannot starve everyone else.

At creation: how many unfinished uploads a user may have and how many of their announced bytes
may still be outstanding; at each lease: how many of their uploads may be receiving bytes at the
same moment. The user's row is locked (FOR NO KEY UPDATE; SQLite's BEGIN IMMEDIATE serialises
anyway) while counting, so requests racing from one user cannot all slip under a cap. Over a
cap: TooManyUploads (429 with Retry-After).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from field.core.evidence_errors import EvidenceError
from field.core.models.evidence import Upload
from field.core.models.platform import User


@dataclass(frozen=True)
class Caps:
    """What one user may have going at once; None leaves that cap off."""

    #: Unfinished (open, unexpired) uploads.
    open_uploads: int | None = None
    #: Bytes announced by those uploads and not received yet.
    pending_bytes: int | None = None
    #: Uploads receiving bytes at the same moment (PATCHes holding a lease).
    streams: int | None = None


class TooManyUploads(EvidenceError):
    """The user is at one of their upload caps: wait ``retry_after`` seconds, or finish what is open (429)."""

    code = "too_many_uploads"

    def __init__(self, limit: str, value: int, detail: str, retry_after: int) -> None:
        self.limit = limit
        self.value = value
        self.retry_after = retry_after
        #: Members of the problem body: which cap, and its value.
        self.extra = {"limit": limit, "limit_value": value, "retry_after": retry_after}
        super().__init__(detail)


#: Seconds a client is told to wait: a stream frees within a chunk's time, an open upload
#: only when it finishes, is terminated or expires.
STREAM_RETRY_AFTER_S = 5


OPEN_RETRY_AFTER_S = 60


def _lock_owner(session: Session, owner_id: uuid.UUID) -> None:
    # Counting under the owner's row lock makes check-then-act exact for one user's racing requests.
    # FOR NO KEY UPDATE, not FOR UPDATE: a request that already changed one of the owner's upload
    # rows takes KEY SHARE on the owner for the foreign key when it changes the row again (its
    # lease's release); FOR UPDATE would block that while waiting for the row, a deadlock (503).
    session.execute(select(User.id).where(User.id == owner_id).with_for_update(key_share=True))


def _check_open_caps(session: Session, owner_id: uuid.UUID, length: int, caps: Caps, now: datetime) -> None:
    if caps.open_uploads is None and caps.pending_bytes is None:
        return
    _lock_owner(session, owner_id)
    count, pending = session.execute(
        select(func.count(), func.coalesce(func.sum(Upload.length - Upload.offset), 0)).where(
            Upload.owner_id == owner_id, Upload.completed_at.is_(None), Upload.terminated_at.is_(None),
            Upload.failed_at.is_(None), Upload.expires_at > now)
    ).one()
    if caps.open_uploads is not None and count >= caps.open_uploads:
        raise TooManyUploads(
            "open_uploads", caps.open_uploads,
            f"You already have {count} unfinished uploads; at most {caps.open_uploads} may be open at once. "
            "Finish or terminate one, then start this one.", OPEN_RETRY_AFTER_S)
    if caps.pending_bytes is not None and pending + length > caps.pending_bytes:
        raise TooManyUploads(
            "pending_bytes", caps.pending_bytes,
            f"Your unfinished uploads still await {pending} bytes; with these {length} that would pass the "
            f"{caps.pending_bytes} bytes one user may have outstanding. Finish what is open first.",
            OPEN_RETRY_AFTER_S)


def _check_stream_cap(session: Session, upload: Upload, caps: Caps, now: datetime) -> None:
    if caps.streams is None:
        return
    _lock_owner(session, upload.owner_id)
    streaming = session.execute(
        select(func.count()).select_from(Upload).where(
            Upload.owner_id == upload.owner_id, Upload.id != upload.id,
            Upload.locked_by.is_not(None), Upload.locked_until >= now)
    ).scalar_one()
    if streaming >= caps.streams:
        raise TooManyUploads(
            "streams", caps.streams,
            f"{streaming} of your uploads are receiving bytes right now; at most {caps.streams} may at once. "
            "Send this one when one of them has finished its chunk.", STREAM_RETRY_AFTER_S)
