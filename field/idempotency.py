"""Idempotency keys: a POST repeated with the same ``Idempotency-Key`` gets the first response.

Same key and same request: the stored response is replayed. Same key, another request:
refused. Same key while the first is still running: refused with a retry hint. A key
whose first request died without an answer (a crash) may be taken again after
``STALE_AFTER``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .errors import Conflict, DomainError, FieldProblem
from .models import IdempotencyKey, User, utcnow

STALE_AFTER = timedelta(minutes=2)
#: How long a finished key is replayed: longer than any phone's retry horizon.
KEEP_FOR = timedelta(days=7)


class KeyReused(DomainError):
    """The key came with a different request: 422, per the IETF idempotency-key draft."""


class KeyInFlight(Conflict):
    """The first request with this key has not answered yet: 409, retry later."""


@dataclass(frozen=True)
class Replay:
    status: int
    mimetype: str
    body: str


def claim(session: Session, user: User, key: str, fingerprint: str) -> Replay | None:
    """Take the key for this request (and commit), or say what to answer instead.

    Returns None when this request is the first and should run; a ``Replay`` when an
    earlier identical request already answered. Runs in its own transaction so that a
    concurrent repeat sees the claim at once.
    """
    now = utcnow()
    try:
        with session.begin_nested():
            session.add(IdempotencyKey(user_id=user.id, key=key, fingerprint=fingerprint,
                                       state="in_flight", created_at=now))
        session.commit()
        return None
    except IntegrityError:
        session.rollback()
    row = session.get(IdempotencyKey, (user.id, key), with_for_update=True)
    if row is None:  # expired and purged between our insert and this read: try once more
        return claim(session, user, key, fingerprint)
    if row.fingerprint != fingerprint:
        session.rollback()
        raise KeyReused("This Idempotency-Key was used for a different request.",
                        fields=[FieldProblem("Idempotency-Key", "Already used with another request.")])
    if row.state == "done":
        replay = Replay(row.response_status, row.response_mimetype, row.response_body)
        session.rollback()
        return replay
    if now - row.created_at < STALE_AFTER:
        session.rollback()
        raise KeyInFlight("A request with this Idempotency-Key is still being processed; retry shortly.")
    row.created_at = now  # the first attempt died without answering: this one takes over
    session.commit()
    return None


def complete(session: Session, user: User, key: str, status: int, mimetype: str, body: str) -> None:
    row = session.get(IdempotencyKey, (user.id, key))
    if row is None:
        return
    row.state, row.response_status, row.response_mimetype = "done", status, mimetype
    row.response_body, row.completed_at = body, utcnow()
    session.commit()


def release(session: Session, user: User, key: str) -> None:
    """Forget a key whose request failed on our side (5xx), so a retry runs again."""
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id == user.id, IdempotencyKey.key == key))
    session.commit()


def purge(session: Session) -> int:
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - KEEP_FOR))
    session.commit()
    return result.rowcount
