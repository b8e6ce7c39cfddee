"""Viewing copies of photos (thumb ~320 px, preview ~1280 px), made off the request path.

``fieldwatch derive`` works through pending photos, and the first view of a thumb or preview
makes them if the worker has not yet (``claim_derivation`` takes a lease with one conditional
UPDATE, so two viewers or a viewer and the worker never both decode). The decoding itself is
evidence/'s (the ``policy``); a photo whose pixels cannot be decoded is kept as opaque
evidence: ``derivatives_state`` failed, with the decoder's reason.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import BinaryIO

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from field.core.evidence_errors import CorruptMedia, TooManyPixels, UnsupportedMedia
from field.core.media import PERCEPTUAL_HASH_ALGORITHM
from field.core.models.base import utcnow
from field.core.models.evidence import Blob, BlobDerivative, DerivativesState
from field.core.storage import CHUNK_SIZE, BlobStore
from field.custody import chain as custody

from . import links
from .receipt import MediaPolicy


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


def derive(session: Session, store: BlobStore, blob: Blob, *, policy: MediaPolicy, now: datetime | None = None) -> None:
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
            result = policy.process_photo(fp)
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
