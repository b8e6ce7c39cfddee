"""What the case view shows beyond the case row: its source records' envelopes, every piece of its evidence
with flags and custody, whether a complainant is on file, and its timeline from the custody log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from field.attachments.links import attachments_state
from field.core import geo
from field.core.locations import Location
from field.core.models.evidence import Attachment
from field.core.models.platform import OFFICE_ROLES, User
from field.core.models.records import FieldRecord
from field.custody import chain as custody
from field.custody.models import CustodyEntry

from .models import Case


@dataclass
class EvidenceItem:
    """A piece of evidence of the case: where it is attached, whether it arrived, what looks wrong."""

    sha256: str
    media: str | None
    #: Source records it is attached to (several, if a photo was reused).
    record_ids: list[uuid.UUID] = field(default_factory=list)
    record_kinds: list[str] = field(default_factory=list)
    #: Attached to the case itself by office staff (a rectification report, a hearing's minutes …).
    on_case: bool = False
    #: Whether the bytes are stored (False: declared by the phone, not uploaded yet).
    arrived: bool = False
    mime: str | None = None
    ext: str | None = None
    size: int | None = None
    #: Plausibility flags from field/attachments/links.py (gps_far_from_record, no_exif, …).
    flags: list[str] = field(default_factory=list)
    custody: dict = field(default_factory=dict)

    def take_blob(self, blob) -> None:
        self.arrived = True
        self.media = self.media or blob.media_kind
        self.mime, self.ext, self.size = blob.mime, blob.ext, blob.size


def _source_records(session: Session, case: Case) -> list[FieldRecord]:
    ids = [s.record_id for s in case.sources]
    if not ids:
        return []
    found = {r.id: r for r in session.execute(select(FieldRecord).where(FieldRecord.id.in_(ids))).scalars()}
    return [found[i] for i in ids if i in found]


def custody_summaries(session: Session, shas: list[str]) -> dict[str, dict]:
    """Per blob: how many custody entries, the first and last, and which kinds of event (one query)."""
    out: dict[str, dict] = {}
    if not shas:
        return out
    custody.link_pending(session)  # this transaction's own entries count too
    rows = session.execute(
        select(CustodyEntry.subject_id, CustodyEntry.kind, func.count(), func.min(CustodyEntry.occurred_at),
               func.max(CustodyEntry.occurred_at))
        .where(CustodyEntry.subject_type == "blob", CustodyEntry.subject_id.in_(shas))
        .group_by(CustodyEntry.subject_id, CustodyEntry.kind))
    for sha, kind, count, first, last in rows:
        s = out.setdefault(sha, {"entries": 0, "first_at": None, "last_at": None, "events": {}})
        first, last = _aware(first), _aware(last)
        s["entries"] += count
        s["events"][kind] = count
        s["first_at"] = first if s["first_at"] is None else min(s["first_at"], first)
        s["last_at"] = last if s["last_at"] is None else max(s["last_at"], last)
    return out


def _aware(value):
    # An aggregate skips the column type's conversion: SQLite hands back naive UTC text.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def case_evidence(session: Session, case: Case) -> list[EvidenceItem]:
    """Every piece of evidence of the case, once each: its source records' (in linking order, as
    field/attachments/links.py sees them, with their plausibility flags), then what office staff attached
    to the case itself (upload with the case's id as ``record_id``)."""
    items: dict[str, EvidenceItem] = {}
    for record in _source_records(session, case):
        for state in attachments_state(session, record):
            item = items.setdefault(state.sha256, EvidenceItem(sha256=state.sha256, media=state.media))
            if record.id not in item.record_ids:
                item.record_ids.append(record.id)
                item.record_kinds.append(record.kind)
            if state.arrived and state.attachment is not None:
                item.take_blob(state.attachment.blob)
            item.flags = sorted(set(item.flags) | {f.code for f in state.flags})
    own = session.execute(
        select(Attachment).join(User, User.id == Attachment.uploader_id)
        .where(Attachment.record_id == case.id, User.role.in_(OFFICE_ROLES))
        .order_by(Attachment.attached_at, Attachment.id)).scalars()
    for attachment in own:
        item = items.setdefault(attachment.blob_sha256, EvidenceItem(sha256=attachment.blob_sha256, media=None))
        item.on_case = True
        item.take_blob(attachment.blob)
    summaries = custody_summaries(session, list(items))
    for sha, item in items.items():
        item.custody = summaries.get(sha, {"entries": 0, "first_at": None, "last_at": None, "events": {}})
    return list(items.values())


@dataclass(frozen=True)
class SourceView:
    """A source record as the case shows it: its envelope, whatever its kind."""

    record_id: uuid.UUID
    kind: str
    position: int
    linked_at: datetime
    review_state: str | None
    received_at: datetime | None
    unit_id: uuid.UUID | None
    category_code: str | None
    flags: list[str]
    location: Location | None


_RECORD_FLAGS = ("unfiled", "implausible_evidence", "clock_skew", "far_from_target")


def source_views(session: Session, case: Case) -> list[SourceView]:
    """The case's sources as the case view shows them: each record's envelope, in linking order."""
    records = {r.id: r for r in _source_records(session, case)}
    views = []
    for source in case.sources:
        record = records.get(source.record_id)
        location = None
        if record is not None and record.location is not None:
            point = geo.from_db(record.location)
            location = Location(point.x, point.y, record.accuracy_m)
        views.append(SourceView(
            source.record_id, source.record_kind, source.position, source.linked_at,
            record.review_state.value if record else None, record.received_at if record else None,
            record.unit_id if record else None, record.category_code if record else None,
            [f for f in _RECORD_FLAGS if record is not None and getattr(record, f"flag_{f}")], location))
    return views


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    occurred_at: datetime
    kind: str
    actor_id: uuid.UUID | None
    actor: str | None
    data: dict
    hash: str


def timeline(session: Session, actor: User, case: Case) -> list[TimelineEntry]:
    """Everything that happened to the case, oldest first, from the custody log."""
    entries = custody.history(session, "case", case.id)
    ids = {e.actor_id for e in entries if e.actor_id}
    names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}
    return [TimelineEntry(e.seq, e.occurred_at, e.kind, e.actor_id, names.get(e.actor_id), e.data or {}, e.hash)
            for e in entries]
