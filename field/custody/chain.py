"""The custody log: every evidence event and record change, chained by hash per jurisdiction.

Each entry's hash covers its own content and the previous entry's hash, so editing,
removing or reordering any entry breaks every hash after it.

Linking in the final step (docs/custody.md, "Appending without a district-wide lock"):
``record`` does not touch the chain. It keeps the entry with the session, pending, tagged
with the transaction (or savepoint) it was made in; a savepoint rolled back drops the
entries made inside it. When the session's transaction commits (``before_commit``), its
pending entries are linked in one short step: for each jurisdiction, in a fixed order,
lock the chain head (one row), give the entries their seq and hashes, move the head, and
insert them all in one statement; then the transaction commits. So a jurisdiction's
writers wait for one another only during that step and the commit, not for their whole
transaction, and a batch of 200 records takes the head once. Every committed entry is
linked by the commit that stored it: there is never a committed, unlinked entry.

A transaction that reads the log after appending to it (a case's timeline, the evidence
export that names its own entry) calls ``link_pending`` first and holds the head from then
until its commit, as every append did before.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from sqlalchemy import Text, bindparam, cast, event, insert, select, type_coerce, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.types import NullType

from field.core.models.platform import Jurisdiction
from field.core.models.base import utcnow
from .models import CustodyChain, CustodyEntry

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


#: session.info: the entries made in the session's transaction, not yet linked, each with the
#: transaction (or savepoint) it was made in.
_PENDING = "custody_pending"


def record(
    session: Session, *, jurisdiction_id: uuid.UUID, kind: str, subject_type: str, subject_id,
    actor=None, device_id: uuid.UUID | None = None, data: dict | None = None,
) -> CustodyEntry:
    """Append one entry to the jurisdiction's chain, linked when the caller's transaction commits.

    The entry's ``seq``, ``prev_hash`` and ``hash`` are set by that commit (or by ``link_pending``);
    everything else is set now. A savepoint rolled back takes its entries with it.
    """
    entry = CustodyEntry(
        jurisdiction_id=jurisdiction_id, occurred_at=utcnow(), kind=kind,
        subject_type=subject_type, subject_id=str(subject_id),
        actor_id=getattr(actor, "id", actor), device_id=device_id,
        data=json.loads(canonical(data or {})),
    )
    made_in = session.get_nested_transaction() or session.get_transaction()
    if made_in is None:  # no transaction yet: the session begins one now, as any statement would
        made_in = session.begin()
    session.info.setdefault(_PENDING, []).append((entry, made_in))
    return entry


def has_pending(session: Session) -> bool:
    """Whether the session's transaction holds entries its commit will link (it has written)."""
    return bool(session.info.get(_PENDING))


def link_pending(session: Session) -> list[CustodyEntry]:
    """Link the session's pending entries now: lock each jurisdiction's head (in a fixed order,
    so two transactions never wait on each other crosswise), number and hash the entries, move the
    head, insert them in one statement. The heads stay locked until the transaction ends."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return []
    session.flush()  # what the entries are about goes first (an actor made in this transaction)
    entries = [entry for entry, _ in pending]
    by_chain: dict[uuid.UUID, list[CustodyEntry]] = {}
    for entry in entries:
        by_chain.setdefault(entry.jurisdiction_id, []).append(entry)
    for jurisdiction_id in sorted(by_chain, key=str):
        seq, prev = _lock_head(session, jurisdiction_id)
        for entry in by_chain[jurisdiction_id]:
            seq += 1
            entry.seq, entry.prev_hash = seq, prev
            entry.hash = prev = entry_hash(entry)
        session.execute(_MOVE_HEAD, {"chain": jurisdiction_id, "seq": seq, "hash": prev})
    session.execute(_APPEND, [{column.key: getattr(entry, column.key) for column in _entries.columns}
                              for entry in entries])
    return entries


def _made_within(made_in: SessionTransaction, ended: SessionTransaction) -> bool:
    while made_in is not None:
        if made_in is ended:
            return True
        made_in = made_in.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if pending:
        kept = [(entry, made_in) for entry, made_in in pending if not _made_within(made_in, previous_transaction)]
        if kept:
            session.info[_PENDING] = kept
        else:
            session.info.pop(_PENDING)


@event.listens_for(Session, "before_commit")
def _link_on_commit(session: Session) -> None:
    if session.get_nested_transaction() is None:  # the transaction itself, not a savepoint's release
        link_pending(session)


def history(session: Session, subject_type: str, subject_id) -> list[CustodyEntry]:
    """Every entry about one subject, oldest first (a case's or an original's timeline)."""
    link_pending(session)
    return list(session.execute(
        select(CustodyEntry)
        .where(CustodyEntry.subject_type == subject_type, CustodyEntry.subject_id == str(subject_id))
        .order_by(CustodyEntry.occurred_at, CustodyEntry.seq)
    ).scalars())


@dataclass(frozen=True)
class ChainBreak:
    jurisdiction_id: uuid.UUID | None
    seq: int
    reason: str
    #: The jurisdiction's code, for people (filled in by ``verify_all_chains``).
    jurisdiction_code: str | None = None


class UnreadableEntry(Exception):
    """A stored entry whose columns do not decode (a raw INSERT, a bug, damage): a break, never a crash."""

    def __init__(self, seq: int, column: str, error: BaseException):
        self.seq = seq
        self.column = column
        super().__init__(f"the entry cannot be read ({column}: {error})")


def _raw_column(column):
    # JSON comes back as its text on both databases (psycopg would otherwise parse it, and a
    # document nested deeper than Python's recursion limit would crash the fetch itself);
    # everything else as the driver gives it, decoded per entry by ``_decode``.
    if column.key == "data":
        return cast(column, Text).label(column.key)
    return type_coerce(column, NullType()).label(column.key)


_RAW_ENTRY = [_raw_column(column) for column in _entries.columns]


def _decoders(dialect) -> list[tuple[str, object]]:
    """Per column, what turns the driver's value into the model's (None: taken as it is)."""
    decoders = []
    for column in _entries.columns:
        if column.key == "data":
            decoders.append(("data", json.loads))
        else:
            decoders.append((column.key, column.type.dialect_impl(dialect).result_processor(dialect, None)))
    return decoders


def _decode(row, decoders) -> CustodyEntry:
    """One stored row as an entry, decoded column by column; UnreadableEntry names the first bad one."""
    values = {}
    for key, decode in decoders:
        raw = row._mapping[key]
        try:
            values[key] = decode(raw) if decode is not None and raw is not None else raw
        except (ValueError, TypeError, AttributeError, RecursionError) as exc:
            raise UnreadableEntry(row._mapping["seq"], key, exc) from None
    return CustodyEntry(**values)


def read_entry(session: Session, jurisdiction_id: uuid.UUID, seq: int) -> CustodyEntry | None:
    """One stored entry, decoded as the walk decodes it (UnreadableEntry if it cannot be); None if absent."""
    row = session.execute(select(*_RAW_ENTRY).where(_entries.c.jurisdiction_id == jurisdiction_id,
                                                    _entries.c.seq == seq)).first()
    return None if row is None else _decode(row, _decoders(session.get_bind().dialect))


def check_entry(entry: CustodyEntry, expected_hash: str) -> str | None:
    """Why ``entry`` is not the entry of hash ``expected_hash`` (stored or recomputed); None if it is."""
    try:
        actual = entry_hash(entry)
    except (TypeError, ValueError, RecursionError) as exc:
        return f"the entry cannot be hashed ({exc})"
    if actual != entry.hash:
        return "its content no longer matches its hash"
    if entry.hash != expected_hash:
        return f"its hash is now {entry.hash}, not {expected_hash}"
    return None


def verify_chain(session: Session, chain: CustodyChain, batch: int = 5000,
                 since: tuple[int, str] | None = None) -> ChainBreak | None:
    """Walk one chain in order; the first entry whose hash, link or position is wrong, or
    that cannot even be read.

    ``since`` = (seq, hash) starts the walk at an entry known from before (a checkpoint's):
    that entry must still have that hash, and the walk goes on from there to the head.
    Reads raw rows in batches and decodes each itself, so that one malformed row is reported
    as the break it is instead of stopping the walk of every other chain.
    """
    decoders = _decoders(session.get_bind().dialect)
    expected_seq, prev = 1, GENESIS
    last_seq = 0
    if since is not None and since[0] > 0:
        last_seq, prev = since
        expected_seq = last_seq + 1
        try:
            known = read_entry(session, chain.jurisdiction_id, last_seq)
        except UnreadableEntry as exc:
            return ChainBreak(chain.jurisdiction_id, last_seq, str(exc))
        if known is None:
            return ChainBreak(chain.jurisdiction_id, last_seq, f"entry {last_seq} is missing")
        problem = check_entry(known, prev)
        if problem:
            return ChainBreak(chain.jurisdiction_id, last_seq, problem)
    while True:
        rows = session.execute(
            select(*_RAW_ENTRY)
            .where(_entries.c.jurisdiction_id == chain.jurisdiction_id, _entries.c.seq > last_seq)
            .order_by(_entries.c.seq).limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            seq = row._mapping["seq"]
            if seq != expected_seq:
                return ChainBreak(chain.jurisdiction_id, expected_seq, f"entry {expected_seq} is missing")
            try:
                e = _decode(row, decoders)
                actual = entry_hash(e)
            except UnreadableEntry as exc:
                return ChainBreak(chain.jurisdiction_id, seq, str(exc))
            except (TypeError, ValueError, RecursionError) as exc:
                return ChainBreak(chain.jurisdiction_id, seq, f"the entry cannot be hashed ({exc})")
            if e.prev_hash != prev:
                return ChainBreak(chain.jurisdiction_id, seq, "does not link to the entry before it")
            if actual != e.hash:
                return ChainBreak(chain.jurisdiction_id, seq, "its content no longer matches its hash")
            prev, expected_seq, last_seq = e.hash, seq + 1, seq
    if last_seq != chain.head_seq or prev != chain.head_hash:
        return ChainBreak(chain.jurisdiction_id, last_seq + 1,
                          f"the chain ends at {last_seq} but its head says {chain.head_seq}"
                          if last_seq != chain.head_seq else
                          f"entry {last_seq} is not the head the chain records")
    return None


def verify_all_chains(session: Session) -> tuple[int, list[ChainBreak]]:
    """Walk every chain; how many there are, and the first break of each broken one."""
    heads = session.execute(
        select(CustodyChain.jurisdiction_id, CustodyChain.head_seq, CustodyChain.head_hash, Jurisdiction.code)
        .join(Jurisdiction, Jurisdiction.id == CustodyChain.jurisdiction_id)
        .order_by(Jurisdiction.code)).all()
    breaks = []
    for jid, head_seq, head_hash, code in heads:
        found = verify_chain(session, CustodyChain(jurisdiction_id=jid, head_seq=head_seq, head_hash=head_hash))
        if found:
            breaks.append(replace(found, jurisdiction_code=code))
    return len(heads), breaks
