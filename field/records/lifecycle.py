"""Offline-safe submission and review of field records, whatever their kind.

Submission: the phone generates the record's UUID. ``submit`` creates the record once;
the same id again with the same body answers the stored record, with another body a
``Conflict`` that changes nothing. A new record is inserted without looking first (the
common case costs no existence query): a repeat, or a concurrent one, fails the primary key
inside a savepoint and then finds the stored row.

Review: submitted → in_review → accepted | needs_info | rejected; a submitter answers
needs_info with an amended version (``amend``), which goes back to submitted. Every
version is kept in ``record_versions``; every step is a custody-log entry.
"""

from __future__ import annotations

import enum
import hashlib
import json
import uuid
from decimal import Decimal
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Callable, Generic, Iterator, TypeVar

from sqlalchemy import bindparam, insert, literal_column, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from field.custody import chain as custody
from field.attachments import links

from field.core.pages import keyed
from field.core import geo, sync
from field.core.errors import Conflict, DomainError, FieldProblem, InvalidInput, InvalidTransition, NotAllowed, NotFound
from field.core.models.platform import OFFICE_ROLES, User
from field.core.models.records import FieldRecord, RecordVersion, ReviewComment, ReviewState
from field.core.models.base import utcnow
from field.core.pages import Page, paginate
from field.core.read_models import Beside
from field.core.scope import get_one, in_scope, scope_legs, subtree, visible_records_predicate
from .policy import POLICY

R = TypeVar("R", bound=FieldRecord)

#: Which review states a reviewer may move a record to, from each state.
REVIEW_TRANSITIONS: dict[ReviewState, tuple[ReviewState, ...]] = {
    ReviewState.submitted: (ReviewState.in_review, ReviewState.accepted, ReviewState.needs_info,
                            ReviewState.rejected),
    ReviewState.in_review: (ReviewState.accepted, ReviewState.needs_info, ReviewState.rejected),
    ReviewState.needs_info: (),  # only the submitter's amendment moves it on
    ReviewState.accepted: (),
    ReviewState.rejected: (),
}


def canonical_body(value):
    """A loaded body as plain JSON, the same for every way of writing the same content.

    What ``submit`` and ``amend`` hash and keep as a version: "5000" and "5000.00", key
    order, or one instant written in two offsets are one body.
    """
    from field.core.locations import GivenLocation

    if isinstance(value, dict):
        return {str(key): canonical_body(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical_body(v) for v in value]
    if isinstance(value, GivenLocation):
        return {"type": "Point", "coordinates": [value.lon, value.lat], "crs": value.crs,
                "accuracy_m": value.accuracy_m}
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def fingerprint(body) -> str:
    """SHA-256 of the body's canonical JSON: key order and spacing do not matter."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Submitted(Generic[R]):
    record: R
    created: bool


@dataclass(frozen=True)
class Receipt:
    """What the server knows of the sending: who, from which device, and the phone's clock."""

    user: User
    device_id: uuid.UUID | None
    device_sent_at: datetime | None  # X-Device-Time: the phone's clock when it sent
    max_clock_skew: timedelta = timedelta(minutes=10)


def _existing(session: Session, model: type[R], record_id: uuid.UUID, body_hash: str, user: User) -> R | None:
    found = session.get(FieldRecord, record_id)
    if found is None:
        return None
    if not isinstance(found, model) or found.submitted_by_id != user.id or found.body_hash != body_hash:
        # Same id, other content (or someone else's id): never overwrite, never reveal.
        raise Conflict(
            "This id was already used for a different record; nothing was changed. "
            "Generate a new UUID for a new record.",
            fields=[FieldProblem("id", "Already used with a different body.")])
    return found


_FIRST_VERSION = insert(RecordVersion.__table__)
#: session.info: a ``Deferred`` while a batch submits items that need no flush of their own.
_DEFERRED = "records_deferred"


@dataclass
class Deferred:
    """New records of a batch added to the session but not yet flushed (``deferred_submissions``):
    their first versions and the evidence check wait for one flush of them all (``finish``)."""

    records: list = field(default_factory=list)
    versions: list[dict] = field(default_factory=list)

    def finish(self, session: Session) -> None:
        """Flush every deferred record at once, insert their first versions in one statement, and
        judge the evidence of those that have some (one probe for all)."""
        session.flush()
        if self.versions:
            session.execute(_FIRST_VERSION, self.versions)
        with_evidence = links.records_with_attachments(session, self.records)
        for record in self.records:
            if record.id in with_evidence:
                links.refresh_record_flags(session, record)
        self.records, self.versions = [], []


@contextmanager
def deferred_submissions(session: Session) -> Iterator[Deferred]:
    """Inside the block ``submit`` adds a new record without flushing it or opening a savepoint;
    the caller calls ``Deferred.finish`` and, if that flush fails (an id taken meanwhile), rolls back
    and submits again without deferring. For kinds whose ``build`` only reads before it makes the
    record (``RecordKind.batchable``): a refused build has written nothing."""
    deferred = Deferred()
    session.info[_DEFERRED] = deferred
    try:
        yield deferred
    finally:
        session.info.pop(_DEFERRED, None)


@contextmanager
def not_deferred(session: Session) -> Iterator[None]:
    """Submit one record the ordinary way (its own savepoint and flush) inside ``deferred_submissions``."""
    deferred = session.info.pop(_DEFERRED, None)
    try:
        yield
    finally:
        if deferred is not None:
            session.info[_DEFERRED] = deferred


def _envelope(record: FieldRecord, record_id: uuid.UUID, body_hash: str, receipt: Receipt) -> datetime:
    """Fill what every record carries of its sending; returns the time it was received."""
    now = utcnow()
    record.id = record_id
    record.submitted_by_id = receipt.user.id
    record.submitted_by = receipt.user
    record.device_id = receipt.device_id
    record.received_at = now
    record.body_hash = body_hash
    record.version = 1
    record.review_state = ReviewState.submitted
    if receipt.device_sent_at is not None:
        record.clock_skew_s = (now - receipt.device_sent_at).total_seconds()
        record.flag_clock_skew = abs(record.clock_skew_s) > receipt.max_clock_skew.total_seconds()
    return now


def _first_version(record_id: uuid.UUID, body: dict, body_hash: str, receipt: Receipt, now: datetime) -> dict:
    return {"record_id": record_id, "version": 1, "body": json.loads(json.dumps(body, default=str)),
            "body_hash": body_hash, "submitted_by_id": receipt.user.id, "submitted_at": now}


def _created(session: Session, record: FieldRecord, body_hash: str, receipt: Receipt) -> None:
    custody.record(session, jurisdiction_id=record.jurisdiction_id, kind="record.created",
                   subject_type=record.kind, subject_id=record.id, actor=receipt.user,
                   device_id=receipt.device_id, data={"body_hash": body_hash, "version": 1})


def _submit_deferred(session: Session, deferred: Deferred, model: type[R], record_id: uuid.UUID, body: dict,
                     body_hash: str, receipt: Receipt, build: Callable[[], R]) -> Submitted[R]:
    pending = set(session.new)
    try:
        record = build()
    except DomainError:
        for made in set(session.new) - pending:  # what the refused build cascaded into the session
            session.expunge(made)
        raise
    now = _envelope(record, record_id, body_hash, receipt)
    session.add(record)
    deferred.records.append(record)
    deferred.versions.append(_first_version(record_id, body, body_hash, receipt, now))
    _created(session, record, body_hash, receipt)
    return Submitted(record, True)


def submit(
    session: Session, model: type[R], record_id: uuid.UUID, body: dict, receipt: Receipt,
    build: Callable[[], R],
) -> Submitted[R]:
    """Create the record ``build()`` makes, exactly once per id.

    ``build`` returns a new, not yet added instance of ``model`` with its kind's fields
    set; this function fills the envelope (id, submitter, receipt, hash) and adds it.
    """
    body_hash = fingerprint(body)
    if session.identity_map.get(identity_key(FieldRecord, record_id)) is not None:
        # Already in this transaction (the same id twice in one batch): no insert to try.
        return Submitted(_existing(session, model, record_id, body_hash, receipt.user), False)
    deferred = session.info.get(_DEFERRED)
    if deferred is not None:
        return _submit_deferred(session, deferred, model, record_id, body, body_hash, receipt, build)
    try:
        with session.begin_nested():
            record = build()
            now = _envelope(record, record_id, body_hash, receipt)
            session.add(record)
            session.flush()  # the record's row first: versions refer to it
            # A plain INSERT: nothing reads the version back in this request.
            session.execute(_FIRST_VERSION, _first_version(record_id, body, body_hash, receipt, now))
            # Evidence may have arrived before its record: judge it now that the record is here.
            if links.has_attachments(session, record):
                links.refresh_record_flags(session, record)
            _created(session, record, body_hash, receipt)
    except IntegrityError:
        # The id is taken (a repeat, or a concurrent repeat that committed first): answer with its
        # row, or the conflict. Any other constraint is the caller's error.
        found = _existing(session, model, record_id, body_hash, receipt.user)
        if found is None:
            raise
        return Submitted(found, False)
    except DomainError:
        # A repeat of a stored record answers as stored, even when today's rules would refuse it
        # (its category retired since, its sender moved to another squad).
        found = _existing(session, model, record_id, body_hash, receipt.user)
        if found is None:
            raise
        return Submitted(found, False)
    return Submitted(record, True)


def get_record(session: Session, user: User, record_id: uuid.UUID, model: type[R] = FieldRecord,
               what: str = "record", *, action: str | None = None) -> R:
    """A record of ``model``'s kind the user may see; otherwise ``NotFound(what)``. ``action`` (records/policy.py):
    what the caller will do with it, checked before it is looked for."""
    POLICY.require(user, action)
    return get_one(session, model, record_id, what, visible_records_predicate(user))


def review(session: Session, reviewer: User, record: FieldRecord, to_state: ReviewState,
           comment: str | None) -> ReviewComment | None:
    """A reviewer's decision; needs_info and rejected need a comment saying why."""
    if reviewer.role not in OFFICE_ROLES:
        raise NotAllowed("Only office staff review records.")
    to_state = ReviewState(to_state)
    allowed = REVIEW_TRANSITIONS[record.review_state]
    if to_state not in allowed:
        raise InvalidTransition(record.review_state.value, to_state.value, [s.value for s in allowed])
    if to_state in (ReviewState.needs_info, ReviewState.rejected) and not (comment or "").strip():
        raise InvalidInput("comment", f"Say why the record is {to_state.value.replace('_', ' ')}.")
    before = record.review_state
    record.review_state, record.reviewed_at = to_state, utcnow()
    note = None
    if comment or to_state is not before:
        note = ReviewComment(record_id=record.id, jurisdiction_id=record.jurisdiction_id, author_id=reviewer.id,
                             author=reviewer, body=(comment or "").strip(), state_from=before, state_to=to_state)
        session.add(note)
    session.flush()
    custody.record(session, jurisdiction_id=record.jurisdiction_id, kind="record.reviewed",
                   subject_type=record.kind, subject_id=record.id, actor=reviewer,
                   data={"from": before.value, "to": to_state.value})
    record.reviewed(session)  # what the decision changes beyond the record (a filing: coverage)
    _tell_submitter(session, record)
    return note


def add_comment(session: Session, user: User, record: FieldRecord, body: str) -> ReviewComment:
    note = ReviewComment(record_id=record.id, jurisdiction_id=record.jurisdiction_id, author_id=user.id,
                         author=user, body=body.strip())
    session.add(note)
    session.flush()
    _tell_submitter(session, record)
    return note


def comments(session: Session, record: FieldRecord) -> list[ReviewComment]:
    return list(session.execute(
        select(ReviewComment).where(ReviewComment.record_id == record.id)
        .order_by(ReviewComment.created_at, ReviewComment.id)).scalars())


def versions(session: Session, record: FieldRecord) -> list[RecordVersion]:
    return list(session.execute(
        select(RecordVersion).where(RecordVersion.record_id == record.id).order_by(RecordVersion.version)
    ).scalars())


def amend(session: Session, user: User, record: FieldRecord, body: dict, apply: Callable[[], None],
          comment: str | None = None) -> FieldRecord:
    """The submitter's answer to needs_info: a new version, back to submitted.

    ``apply`` writes the amended fields onto ``record``; the previous versions stay.
    Sending the same amendment again is a no-op (its hash is already the latest).
    """
    if record.submitted_by_id != user.id:
        raise NotFound("record")
    body_hash = fingerprint(body)
    if body_hash == record.body_hash and record.review_state is ReviewState.submitted and record.version > 1:
        return record  # a repeat of the amendment that was already taken
    if record.review_state is not ReviewState.needs_info:
        raise InvalidTransition(record.review_state.value, "amended", [])
    apply()
    record.version += 1
    record.body_hash = body_hash
    before = record.review_state
    record.review_state = ReviewState.submitted
    session.add(RecordVersion(record_id=record.id, version=record.version,
                              body=json.loads(json.dumps(body, default=str)), body_hash=body_hash,
                              submitted_by_id=user.id))
    session.add(ReviewComment(record_id=record.id, jurisdiction_id=record.jurisdiction_id, author_id=user.id,
                              author=user, body=(comment or "Amended.").strip(), state_from=before,
                              state_to=ReviewState.submitted))
    session.flush()
    links.refresh_record_flags(session, record)  # the amended place or time may change the verdict
    custody.record(session, jurisdiction_id=record.jurisdiction_id, kind="record.amended",
                   subject_type=record.kind, subject_id=record.id, actor=user,
                   data={"body_hash": body_hash, "version": record.version})
    _tell_submitter(session, record)
    return record


#: The states a record waits in for the office.
WAITING = (ReviewState.submitted, ReviewState.in_review)


@keyed(FieldRecord.received_at, FieldRecord.id)
def review_queue(session: Session, reviewer: User, *, kind: str | None = None, unit_id=None, squad_id=None,
                 category: str | None = None, flag: str | None = None, bbox=None,
                 jurisdiction_id: uuid.UUID | None = None, states=WAITING):
    """What waits for review in the reviewer's scope, filterable; ordered oldest first by the caller."""
    if reviewer.role not in OFFICE_ROLES:
        raise NotAllowed("Only office staff see the review queue.")
    # The states are written into the SQL, not bound: a partial index (ix_field_records_waiting)
    # is only used when the query's own text implies its predicate, and SQLite never looks into
    # bound values for that.
    wanted = bindparam("queue_states", [ReviewState(s) for s in states], expanding=True, literal_execute=True,
                       type_=FieldRecord.review_state.type)
    scope = in_scope(FieldRecord.jurisdiction_id, reviewer)
    if session.get_bind().dialect.name == "sqlite":
        # SQLite would rather fetch every record of the scope's jurisdictions by their index and
        # sort them all, a cost that grows with the table; the unary + (a no-op) keeps it on the
        # waiting index, oldest first, checking the scope on the way, as PostgreSQL does.
        scope = in_scope(literal_column("+field_records.jurisdiction_id"), reviewer)
    stmt = select(FieldRecord).where(scope, FieldRecord.review_state.in_(wanted))
    if kind:
        stmt = stmt.where(FieldRecord.kind == kind)
    if unit_id:
        stmt = stmt.where(FieldRecord.unit_id == unit_id)
    if squad_id:
        stmt = stmt.where(FieldRecord.squad_id == squad_id)
    if category:
        stmt = stmt.where(FieldRecord.category_code == category)
    if flag:
        column = FLAGS.get(flag)
        if column is None:
            raise InvalidInput("flag", f"One of: {', '.join(sorted(FLAGS))}.")
        stmt = stmt.where(column.is_(True))
    if bbox:
        stmt = stmt.where(geo.in_bbox(session, FieldRecord.location, *bbox))
    if jurisdiction_id:
        area = _queue_area(session, reviewer, jurisdiction_id)
        stmt = stmt.where(FieldRecord.jurisdiction_id.in_(subtree(area.path)))
    return stmt


def _queue_area(session: Session, reviewer: User, jurisdiction_id: uuid.UUID):
    from field.accounts.jurisdictions import get_jurisdiction

    return get_jurisdiction(session, reviewer, jurisdiction_id)


def queue_page(session: Session, reviewer: User, filters: dict, *, cursor: str | None, limit: int) -> Page:
    """One page of ``review_queue``, oldest first. A scope (or asked-for area) of a few jurisdictions
    is read jurisdiction by jurisdiction along ix_field_records_waiting_scope and merged, so a
    reviewer whose scope holds little never walks the whole waiting set; a wide one walks
    ix_field_records_waiting, where its records are dense."""
    stmt = review_queue(session, reviewer, **filters)
    area = filters.get("jurisdiction_id")
    path = _queue_area(session, reviewer, area).path if area else reviewer.jurisdiction.path
    return paginate(session, stmt, [FieldRecord.received_at, FieldRecord.id], cursor=cursor, limit=limit,
                    legs=scope_legs(session, FieldRecord.jurisdiction_id, path))


#: Queue filter names → the flag columns.
FLAGS = {
    "unfiled": FieldRecord.flag_unfiled,
    "implausible_evidence": FieldRecord.flag_implausible_evidence,
    "clock_skew": FieldRecord.flag_clock_skew,
    "far_from_target": FieldRecord.flag_far_from_target,
}


# -- the submitter's phone learns of reviews through the sync feed ------------------------------


def _tell_submitter(session: Session, record: FieldRecord) -> None:
    """A review step or comment on a record goes to its submitter's phone (and the office's)."""
    sync.record(session, "record_review", record.id, record.jurisdiction_id,
                sync.Audience("user", record.submitted_by_id))


@dataclass(frozen=True)
class RecordReview(Beside):
    """What the sync feed says of a record: its envelope (read through) and its review thread."""

    record: FieldRecord
    comments: list[ReviewComment]
    __row__ = "record"


def load_reviews(session: Session, user: User, ids) -> dict[uuid.UUID, RecordReview]:
    """The sync feed's view: the review state and thread of the records among ``ids`` the user may see."""
    rows = session.execute(select(FieldRecord).where(FieldRecord.id.in_(list(ids)),
                                                     visible_records_predicate(user))).scalars()
    return {record.id: RecordReview(record, comments(session, record)) for record in rows}


sync.register_feed("record_review", load_reviews)
