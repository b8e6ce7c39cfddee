"""The sync feed: what changed since a phone's cursor, in its scope, as upserts and tombstones.

Writing. A domain verb that changes something a phone may hold calls ``record(session,
entity, id, jurisdiction_ids, audience)``. The entries wait in the session and are written
to ``change_log`` when the transaction commits, in the same transaction, under a lock
that serialises the writers of the log: on SQLite every transaction is ``BEGIN
IMMEDIATE`` already; on PostgreSQL a transaction-level advisory lock is taken just
before the rows are inserted, at the very end of the transaction, and released by its
commit. So ``seq`` order is commit order, and a reader that sees seq n sees every
committed seq below n: a plain ``seq > cursor`` never skips a change committed out of
order. Taking the lock last means the holder waits for nothing else (no deadlock) and
holds it only for the insert and the commit. A plain ``updated_at`` or sequence cursor
without the lock would miss a row whose transaction began first and committed last.
(The alternative, an xid per row and a read horizon at ``pg_snapshot_xmin``, needs no
lock but stalls every phone's feed behind any long transaction anywhere on the server,
since the horizon is cluster-wide.)

Reading. ``changes_since(session, user, cursor)`` takes the log entries after the cursor
in the user's jurisdiction subtree whose audience includes the user, in one indexed
query (an unchanged directory costs exactly that query). It then loads the current
state of each entity through its feed's loader, which applies the same visibility as
the API's get-by-id: visible now is an upsert, anything else (deleted, moved out of
scope, turned covert, no longer the user's point or squad) is a tombstone.

Audience. Entries about an entity the user may never have seen must not reach them,
not even as a tombstone: a tombstone for an unknown id at the moment a covert point is
designated would reveal it. An entry therefore carries an audience: none (everyone in
scope), or a kind and an id registered by the module that owns it, e.g. ``point``/P
(a covert point's liaisons and leader), ``open_point``/P, ``squad``/S (its members),
``user``/U (U alone, for a tombstone U needs after losing access). Office roles (admin,
reviewer) receive every audience of their scope.

Registry. A module adds a feed with ``register_feed(entity, loader)`` and an audience
kind with ``register_audience(kind, predicate)``; nothing here changes. The cursor
carries a tag of the user's identity, role and jurisdiction: a cursor from another
scope restarts the feed with ``reset`` set, telling the phone to drop its copy.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from sqlalchemy import ColumnElement, and_, event, insert, or_, select, text, true
from sqlalchemy.orm import Session

from .errors import InvalidInput
from .models.platform import OFFICE_ROLES, User
from .models.base import utcnow
from .models.changes import Change
from .scope import in_scope

#: Key of the PostgreSQL advisory lock that serialises writers of the change log ("fwsync").
LOCK_KEY = 0x66777379_6E63
MAX_LIMIT = 1000
_PENDING = "sync_pending"

Loader = Callable[[Session, User, list[uuid.UUID]], dict[uuid.UUID, Any]]


@dataclass(frozen=True)
class Feed:
    entity: str
    #: The objects among ``ids`` the user may see now (deleted and invisible ones left out).
    load: Loader


@dataclass(frozen=True)
class Audience:
    """Who besides the office receives an entry: the audience ``kind`` of ``id``."""

    kind: str
    id: uuid.UUID


FEEDS: dict[str, Feed] = {}
#: kind → predicate on ``Change.audience_id`` that holds for the entries of that kind the user receives.
AUDIENCES: dict[str, Callable[[User], ColumnElement[bool]]] = {
    "user": lambda user: Change.audience_id == user.id,
}


def register_feed(entity: str, load: Loader) -> None:
    FEEDS[entity] = Feed(entity, load)


def register_audience(kind: str, predicate: Callable[[User], ColumnElement[bool]]) -> None:
    AUDIENCES[kind] = predicate


# -- writing ---------------------------------------------------------------------------------


def record(session: Session, entity: str, entity_id: uuid.UUID, jurisdiction_ids: uuid.UUID | Iterable[uuid.UUID],
           audience: Audience | None = None) -> None:
    """Note a change of ``entity`` ``entity_id`` for the feed, written when the transaction commits.

    Give every jurisdiction the entity was in before and after the change: phones of the old
    scope need the tombstone, phones of the new one the upsert.
    """
    if audience is not None and audience.kind not in AUDIENCES:
        raise ValueError(f"unknown audience kind {audience.kind!r}")
    if isinstance(jurisdiction_ids, uuid.UUID):
        jurisdiction_ids = [jurisdiction_ids]
    pending = session.info.setdefault(_PENDING, [])
    for jurisdiction_id in dict.fromkeys(j for j in jurisdiction_ids if j is not None):
        pending.append({"entity": entity, "entity_id": entity_id, "jurisdiction_id": jurisdiction_id,
                        "audience_kind": audience.kind if audience else None,
                        "audience_id": audience.id if audience else None})


def pending_count(session: Session) -> int:
    return len(session.info.get(_PENDING, []))


def forget_since(session: Session, count: int) -> None:
    """Drop the entries noted after the first ``count`` (a savepoint that was rolled back)."""
    del session.info.get(_PENDING, [])[count:]


def write_pending(session: Session) -> int:
    """Insert the noted entries now, under the writers' lock (the commit hook calls this)."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    now = utcnow()
    session.execute(insert(Change), [dict(row, changed_at=now) for row in pending])
    return len(pending)


@event.listens_for(Session, "before_commit")
def _write_on_commit(session: Session) -> None:
    session.flush()
    write_pending(session)


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    entity: str
    id: uuid.UUID
    op: str  #: "upsert" or "delete"
    data: Any  #: the object for an upsert, None for a tombstone


@dataclass(frozen=True)
class Delta:
    changes: list[Entry]
    cursor: str
    has_more: bool
    #: The cursor was made for another scope: drop the local copy before applying.
    reset: bool


def _scope_tag(user: User) -> str:
    raw = f"{user.id}:{user.role.value}:{user.jurisdiction_id}".encode()
    return hashlib.sha256(raw).hexdigest()[:12]


def _encode(tag: str, seq: int) -> str:
    return base64.urlsafe_b64encode(f"1.{tag}.{seq}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[str, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, tag, seq = raw.split(".")
        if version != "1" or int(seq) < 0:
            raise ValueError(raw)
        return tag, int(seq)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidInput("cursor", "This cursor is not one this server gave out.") from None


def audience_predicate(user: User) -> ColumnElement[bool]:
    if user.role in OFFICE_ROLES:
        return true()
    kinds = [and_(Change.audience_kind == kind, predicate(user)) for kind, predicate in AUDIENCES.items()]
    return or_(Change.audience_kind.is_(None), *kinds) if kinds else Change.audience_kind.is_(None)


def changes_since(session: Session, user: User, cursor: str | None, limit: int = 500) -> Delta:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("limit", f"Must be between 1 and {MAX_LIMIT}.")
    tag, after, reset = _scope_tag(user), 0, False
    if cursor:
        given_tag, given_seq = _decode(cursor)
        if given_tag == tag:
            after = given_seq
        else:
            reset = True
    rows = session.execute(
        select(Change.seq, Change.entity, Change.entity_id)
        .where(Change.seq > after, in_scope(Change.jurisdiction_id, user), audience_predicate(user))
        .order_by(Change.seq).limit(limit + 1)
    ).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    if not rows:
        return Delta([], _encode(tag, after), False, reset)
    # One entry per entity, at its latest position: the state sent is the current one anyway.
    latest: dict[tuple[str, uuid.UUID], int] = {}
    for seq, entity, entity_id in rows:
        latest.pop((entity, entity_id), None)
        latest[(entity, entity_id)] = seq
    ids_by_entity: dict[str, list[uuid.UUID]] = {}
    for entity, entity_id in latest:
        ids_by_entity.setdefault(entity, []).append(entity_id)
    visible = {entity: FEEDS[entity].load(session, user, ids)
               for entity, ids in ids_by_entity.items() if entity in FEEDS}
    changes = []
    for entity, entity_id in latest:
        if entity not in visible:
            continue  # a feed this server no longer serves
        obj = visible[entity].get(entity_id)
        changes.append(Entry(entity, entity_id, "upsert" if obj is not None else "delete", obj))
    return Delta(changes, _encode(tag, rows[-1].seq), has_more, reset)


__all__ = ["Audience", "Delta", "Entry", "Feed", "FEEDS", "AUDIENCES", "record", "register_feed",
           "register_audience", "changes_since", "write_pending", "pending_count", "forget_since"]
