"""Originals after receipt: every read logged in the custody log, every stored one re-hashed on demand."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from field.core.evidence_errors import BlobNotFound
from field.core.models.evidence import Attachment, Blob
from field.core.models.platform import OFFICE_ROLES, User
from field.core.storage import CHUNK_SIZE, BlobStore
from field.custody import chain as custody

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
