"""The custody log: every evidence event and record change, chained by hash per jurisdiction.

Each entry's hash covers its own content and the previous entry's hash, so editing,
removing or reordering any entry breaks every hash after it. Appending locks the
jurisdiction's chain head (one row), which serialises appends within a jurisdiction
and nothing else: chains, like the data, shard by jurisdiction.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from field.core.models.base import utcnow
from field.custody.models import CustodyChain, CustodyEntry

GENESIS = "0" * 64


def canonical(value) -> str:
    """The one serialisation hashed: sorted keys, no spaces, UTC ISO times, UUIDs as text."""
    def plain(v):
        if isinstance(v, datetime):
            return v.astimezone(timezone.utc).isoformat(timespec="microseconds")
        if isinstance(v, uuid.UUID):
            return str(v)
        raise TypeError(f"cannot hash {type(v).__name__}")

    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=plain)


def entry_hash(entry: CustodyEntry) -> str:
    content = {
        "jurisdiction_id": str(entry.jurisdiction_id), "seq": entry.seq,
        "occurred_at": entry.occurred_at, "kind": entry.kind,
        "subject_type": entry.subject_type, "subject_id": entry.subject_id,
        "actor_id": str(entry.actor_id) if entry.actor_id else None,
        "device_id": str(entry.device_id) if entry.device_id else None,
        "data": entry.data or {}, "prev_hash": entry.prev_hash,
    }
    return hashlib.sha256(canonical(content).encode()).hexdigest()


#: The three statements of an append, built once: an append runs them with its values.
_chains, _entries = CustodyChain.__table__, CustodyEntry.__table__
_LOCK_HEAD = (select(_chains.c.head_seq, _chains.c.head_hash)
              .where(_chains.c.jurisdiction_id == bindparam("jurisdiction_id")).with_for_update())
_MOVE_HEAD = (update(_chains).where(_chains.c.jurisdiction_id == bindparam("chain"))
              .values(head_seq=bindparam("seq"), head_hash=bindparam("hash")))
_APPEND = insert(_entries)


def _lock_head(session: Session, jurisdiction_id: uuid.UUID) -> tuple[int, str]:
    """Lock the jurisdiction's chain head (starting the chain if need be); its seq and hash."""
    params = {"jurisdiction_id": jurisdiction_id}
    head = session.execute(_LOCK_HEAD, params).first()
    if head is not None:
        return head
    try:
        with session.begin_nested():
            session.execute(insert(_chains).values(jurisdiction_id=jurisdiction_id, head_seq=0, head_hash=GENESIS))
    except IntegrityError:
        pass  # another transaction started this chain first; lock theirs
    return session.execute(_LOCK_HEAD, params).one()


def record(
    session: Session, *, jurisdiction_id: uuid.UUID, kind: str, subject_type: str, subject_id,
    actor=None, device_id: uuid.UUID | None = None, data: dict | None = None,
) -> CustodyEntry:
    """Append one entry to the jurisdiction's chain (the caller's transaction commits).

    The head stays locked until that commit. The append is three plain statements, not the
    unit of work: less work while the lock is held, which serialises the jurisdiction's appends.
    """
    session.flush()  # what the entry is about goes first, before the head is locked
    entry = CustodyEntry(
        jurisdiction_id=jurisdiction_id, occurred_at=utcnow(), kind=kind,
        subject_type=subject_type, subject_id=str(subject_id),
        actor_id=getattr(actor, "id", actor), device_id=device_id,
        data=json.loads(canonical(data or {})),
    )
    entry.seq, entry.prev_hash = _lock_head(session, jurisdiction_id)
    entry.seq += 1
    entry.hash = entry_hash(entry)
    session.execute(_MOVE_HEAD, {"chain": jurisdiction_id, "seq": entry.seq, "hash": entry.hash})
    session.execute(_APPEND, {column.key: getattr(entry, column.key) for column in _entries.columns})
    return entry


def history(session: Session, subject_type: str, subject_id) -> list[CustodyEntry]:
    """Every entry about one subject, oldest first (a case's or an original's timeline)."""
    return list(session.execute(
        select(CustodyEntry)
        .where(CustodyEntry.subject_type == subject_type, CustodyEntry.subject_id == str(subject_id))
        .order_by(CustodyEntry.occurred_at, CustodyEntry.seq)
    ).scalars())


@dataclass(frozen=True)
class ChainBreak:
    jurisdiction_id: uuid.UUID
    seq: int
    reason: str


def verify_chain(session: Session, chain: CustodyChain, batch: int = 5000) -> ChainBreak | None:
    """Walk one chain in order; the first entry whose hash, link or position is wrong.

    Reads in batches and drops them from the session as it goes: call it with a session
    of its own (the command line does).
    """
    expected_seq, prev = 1, GENESIS
    last_seq = 0
    while True:
        rows = list(session.execute(
            select(CustodyEntry)
            .where(CustodyEntry.jurisdiction_id == chain.jurisdiction_id, CustodyEntry.seq > last_seq)
            .order_by(CustodyEntry.seq).limit(batch)
        ).scalars())
        if not rows:
            break
        for e in rows:
            if e.seq != expected_seq:
                return ChainBreak(chain.jurisdiction_id, expected_seq, f"entry {expected_seq} is missing")
            if e.prev_hash != prev:
                return ChainBreak(chain.jurisdiction_id, e.seq, "does not link to the entry before it")
            if entry_hash(e) != e.hash:
                return ChainBreak(chain.jurisdiction_id, e.seq, "its content no longer matches its hash")
            prev, expected_seq, last_seq = e.hash, e.seq + 1, e.seq
        session.expunge_all()
    if last_seq != chain.head_seq or prev != chain.head_hash:
        return ChainBreak(chain.jurisdiction_id, last_seq + 1,
                          f"the chain ends at {last_seq} but its head says {chain.head_seq}")
    return None


def verify_all_chains(session: Session) -> tuple[int, list[ChainBreak]]:
    heads = session.execute(
        select(CustodyChain.jurisdiction_id, CustodyChain.head_seq, CustodyChain.head_hash)).all()
    breaks = []
    for jid, head_seq, head_hash in heads:
        # A detached copy of the head: the walk empties the session between batches.
        found = verify_chain(session, CustodyChain(jurisdiction_id=jid, head_seq=head_seq, head_hash=head_hash))
        if found:
            breaks.append(found)
    return len(heads), breaks
