"""Originals after receipt: every read logged in the custody log and checked against its hash, a damaged
one quarantined (and released when repaired), every stored one re-hashed on demand.

The checks of the bytes themselves are evidence/'s (evidence/integrity.py, handed in as the
``policy``); what is decided here writes the custody entries and the blob rows: the quarantine
(``blobs.damaged_at``, ``damage``, one ``evidence.damaged`` entry, set by whoever finds the damage
first: a read, the derivation worker, ``fieldwatch verify``) and its lifting (``evidence.repaired``,
when the genuine bytes are sent again or found intact). docs/evidence.md tells the whole story.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from field.core.evidence_errors import BlobNotFound, EvidenceDamaged
from field.core.models.base import utcnow
from field.core.models.evidence import Attachment, Blob
from field.core.models.platform import OFFICE_ROLES, User
from field.core.storage import MISSING, BlobStore, mismatch, stream_digest
from field.custody import chain as custody

#: What can be read of an original: its bytes, or one of its viewing copies.
READABLE = ("original", "thumb", "preview")


class OriginalChecks(Protocol):
    """What a read of an original needs from the bytes side: evidence.pipeline.Policy (evidence/integrity.py)."""

    def cheap_check(self, store: BlobStore, blob: Blob) -> str | None:
        """What the store tells without reading the bytes: why the original is damaged, or None."""
        ...

    def checked_stream(self, store: BlobStore, sha256: str, size: int | None) -> BinaryIO:
        """The original, all of it hashed first and hashed again as it is read; EvidenceDamaged otherwise."""
        ...


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


# -- quarantine ----------------------------------------------------------------------------------


def mark_damaged(session: Session, blob: Blob, reason: str, *, found_by: str, actor=None,
                 device_id: uuid.UUID | None = None, now: datetime | None = None) -> EvidenceDamaged:
    """Quarantine the original (once: one ``evidence.damaged`` entry); the error to answer with."""
    if blob.damaged_at is None:
        blob.damaged_at, blob.damage = now or utcnow(), reason[:300]
        session.flush()
        custody.record(session, jurisdiction_id=blob.jurisdiction_id, kind="evidence.damaged",
                       subject_type="blob", subject_id=blob.sha256, actor=actor, device_id=device_id,
                       data={"found_by": found_by, "damage": reason[:300], "size": blob.size})
    return EvidenceDamaged(blob.sha256, blob.damage)


def lift_quarantine(session: Session, blob: Blob, *, rewritten: bool, how: str, actor=None,
                    device_id: uuid.UUID | None = None, data: dict | None = None) -> None:
    """The stored original hashes right again: clear the quarantine, log ``evidence.repaired``."""
    previous = blob.damage
    blob.damaged_at = blob.damage = None
    session.flush()
    custody.record(session, jurisdiction_id=blob.jurisdiction_id, kind="evidence.repaired", subject_type="blob",
                   subject_id=blob.sha256, actor=actor, device_id=device_id,
                   data={"how": how, "rewritten": rewritten, "damage": previous, **(data or {})})


# -- reads ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OriginalRead:
    """How an original is handed out: a signed URL, a checked stream, or the refusal to raise
    (after committing: the quarantine and its custody entry must stay)."""

    url: str | None = None
    stream: BinaryIO | None = None
    refusal: EvidenceDamaged | None = None


def read_original(session: Session, store: BlobStore, attachment: Attachment, *, user: User,
                  device_id: uuid.UUID | None, filename: str, expires_s: int, policy: OriginalChecks) -> OriginalRead:
    """The original of ``attachment`` for ``user``, checked (``policy``: evidence/integrity.py) and logged.

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
            problem = policy.cheap_check(store, blob)
            if problem is not None:
                raise EvidenceDamaged(blob.sha256, problem)
        else:
            stream = policy.checked_stream(store, blob.sha256, blob.size)
    except EvidenceDamaged as exc:
        return OriginalRead(refusal=mark_damaged(session, blob, exc.reason, found_by="read", actor=user,
                                                 device_id=device_id))
    log_access(session, user=user, device_id=device_id, attachment=attachment, what="original",
               via="signed_url" if url else "stream")
    return OriginalRead(url=url, stream=stream)


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
    #: Quarantined originals found intact again (restored from a backup) and released.
    released: list[str] = field(default_factory=list)


def check_original(store: BlobStore, sha256: str, size: int) -> OriginalProblem | None:
    """Re-hash one stored original (1 MiB at a time): why it is not what it should be, or None."""
    try:
        stream = store.open_original(sha256)
    except BlobNotFound:
        return OriginalProblem(sha256, MISSING)
    with stream:
        actual, length = stream_digest(stream)
    if actual != sha256:
        return OriginalProblem(sha256, mismatch(actual, length, size))
    if length != size:
        return OriginalProblem(sha256, f"it holds {length} bytes, recorded {size}")
    return None


def verify_originals(session: Session, store: BlobStore, *, batch: int = 500, stop_at_first: bool = True,
                     mark: bool = False) -> OriginalsReport:
    """Re-hash every stored original against the SHA-256 it is recorded (and addressed) under.

    Stops at the first problem unless told otherwise. A missing original is a problem too.
    With ``mark``, each damaged original is quarantined (``evidence.damaged``) and each
    quarantined one found intact again is released (``evidence.repaired``).
    """
    checked = 0
    problems: list[OriginalProblem] = []
    released: list[str] = []
    last = ""
    while True:
        rows = session.execute(
            select(Blob.sha256, Blob.size, Blob.damaged_at).where(Blob.sha256 > last)
            .order_by(Blob.sha256).limit(batch)).all()
        if not rows:
            break
        for sha256, size, damaged_at in rows:
            last = sha256
            checked += 1
            problem = check_original(store, sha256, size)
            if mark and problem is not None:
                mark_damaged(session, session.get(Blob, sha256), problem.reason, found_by="verify")
            elif mark and damaged_at is not None:
                lift_quarantine(session, session.get(Blob, sha256), rewritten=False,
                                how="found intact by fieldwatch verify")
                released.append(sha256)
            if problem is not None:
                problems.append(problem)
                if stop_at_first:
                    return OriginalsReport(checked, problem, problems, released)
    return OriginalsReport(checked, problems[0] if problems else None, problems, released)
