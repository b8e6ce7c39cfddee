"""A device's outbox in one request: many records of any kinds, each judged on its own.

A phone that was offline holds records of several kinds (findings, visits, filings …), each
with its own client UUID. ``submit_batch`` takes them in the order the phone made them and
answers one ``Outcome`` per item, the way the item's own POST would have answered:

- 201 created, 200 a repeat of a stored record (same id, same body), 409 the id used for
  another body, 422 the body or a domain rule refused (with the fields named), 403 the
  caller's role may not create that kind, 404 something it names is not there (or not
  the caller's to see).

A refused item leaves nothing behind, and one bad item never blocks the others: new
findings (and any kind marked ``batchable``) are only added once their checks pass, and
written together at the end; every other item runs in a savepoint of its own
(``submit_batch`` says how a failure of the common write is handled). The batch commits
once, with the request. A repeat of the
whole batch is safe twice over: every item is idempotent by its UUID (the repeat answers
200 for what was created), and the request's ``Idempotency-Key`` replays the first answer
exactly (api/idempotency.py).

Items whose body did not load (the schema's errors) arrive as ``Refused`` and are answered
422 in place, without touching the database.

Within one batch the look-ups every record repeats (its category, its unit, the sender's
squad) are answered once (field/core/memo.py); the custody entries of all the items are
linked in one step at the commit (field/custody/chain.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import FlushError

from field.core.errors import Conflict, DomainError, FieldProblem
from field.core.memo import memoized

from field.core.models.records import FieldRecord

from .kinds import Context, RecordKind
from .lifecycle import Receipt, deferred_submissions, not_deferred as _not_deferred


@dataclass(frozen=True)
class Item:
    """One loaded item of the batch: its kind and its body as the kind's create schema loaded it."""

    index: int
    kind: RecordKind
    body: dict


@dataclass(frozen=True)
class Refused:
    """An item refused before the domain saw it (its envelope or its body did not load)."""

    index: int
    kind: str | None
    record_id: Any
    fields: list[FieldProblem]


@dataclass(frozen=True)
class Outcome:
    """What one item came to. ``record`` for 200/201; ``error`` (a domain error) otherwise,
    or ``fields`` alone for a body that did not load."""

    index: int
    kind: str | None
    record_id: Any
    status: int
    record: Any = None
    error: DomainError | None = None
    fields: list[FieldProblem] = field(default_factory=list)


def submit_batch(session: Session, receipt: Receipt, items: list[Item | Refused], context: Context,
                 status_of_error) -> list[Outcome]:
    """Submit every item in order; one ``Outcome`` per item, in the same order.

    ``status_of_error(exc)`` is the HTTP status the caller's error catalogue gives a domain error
    (the domain knows no HTTP); a refused item is 422.

    The quick way first: new records of batchable kinds (``RecordKind.batchable``) are added
    without a savepoint or a flush each, and flushed together at the end; every other item (a
    stored id, another kind) in its own savepoint. If that flush fails (an id taken by a request
    that committed meanwhile, the same id twice in the batch), the whole attempt is rolled back
    and every item is submitted again, each in its own savepoint.
    """
    with memoized(session):
        stored = _stored_ids(session, items)
        try:
            with session.begin_nested(), deferred_submissions(session) as deferred:
                outcomes = []
                for item in items:
                    quick = _quick(item, stored)
                    if not quick and isinstance(item, Item):
                        session.flush()  # the quick items so far: their failure is the batch's, not this item's
                    outcomes.append(_submit_one(session, receipt, item, context, status_of_error, quick=quick))
                deferred.finish(session)
            return outcomes
        except (IntegrityError, FlushError):
            pass
        return [_submit_one(session, receipt, item, context, status_of_error, quick=False) for item in items]


def _stored_ids(session: Session, items: list[Item | Refused]) -> set:
    ids = [item.body["id"] for item in items if isinstance(item, Item) and isinstance(item.body.get("id"), uuid.UUID)]
    if not ids:
        return set()
    return set(session.execute(select(FieldRecord.id).where(FieldRecord.id.in_(ids))).scalars())


def _quick(item: Item | Refused, stored: set) -> bool:
    return isinstance(item, Item) and item.kind.batchable and item.body.get("id") not in stored


def _submit_one(session: Session, receipt: Receipt, item: Item | Refused, context: Context,
                status_of_error, *, quick: bool) -> Outcome:
    if isinstance(item, Refused):
        return Outcome(item.index, item.kind, item.record_id, 422, fields=item.fields)
    record_id = item.body.get("id")
    try:
        if quick:
            item.kind.allow(receipt.user, "create")
            result = item.kind.create(session, receipt, item.body, context)
        else:
            with _not_deferred(session), session.begin_nested():
                item.kind.allow(receipt.user, "create")
                result = item.kind.create(session, receipt, item.body, context)
    except IntegrityError:
        if quick:
            raise  # an earlier quick item's flush, not this item's doing: the batch starts again
        # A constraint saw what the item's checks could not (a race with another request): the
        # item's savepoint is gone, the others stand.
        exc = Conflict("The record conflicts with stored data (a duplicate or a dangling reference); "
                       "nothing of it was stored.")
        return Outcome(item.index, item.kind.name, record_id, status_of_error(exc), error=exc)
    except DomainError as exc:
        return Outcome(item.index, item.kind.name, record_id, status_of_error(exc), error=exc)
    return Outcome(item.index, item.kind.name, result.record.id, 201 if result.created else 200, record=result.record)


def counts(outcomes: list[Outcome]) -> dict[str, int]:
    """How many items answered each status, as the batch's summary says it ({"201": 180, "422": 2})."""
    out: dict[str, int] = {}
    for outcome in outcomes:
        out[str(outcome.status)] = out.get(str(outcome.status), 0) + 1
    return out


def record_id_of(raw) -> uuid.UUID | str | None:
    """The item's id as the phone sent it, for an item refused before loading (None if there is none)."""
    if isinstance(raw, dict):
        value = raw.get("id")
        if isinstance(value, str) and len(value) <= 64:
            try:
                return uuid.UUID(value)
            except ValueError:
                return value
    return None
