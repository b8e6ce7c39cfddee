"""Idempotency keys: a POST repeated with the same ``Idempotency-Key`` gets the first response.

Same key and same request: the stored response is replayed. Same key, another request:
refused. Same key while the first is still running: refused with a retry hint. A key
whose first request died without an answer (a crash) may be taken again after
``STALE_AFTER``.

A request takes its key in its own unit of work (``take``): the key row is inserted in the
transaction that does the request's work and is committed with it, so a request that fails
before its commit leaves no key behind, and a request costs no transaction of its own for
the claim. A concurrent repeat's insert of the same key waits for that transaction (on
PostgreSQL the unique index makes it wait; on SQLite ``BEGIN IMMEDIATE`` already lets one
writer in at a time) and then finds the key taken: in flight (409) until the first request
stores its answer (``answer``, a transaction of its own after the work's commit), replayed
after. ``claim`` takes a key in a transaction of its own (a request elsewhere holding it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, delete, event, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .errors import Conflict, DomainError, FieldProblem
from .models.records import IdempotencyKey
from .models.platform import User
from .models.base import utcnow

STALE_AFTER = timedelta(minutes=2)
#: How long a finished key is replayed: longer than any phone's retry horizon.
KEEP_FOR = timedelta(days=7)
#: session.info: the keys taken in the session's current transaction, not yet committed.
_UNCOMMITTED = "idempotency_taken"


class KeyReused(DomainError):
    """The key came with a different request: 422, per the IETF idempotency-key draft."""


class KeyInFlight(Conflict):
    """The first request with this key has not answered yet: 409, retry later."""


@dataclass(frozen=True)
class Replay:
    status: int
    mimetype: str
    body: str


@dataclass
class Taken:
    """A key this request holds; ``committed`` once the transaction that took it has committed."""

    user_id: object
    key: str
    fingerprint: str
    committed: bool = False


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
    with the request's work); a ``Replay`` when an earlier identical request already
    answered. Raises ``KeyReused`` or ``KeyInFlight``.
    """
    now = utcnow()
    if _insert_new(session, user_id=user.id, key=key, fingerprint=fingerprint, state="in_flight", created_at=now):
        return _taken(session, user, key, fingerprint)
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
    return _taken(session, user, key, fingerprint)


def _taken(session: Session, user: User, key: str, fingerprint: str) -> Taken:
    taken = Taken(user.id, key, fingerprint)
    session.info.setdefault(_UNCOMMITTED, []).append(taken)
    return taken


@event.listens_for(Session, "after_commit")
def _mark_committed(session: Session) -> None:
    # Releasing a savepoint fires this too; only the outermost commit makes a key visible.
    if _UNCOMMITTED in session.info and session.get_nested_transaction() is None:
        for taken in session.info.pop(_UNCOMMITTED):
            taken.committed = True


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_UNCOMMITTED, None)


def claim(session: Session, user: User, key: str, fingerprint: str) -> Replay | None:
    """``take`` in a transaction of its own (committed): a request holding the key elsewhere."""
    result = take(session, user, key, fingerprint)
    if isinstance(result, Replay):
        session.rollback()
        return result
    session.commit()
    return None


def answer(session: Session, taken: Taken, status: int, mimetype: str, body: str) -> None:
    """Store the answer to replay under the key (and commit).

    When the request's work committed, its key is there to complete. When nothing was
    committed (the request was refused, or wrote nothing), the key went with the rolled
    back transaction: the answer is stored as a new key, unless a repeat has taken the
    key meanwhile (that repeat stores its own answer).
    """
    session.rollback()  # anything the view left uncommitted is not part of the answer
    if taken.committed:
        session.execute(_ANSWER, {
            "b_user_id": taken.user_id, "b_key": taken.key, "b_fingerprint": taken.fingerprint,
            "response_status": status, "response_mimetype": mimetype, "response_body": body,
            "completed_at": utcnow()})
    else:
        now = utcnow()
        _insert_new(session, user_id=taken.user_id, key=taken.key, fingerprint=taken.fingerprint, state="done",
                    response_status=status, response_mimetype=mimetype, response_body=body, created_at=now,
                    completed_at=now)
    session.commit()


def release(session: Session, taken: Taken) -> None:
    """Give the key up after a failure on our side (5xx), so a retry runs again."""
    session.rollback()
    if taken.committed:
        session.execute(
            delete(IdempotencyKey)
            .where(IdempotencyKey.user_id == taken.user_id, IdempotencyKey.key == taken.key,
                   IdempotencyKey.fingerprint == taken.fingerprint, IdempotencyKey.state == "in_flight")
            .execution_options(synchronize_session=False))
        session.commit()


def purge(session: Session) -> int:
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - KEEP_FOR))
    session.commit()
    return result.rowcount
