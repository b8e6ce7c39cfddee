"""Viewing copies of photos (thumb ~320 px, preview ~1280 px), made off the request path.

``fieldwatch derive`` works through pending photos, and the first view of a thumb or preview
makes them if the worker has not yet (``claim_derivation`` takes a lease with one conditional
UPDATE, so two viewers or a viewer and the worker never both decode). The decoding itself is
evidence/'s (evidence/pipeline.py ``make_derivatives``, run with no transaction open, after the
lease is committed); ``record_derivatives`` records what it gave. A photo whose pixels cannot be
decoded is kept as opaque evidence: ``derivatives_state`` failed, with the decoder's reason; a
quarantined original (originals.py) is never derived from.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from field.core.media import PERCEPTUAL_HASH_ALGORITHM
from field.core.models.base import utcnow
from field.core.models.evidence import Blob, BlobDerivative, DerivativesState
from field.custody import chain as custody

from . import links
from .originals import mark_damaged


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


def record_derivatives(session: Session, blob: Blob, derivation: Any, *, now: datetime | None = None) -> None:
    """Record what evidence.pipeline.make_derivatives made of a photo (a ``Derivation``) and free its
    lease (the caller held it).

    A decoding failure leaves the photo as opaque evidence (state failed, with the reason);
    stored bytes that failed their hash quarantine it (``evidence.damaged``; it stays pending
    and is derived once repaired). Both decode outcomes are a custody entry ``evidence.derived``
    in the jurisdiction of its first upload. The records it is attached to get their flags refreshed:
    the perceptual hash may show it is a photo used elsewhere.
    """
    now = now or utcnow()
    session.refresh(blob)
    if derivation.damaged is not None:
        blob.derive_locked_by = blob.derive_locked_until = None
        mark_damaged(session, blob, derivation.damaged, found_by="derive", now=now)
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
