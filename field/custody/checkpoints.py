"""Checkpoints of the custody log: the signed head of every chain, to be kept outside the database.

The hash chains (field/custody/chain.py) show an entry edited, removed or reordered anywhere
below the head, but not the last entries removed with the chain head wound back: whoever can
rewrite the tables can leave a shorter log that verifies. A checkpoint closes that hole as
RFC 9162's signed tree heads do for Certificate Transparency: the head (seq, hash) of every
chain at one moment, signed with an Ed25519 key as a C2SP signed note (field/custody/notes.py),
written to a file, printed, handed to a third party. Every later log must *extend* it: each
chain still has, at that seq, the entry of that hash, and still verifies from its first entry
to its head. A log wound back behind a checkpoint, or rewritten below one, cannot.

The note's text, every line ending in a newline, all of it signed::

    <origin>                                        the log's name (CUSTODY_LOG_ORIGIN), = the key's name
    custody-checkpoint <made at, UTC>               e.g. custody-checkpoint 2026-12-05T08:00:00Z
    <code> <seq> <hash> <entry time, UTC>           one line per chain, by jurisdiction code:
                                                    the head entry's seq, its SHA-256 (hex) and
                                                    when it was logged

Before signing, ``make_checkpoint`` walks every chain from the newest stored checkpoint (whose
signature it checks first) to the head: a checkpoint never blesses a log that is already
broken, and each run reads only what was appended since the last one.

Plain functions taking the session; they flush, never commit.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from field.core.errors import NotFound
from field.core.models.base import utcnow
from field.core.models.platform import Jurisdiction, User
from field.core.pages import keyed

from . import chain as custody
from .models import CustodyChain, CustodyCheckpoint, CustodyEntry
from .notes import NoteError, Signer, Verifier, split
from .policy import POLICY

#: The second line's keyword: names the format, so that no other signed text of the same key
#: (should the key ever sign anything else) reads as a checkpoint.
KEYWORD = "custody-checkpoint"

_HEAD_LINE = re.compile(r"(?P<code>\d{2,12}) (?P<seq>\d{1,19}) (?P<hash>[0-9a-f]{64}) (?P<at>\S+)")


@dataclass(frozen=True)
class Head:
    """One chain's head as a checkpoint names it."""

    code: str
    seq: int
    hash: str
    at: datetime


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    made_at: datetime
    heads: tuple[Head, ...]


class ChainsBroken(Exception):
    """The log does not verify: no checkpoint is signed over it."""

    def __init__(self, breaks: list[custody.ChainBreak]):
        self.breaks = breaks
        super().__init__(f"{len(breaks)} chain(s) broken")


def _utc(at: datetime, timespec: str) -> str:
    return at.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec=timespec) + "Z"


def _parse_utc(text: str) -> datetime:
    if not text.endswith("Z"):
        raise ValueError(f"not a UTC time: {text!r}")
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=timezone.utc)


def render(checkpoint: Checkpoint) -> str:
    """The text a checkpoint signs."""
    lines = [checkpoint.origin, f"{KEYWORD} {_utc(checkpoint.made_at, 'seconds')}"]
    lines += [f"{h.code} {h.seq} {h.hash} {_utc(h.at, 'microseconds')}" for h in checkpoint.heads]
    return "".join(f"{line}\n" for line in lines)


def parse(text: str) -> Checkpoint:
    """A checkpoint from its text (checked by ``open_note`` first); NoteError if it is not one."""
    lines = text.rstrip("\n").split("\n")
    if len(lines) < 2 or not lines[1].startswith(f"{KEYWORD} "):
        raise NoteError(f"not a custody checkpoint: its second line does not start with {KEYWORD!r}")
    try:
        made_at = _parse_utc(lines[1].split(" ", 1)[1])
        heads = []
        for line in lines[2:]:
            match = _HEAD_LINE.fullmatch(line)
            if match is None:
                raise ValueError(f"not a chain line: {line[:80]!r}")
            heads.append(Head(match["code"], int(match["seq"]), match["hash"], _parse_utc(match["at"])))
    except ValueError as exc:
        raise NoteError(f"malformed checkpoint: {exc}") from None
    return Checkpoint(lines[0], made_at, tuple(heads))


def open_note(note: str, verifier: Verifier) -> Checkpoint:
    """The checkpoint a signed note holds, once its signature by ``verifier``'s key checks out."""
    return parse(verifier.open(note))


def key_ids(note: str) -> list[str]:
    """The key ids (hex) of a note's signature lines, to name the key a note wants."""
    return [f"{name}+{blob[:4].hex()}" for name, blob in split(note)[1]]


# -- making one --------------------------------------------------------------------------------------


def current_heads(session: Session) -> list[Head]:
    """The head of every chain now, by jurisdiction code (one statement: one consistent moment)."""
    rows = session.execute(
        select(Jurisdiction.code, CustodyChain.head_seq, CustodyChain.head_hash, CustodyEntry.occurred_at)
        .join(Jurisdiction, Jurisdiction.id == CustodyChain.jurisdiction_id)
        .join(CustodyEntry, (CustodyEntry.jurisdiction_id == CustodyChain.jurisdiction_id)
              & (CustodyEntry.seq == CustodyChain.head_seq))
        .order_by(Jurisdiction.code)
    ).all()
    return [Head(code, seq, hash_, at) for code, seq, hash_, at in rows]


def newest_stored(session: Session) -> CustodyCheckpoint | None:
    return session.execute(
        select(CustodyCheckpoint).order_by(CustodyCheckpoint.made_at.desc(), CustodyCheckpoint.id).limit(1)
    ).scalar_one_or_none()


def make_checkpoint(session: Session, signer: Signer, *, origin: str | None = None,
                    now: datetime | None = None) -> CustodyCheckpoint:
    """Check the log since the newest stored checkpoint, then sign and store the heads of every chain.

    ChainsBroken (nothing signed) when a chain does not verify, or when the newest stored
    checkpoint of this same key fails its signature (the table was tampered with). One of
    another key (the key was replaced) is only not used as the starting point.
    """
    custody.link_pending(session)  # what this transaction appended is in the heads it signs
    now = now or utcnow()
    since: dict[str, Head] = {}
    previous = newest_stored(session)
    if previous is not None and previous.key_id == signer.key_id.hex():
        try:
            since = {h.code: h for h in open_note(previous.note, signer).heads}
        except NoteError as exc:
            raise ChainsBroken([custody.ChainBreak(None, 0, f"the stored checkpoint {previous.id} of "
                                                            f"{previous.made_at:%Y-%m-%d %H:%M} fails: {exc}")])
    breaks = _walk(session, since)
    if breaks:
        raise ChainsBroken(breaks)
    checkpoint = Checkpoint(origin or signer.name, now, tuple(current_heads(session)))
    row = CustodyCheckpoint(id=uuid.uuid4(), made_at=now, key_name=signer.name, key_id=signer.key_id.hex(),
                            chains=len(checkpoint.heads), note=signer.sign(render(checkpoint)))
    session.add(row)
    session.flush()
    return row


def _walk(session: Session, since: dict[str, Head]) -> list[custody.ChainBreak]:
    chains = session.execute(
        select(CustodyChain.jurisdiction_id, CustodyChain.head_seq, CustodyChain.head_hash, Jurisdiction.code)
        .join(Jurisdiction, Jurisdiction.id == CustodyChain.jurisdiction_id).order_by(Jurisdiction.code)).all()
    breaks = []
    for jid, head_seq, head_hash, code in chains:
        start = since.get(code)
        if start is not None and head_seq < start.seq:
            breaks.append(custody.ChainBreak(jid, head_seq + 1, _wound_back(head_seq, start), code))
            continue
        found = custody.verify_chain(session, CustodyChain(jurisdiction_id=jid, head_seq=head_seq, head_hash=head_hash),
                                     since=(start.seq, start.hash) if start else None)
        if found:
            breaks.append(custody.ChainBreak(jid, found.seq, found.reason, code))
    missing = set(since) - {code for *_, code in chains}
    breaks += [custody.ChainBreak(None, 1, "the chain is gone, though the last checkpoint lists it", code)
               for code in sorted(missing)]
    return breaks


def _wound_back(head_seq: int, seen: Head, made_at: datetime | None = None) -> str:
    when = f" of {_utc(made_at, 'seconds')}" if made_at else ""
    return (f"the log ends at entry {head_seq}, but the checkpoint{when} saw entry {seen.seq} "
            f"(hash {seen.hash[:16]}…): entries were removed and the head wound back")


# -- checking a log against one ----------------------------------------------------------------------


def check_extends(session: Session, checkpoint: Checkpoint) -> list[custody.ChainBreak]:
    """Why the log does not extend ``checkpoint``: per chain it names, the first reason found.

    Extending means: the chain still exists, its head is at or past the checkpoint's seq, and
    the entry at that seq still has the checkpoint's hash (its content hashing to it too).
    That the chain then links up to its head is the ordinary walk's job (``verify_all_chains``).
    """
    known = {code: (jid, seq) for jid, seq, code in session.execute(
        select(CustodyChain.jurisdiction_id, CustodyChain.head_seq, Jurisdiction.code)
        .join(Jurisdiction, Jurisdiction.id == CustodyChain.jurisdiction_id)).all()}
    breaks = []
    for head in checkpoint.heads:
        if head.code not in known:
            breaks.append(custody.ChainBreak(None, 1, "the chain is gone: the checkpoint lists it", head.code))
            continue
        jid, head_seq = known[head.code]
        if head_seq < head.seq:
            breaks.append(custody.ChainBreak(jid, head_seq + 1, _wound_back(head_seq, head, checkpoint.made_at),
                                             head.code))
            continue
        try:
            entry = custody.read_entry(session, jid, head.seq)
        except custody.UnreadableEntry as exc:
            breaks.append(custody.ChainBreak(jid, head.seq, str(exc), head.code))
            continue
        problem = (f"entry {head.seq}, which the checkpoint saw, is missing" if entry is None
                   else custody.check_entry(entry, head.hash))
        if problem:
            breaks.append(custody.ChainBreak(jid, head.seq, f"{problem} (checkpoint of "
                                                            f"{_utc(checkpoint.made_at, 'seconds')})", head.code))
    return breaks


@keyed(CustodyCheckpoint.made_at, CustodyCheckpoint.id, descending=True)
def checkpoints_query(actor: User | None = None):
    """Every stored checkpoint, newest first (admins; ``actor`` None: the command line)."""
    POLICY.require(actor, "checkpoints.read")
    return select(CustodyCheckpoint)


def get_checkpoint(session: Session, checkpoint_id: uuid.UUID, actor: User | None = None) -> CustodyCheckpoint:
    POLICY.require(actor, "checkpoints.read")
    row = session.get(CustodyCheckpoint, checkpoint_id)
    if row is None:
        raise NotFound("checkpoint")
    return row


def heads_of(row: CustodyCheckpoint) -> tuple[Head, ...]:
    """The heads a stored checkpoint lists (its text, unverified: the table is ours)."""
    text, _signatures = split(row.note)
    return parse(text).heads
