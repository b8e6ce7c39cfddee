"""What a reviewer reads at a glance: queue rows and a record's sheet, as plain dataclasses.

The queue itself is ``records.review_queue`` (the API's rule, scope and filters); this
module only says, for each waiting record, what the office decides on: who or what it is
about, a line of text, the submitter as the office may know them (a monitor's account
shows their pseudonymous code, field/directory/squads.py), the flags and the photos. Rows are made
in a fixed number of queries per page whatever the kinds on it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from field.accounts.jurisdictions import jurisdictions_query
from field.attachments import links
from field.core.models.evidence import Attachment, Blob
from field.core.models.platform import Jurisdiction, User
from field.core.models.records import FieldRecord, ReviewState
from field.directory import squads, units
from field.directory.models import Enterprise, Person, Squad, Unit
from field.records import kinds as record_kinds_registry, lifecycle as records
from field.records.kinds import value_of

from . import taxonomy
from .models import FindingCategory, VisitTask

#: The decisions a reviewer takes on the record page (taking into review happens by deciding).
DECISIONS = (ReviewState.accepted, ReviewState.needs_info, ReviewState.rejected)
#: Thumbnails shown in a queue row; the record page shows every piece.
THUMBS_PER_ROW = 3
TEXT_LINE = 160


@dataclass(frozen=True)
class Thumb:
    sha256: str
    media: str
    #: A viewing copy exists or can be made on first view (a photo whose pixels decode).
    viewable: bool


@dataclass(frozen=True)
class QueueRow:
    id: uuid.UUID
    kind: str
    review_state: str
    version: int
    received_at: datetime
    device_time: datetime
    #: The unit(s) and enterprise(s) the record is about, by name.
    subjects: tuple[str, ...]
    category_code: str | None
    category_zh: str | None
    category_en: str | None
    #: A kind's own one-word qualifier: a finding's severity, a report's type, an inspection's measure.
    tag: str | None
    text: str
    #: As the office may know the submitter: a monitor's account is named by their code.
    submitter: str
    submitter_role: str
    flags: tuple[str, ...]
    thumbs: tuple[Thumb, ...]
    evidence_count: int


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    next_cursor: str | None


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    label_en: str | None = None


@dataclass(frozen=True)
class QueueChoices:
    """The values the queue's filters offer this reviewer: their scope's, nothing else."""

    kinds: list[str]
    units: list[Choice]
    squads: list[Choice]
    categories: list[Choice]
    flags: list[str]
    areas: list[Choice]


@dataclass(frozen=True)
class EvidenceItem:
    sha256: str
    media: str
    declared: bool
    arrived: bool
    filename: str | None
    mime: str | None
    size: int | None
    captured_at: datetime | None
    #: EXIF GPS (WGS-84) lon, lat, and accuracy in metres when known.
    gps: tuple[float, float, float | None] | None
    make: str | None
    model: str | None
    width: int | None
    height: int | None
    viewable: bool
    derivatives_error: str | None
    #: (code, detail, data) of each plausibility flag: the detail in English, the data its figures
    #: (the console says it in the reader's language from these: web/console/labels.flag_detail).
    flags: tuple[tuple[str, str, dict], ...]


@dataclass(frozen=True)
class ThreadEntry:
    author: str
    author_role: str
    body: str
    state_from: str | None
    state_to: str | None
    created_at: datetime


@dataclass(frozen=True)
class RecordSheet:
    row: QueueRow
    #: The record itself, for the caller's output schema of its kind (every field, generically).
    record: FieldRecord
    location: tuple[float, float, float | None] | None
    evidence: list[EvidenceItem]
    thread: list[ThreadEntry]
    #: The decisions its state allows now.
    decisions: tuple[str, ...]
    #: Names of the directory objects the record refers to by id (unit, squad, person, enterprise, task).
    names: dict[str, str]
    #: Ids the record refers to that are records the reviewer may open.
    record_links: frozenset[str]


# -- what each kind says about itself --------------------------------------------------------------


def _summary(record: FieldRecord) -> tuple[list, str | None, str]:
    """What the record's kind says about itself (field/records/kinds.py ``summary``)."""
    kind = record_kinds_registry.kind(record.kind)
    if kind is None or kind.summary is None:
        return [], None, ""
    return kind.summary(record)


def record_kinds() -> list[str]:
    return sorted(k for k in FieldRecord.__mapper__.polymorphic_map if k != "record")


def _line(text: str) -> str:
    first = " ".join(str(text or "").split())
    return first if len(first) <= TEXT_LINE else first[:TEXT_LINE - 1] + "…"


def _load_kind_columns(session: Session, items: list[FieldRecord]) -> None:
    """Each kind's own table in one query per kind (the queue reads the envelope only)."""
    by_kind: dict[str, list[uuid.UUID]] = {}
    for record in items:
        by_kind.setdefault(record.kind, []).append(record.id)
    polymorphic = FieldRecord.__mapper__.polymorphic_map
    for kind, ids in by_kind.items():
        model = polymorphic[kind].class_
        if model is not FieldRecord:
            session.execute(select(model).where(model.id.in_(ids))).scalars().all()


def _thumbs(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Thumb]]:
    rows = session.execute(
        select(Attachment.record_id, Blob.sha256, Blob.media_kind, Blob.derivatives_state)
        .join(Blob, Blob.sha256 == Attachment.blob_sha256)
        .join(FieldRecord, FieldRecord.id == Attachment.record_id)
        # Only the submitter's own attachments count for a record (field/attachments/access.py).
        .where(Attachment.record_id.in_(ids), Attachment.uploader_id == FieldRecord.submitted_by_id)
        .order_by(Attachment.attached_at, Attachment.id))
    out: dict[uuid.UUID, list[Thumb]] = {}
    for record_id, sha, media, state in rows:
        out.setdefault(record_id, []).append(Thumb(sha, media, media == "photo" and state != "failed"))
    return out


def queue_rows(session: Session, reviewer: User, items: list[FieldRecord]) -> list[QueueRow]:
    if not items:
        return []
    _load_kind_columns(session, items)
    ids = [r.id for r in items]
    summaries = {r.id: _summary(r) for r in items}
    unit_ids = {r.unit_id for r in items if r.unit_id}
    enterprise_ids = {e for s in summaries.values() for e in s[0] if e}
    units = dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all()) if unit_ids else {}
    enterprises = dict(session.execute(select(Enterprise.id, Enterprise.name)
                                       .where(Enterprise.id.in_(enterprise_ids))).all()) if enterprise_ids else {}
    codes = {r.category_code for r in items if r.category_code}
    labels = {}
    if codes:
        visible = taxonomy.categories_query(session, reviewer).where(FindingCategory.code.in_(codes))
        for category in session.execute(visible).scalars():
            # An office's own category shadows a seeded one of the same code.
            if category.code not in labels or category.jurisdiction_id is not None:
                labels[category.code] = (category.label_zh, category.label_en)
    thumbs = _thumbs(session, ids)
    rows = []
    for r in items:
        enterprise_list, tag, text = summaries[r.id]
        subjects = tuple(name for name in ([units.get(r.unit_id)] + [enterprises.get(e) for e in enterprise_list])
                         if name)
        if r.kind == "callback" and not subjects:
            subjects = (r.case.unit_name,)
        zh, en = labels.get(r.category_code, (None, None))
        evidence = thumbs.get(r.id, [])
        rows.append(QueueRow(
            id=r.id, kind=r.kind, review_state=r.review_state.value, version=r.version,
            received_at=r.received_at, device_time=r.device_time, subjects=subjects,
            category_code=r.category_code, category_zh=zh, category_en=en, tag=tag, text=_line(text),
            submitter=r.submitted_by.display_name, submitter_role=r.submitted_by.role.value,
            flags=tuple(name for name, column in records.FLAGS.items() if getattr(r, column.key)),
            thumbs=tuple(evidence[:THUMBS_PER_ROW]), evidence_count=len(evidence)))
    return rows


def queue_page(session: Session, reviewer: User, filters: dict, *, cursor: str | None, limit: int) -> QueuePage:
    """One page of the review queue (``records.review_queue``), oldest first, as rows."""
    page = records.queue_page(session, reviewer, filters, cursor=cursor, limit=limit)
    return QueuePage(queue_rows(session, reviewer, page.items), page.next_cursor)


def queue_choices(session: Session, reviewer: User) -> QueueChoices:
    unit_rows = session.execute(units.units_query(reviewer).order_by(Unit.name).limit(500)).scalars()
    squad_rows = session.execute(squads.squads_query(reviewer).order_by(Squad.name)).scalars()
    category_rows = session.execute(taxonomy.categories_query(session, reviewer)
                                    .order_by(FindingCategory.code)).scalars()
    area_rows = session.execute(jurisdictions_query(reviewer).order_by(Jurisdiction.path)).scalars()
    categories: dict[str, Choice] = {}
    for c in category_rows:
        categories.setdefault(c.code, Choice(c.code, c.label_zh, c.label_en))
    return QueueChoices(
        kinds=record_kinds(),
        units=[Choice(str(u.id), u.name) for u in unit_rows],
        squads=[Choice(str(s.id), s.name) for s in squad_rows],
        categories=sorted(categories.values(), key=lambda c: c.value),
        flags=sorted(records.FLAGS),
        areas=[Choice(str(j.id), j.name) for j in area_rows])


# -- one record ---------------------------------------------------------------------------------


def _point(location) -> tuple[float, float, float | None] | None:
    return (location.lon, location.lat, location.accuracy_m) if location is not None else None


def record_sheet(session: Session, reviewer: User, record_id: uuid.UUID) -> RecordSheet:
    """Everything the record page shows; NotFound outside the reviewer's scope, like the API."""
    record = records.get_record(session, reviewer, record_id)
    row = queue_rows(session, reviewer, [record])[0]
    evidence = []
    for state in links.attachments_state(session, record):
        blob = state.attachment.blob if state.attachment else None
        evidence.append(EvidenceItem(
            sha256=state.sha256, media=state.media, declared=state.declared, arrived=state.arrived,
            filename=state.attachment.filename if state.attachment else None,
            mime=blob.mime if blob else None, size=blob.size if blob else None,
            captured_at=blob.captured_at if blob else None, gps=_point(blob.gps_location) if blob else None,
            make=blob.make if blob else None, model=blob.model if blob else None,
            width=blob.width if blob else None, height=blob.height if blob else None,
            viewable=bool(blob and blob.media_kind == "photo" and blob.derivatives_state != "failed"),
            derivatives_error=blob.derivatives_error if blob else None,
            flags=tuple((f.code, f.detail, f.data) for f in state.flags)))
    thread = [ThreadEntry(c.author.display_name, c.author.role.value, c.body, value_of(c.state_from),
                          value_of(c.state_to), c.created_at) for c in records.comments(session, record)]
    location = None
    if record.location is not None:
        from geoalchemy2.shape import to_shape

        point = to_shape(record.location)
        location = (point.x, point.y, record.accuracy_m)
    allowed = records.REVIEW_TRANSITIONS[record.review_state]
    names, linked = _referenced(session, reviewer, record)
    return RecordSheet(row=row, record=record, location=location, evidence=evidence, thread=thread,
                       decisions=tuple(s.value for s in DECISIONS if s in allowed), names=names,
                       record_links=linked)


#: Where the ids a record holds may point, and the column that names each.
_NAMED = ((Unit, Unit.name), (Squad, Squad.name), (Person, Person.name), (Enterprise, Enterprise.name),
          (VisitTask, VisitTask.theme))


def _referenced(session: Session, reviewer: User, record: FieldRecord) -> tuple[dict[str, str], frozenset[str]]:
    """Names for the ids among the record's columns, and which of them are records the reviewer sees."""
    ids = set()
    for column in type(record).__mapper__.columns:
        value = getattr(record, column.key, None)
        if column.key != "id" and isinstance(value, uuid.UUID):
            ids.add(value)
    for enterprise in getattr(record, "enterprises", None) or []:
        ids.add(enterprise.id)
    if not ids:
        return {}, frozenset()
    names: dict[str, str] = {}
    for model, name in _NAMED:
        for key, value in session.execute(select(model.id, name).where(model.id.in_(ids))).all():
            names[str(key)] = value
    linked = session.execute(select(FieldRecord.id).where(
        FieldRecord.id.in_(ids), records.visible_records_predicate(reviewer))).scalars()
    return names, frozenset(str(i) for i in linked)
