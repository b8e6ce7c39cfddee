"""The idempotency answer store: a POST repeated with the same ``Idempotency-Key`` gets the first answer.

Same key and same request: the stored answer (HTTP status, type and body) is replayed. Same
key, another request: refused. Same key while the first is still running: refused with a retry
hint. A key whose first request died without an answer (a crash) may be taken again after
``STALE_AFTER``.

It holds HTTP answers, so it is the API's, and it takes part in the request's one unit of
work (api/db.py); it never commits. ``take`` claims the key in the transaction that does the
request's work (INSERT … ON CONFLICT DO NOTHING RETURNING); ``record`` writes the answer in it,
before the wrapper's commit: key, work and answer are committed together, or not at all. A
concurrent repeat's insert of the same key waits for that transaction (on PostgreSQL the
unique index makes it wait; on SQLite ``BEGIN IMMEDIATE`` lets one writer in at a time) and
then finds the key answered, and replays it. When the work is rolled back (a refusal), the
refusal's answer is recorded on its own, in the transaction the wrapper then commits; after a
failure on our side (5xx) the key is given up, so a retry runs again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from field.core.errors import Conflict, DomainError, FieldProblem
from field.core.models.base import utcnow
from field.core.models.platform import User
from field.core.models.records import IdempotencyKey

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


@dataclass(frozen=True)
class Taken:
    """A key this request holds, in its transaction."""

    user_id: object
    key: str
    fingerprint: str


_keys = IdempotencyKey.__table__
#: INSERT … ON CONFLICT DO NOTHING RETURNING, per dialect: both databases spell it the same.
_INSERT_NEW = {
    name: dialect_insert(_keys).on_conflict_do_nothing(index_elements=[_keys.c.user_id, _keys.c.key])
    .returning(_keys.c.state)
    for name, dialect_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
_ANSWER = (update(_keys)
           .where(_keys.c.user_id == bindparam("b_user_id"), _keys.c.key == bindparam("b_key"),
                  _keys.c.fingerprint == bindparam("b_fingerprint"), _keys.c.state == "in_flight")
           .values(state="done"))


def _insert_new(session: Session, **values) -> bool:
    """Insert a key row unless the key exists (or, on PostgreSQL, is being inserted by a
    transaction that then commits: the insert waits for it). Whether it was inserted."""
    stmt = _INSERT_NEW[session.get_bind().dialect.name]
    return session.execute(stmt, values).first() is not None


def take(session: Session, user: User, key: str, fingerprint: str) -> Taken | Replay:
    """Take the key for this request in the session's transaction, or say what to answer instead.

    Returns ``Taken`` when this request is the first and should run (the key is committed
    with the request's work and answer); a ``Replay`` when an earlier identical request
    already answered. Raises ``KeyReused`` or ``KeyInFlight``.
    """
    now = utcnow()
    if _insert_new(session, user_id=user.id, key=key, fingerprint=fingerprint, state="in_flight", created_at=now):
        return Taken(user.id, key, fingerprint)
    row = session.get(IdempotencyKey, (user.id, key), with_for_update=True, populate_existing=True)
    if row is None:  # expired and purged between our insert and this read: try once more
        return take(session, user, key, fingerprint)
    if row.fingerprint != fingerprint:
        raise KeyReused("This Idempotency-Key was used for a different request.",
                        fields=[FieldProblem("Idempotency-Key", "Already used with another request.")])
    if row.state == "done":
        return Replay(row.response_status, row.response_mimetype, row.response_body)
    if now - row.created_at < STALE_AFTER:
        raise KeyInFlight("A request with this Idempotency-Key is still being processed; retry shortly.")
    row.created_at = now  # the first attempt died without answering: this one takes over
    session.flush()
    return Taken(user.id, key, fingerprint)


def claim(session: Session, user: User, key: str, fingerprint: str) -> Replay | None:
    """``take`` for a caller that is not a request (tests: a request holding the key elsewhere);
    the caller commits."""
    result = take(session, user, key, fingerprint)
    return result if isinstance(result, Replay) else None


def record(session: Session, taken: Taken, status: int, mimetype: str, body: str, *, work_stands: bool) -> None:
    """Record the request's answer under its key, in the session's transaction (the caller commits).

    ``work_stands``: the request's transaction, key included, is still there (or a lease point
    committed the key early). Otherwise it was rolled back: a refusal's answer is stored as a
    new key, unless a repeat has taken the key meanwhile (that repeat stores its own answer).
    A failure on our side (5xx) gives the key up instead, so a retry runs again.
    """
    if status >= 500:
        _release(session, taken)
        return
    now = utcnow()
    answer = {"response_status": status, "response_mimetype": mimetype, "response_body": body, "completed_at": now}
    if not work_stands and _insert_new(session, user_id=taken.user_id, key=taken.key, fingerprint=taken.fingerprint,
                                       state="done", created_at=now, **answer):
        return
    session.execute(_ANSWER, {"b_user_id": taken.user_id, "b_key": taken.key, "b_fingerprint": taken.fingerprint,
                              **answer})


def _release(session: Session, taken: Taken) -> None:
    """Give up a key still in flight (taken in this transaction, or committed by a lease point)."""
    session.execute(
        delete(IdempotencyKey)
        .where(IdempotencyKey.user_id == taken.user_id, IdempotencyKey.key == taken.key,
               IdempotencyKey.fingerprint == taken.fingerprint, IdempotencyKey.state == "in_flight")
        .execution_options(synchronize_session=False))


def purge(session: Session) -> int:
    """Forget the keys older than ``KEEP_FOR`` (the caller commits)."""
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - KEEP_FOR))
    return result.rowcount
