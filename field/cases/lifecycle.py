"""The life of a case: opened (numbered, on the clock), its sources, the state machine with its four
gates, delay notices; the package docstring tells the whole design."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.orm import Session

from . import deadlines
from field.core.pages import keyed
from field.core.calendar import calendar_for
from field.core.errors import Conflict, FieldProblem, InvalidInput, InvalidTransition, NotAllowed
from field.core.models.base import utcnow
from field.core.models.platform import OFFICE_ROLES, Jurisdiction, Role, User
from field.core.models.records import FieldRecord
from field.core.office import office_today
from field.core.scope import get_one, in_scope, jurisdiction_in_scope, resolve_jurisdiction, visible_records_predicate
from field.core.queries import narrowed

from .models import (
    Case,
    CaseGate,
    CaseKind,
    CaseSource,
    CaseState,
    CaseSubject,
    ComplainantContact,
    Complaint,
    ComplaintChannel,
    DelayNotice,
    Gate,
)
from .numbering import _allocate, area_code
from .parties import _subject, _subject_data
from .rules import _log, _require_office, _require_open
from .time_limits import time_limits
from .view import case_evidence


#: The only way a case's state moves; an ended case moves no more.
TRANSITIONS: dict[CaseState, tuple[CaseState, ...]] = {
    CaseState.opened: (CaseState.investigating, CaseState.dismissed),
    CaseState.investigating: (CaseState.deciding, CaseState.dismissed),
    CaseState.deciding: (CaseState.rectifying, CaseState.dismissed),
    CaseState.rectifying: (CaseState.closed, CaseState.dismissed),
    CaseState.closed: (),
    CaseState.dismissed: (),
}


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class GatesMissing(InvalidTransition):
    """Closing refused: not all four don't-let-go are recorded (409 invalid-transition)."""

    def __init__(self, current: str, allowed: list[str], missing: list[str]):
        super().__init__(current, CaseState.closed.value, allowed)
        self.detail = (f"A case closes only when the four don't-let-go (四个不放过) are recorded; "
                       f"missing: {', '.join(missing)}.")
        self.args = (self.detail,)
        self.extra["missing_gates"] = missing


# -- reading --------------------------------------------------------------------------------


def overdue_predicate(today: date) -> ColumnElement[bool]:
    """SQL: the case still runs and its effective deadline is behind ``today`` (the office's date)."""
    return and_(Case.ended_on.is_(None), Case.effective_deadline < today)


@keyed(Case.opened_at, Case.id, descending=True)
def cases_query(actor: User, *, state: CaseState | None = None, kind: CaseKind | None = None,
                overdue: bool | None = None, handler_id: uuid.UUID | None = None, year: int | None = None,
                unit_id: uuid.UUID | None = None, person_id: uuid.UUID | None = None,
                jurisdiction_id: uuid.UUID | None = None, today: date | None = None) -> Select:
    """The cases in the actor's scope, filtered; the caller orders and pages."""
    _require_office(actor)
    stmt = select(Case).where(in_scope(Case.jurisdiction_id, actor))
    if state is not None:
        stmt = stmt.where(Case.state == CaseState(state))
    if kind is not None:
        stmt = stmt.where(Case.kind == CaseKind(kind))
    if overdue is not None:
        predicate = overdue_predicate(today or office_today())
        stmt = stmt.where(predicate if overdue else ~predicate)
    stmt = narrowed(stmt, (Case.handler_id, handler_id), (Case.year, year))
    if unit_id is not None:
        stmt = stmt.where(Case.id.in_(select(CaseSubject.case_id).where(CaseSubject.unit_id == unit_id)))
    if person_id is not None:
        stmt = stmt.where(Case.id.in_(select(CaseSubject.case_id).where(CaseSubject.person_id == person_id)))
    if jurisdiction_id is not None:
        stmt = stmt.where(Case.jurisdiction_id.in_(_subtree_of(jurisdiction_id)))
    return stmt


def _subtree_of(jurisdiction_id: uuid.UUID) -> Select:
    """Ids of a jurisdiction and everything below it, as a subquery (paths hold only digits and slashes)."""
    top = select(Jurisdiction.path).where(Jurisdiction.id == jurisdiction_id).scalar_subquery()
    return select(Jurisdiction.id).where(Jurisdiction.path.like(top.concat("%")))


def get_case(session: Session, actor: User, case_id: uuid.UUID) -> Case:
    _require_office(actor)
    return get_one(session, Case, case_id, "case", in_scope(Case.jurisdiction_id, actor))


def missing_gates(case: Case) -> list[Gate]:
    recorded = {g.gate for g in case.gates}
    return [g for g in Gate if g not in recorded]


def allowed_transitions(case: Case) -> list[CaseState]:
    """Where the case may go now: closing only once all four gates are recorded."""
    return [s for s in TRANSITIONS[case.state] if s is not CaseState.closed or not missing_gates(case)]


# -- opening --------------------------------------------------------------------------------


def _office_user(session: Session, actor: User, user_id: uuid.UUID, jurisdiction: Jurisdiction,
                 field_name: str) -> User:
    """An office account in the actor's scope that can see cases of ``jurisdiction``."""
    user = session.get(User, user_id)
    if user is None or not jurisdiction_in_scope(user.jurisdiction, actor):
        raise InvalidInput(field_name, "No such user.")
    if user.role not in OFFICE_ROLES or user.disabled:
        raise InvalidInput(field_name, "A case is handled by an active reviewer or admin of the office.")
    if not jurisdiction_in_scope(jurisdiction, user):
        raise InvalidInput(field_name, "This user's jurisdiction does not cover the case.")
    return user


def _record_in_scope(session: Session, actor: User, record_id: uuid.UUID, field_name: str) -> FieldRecord:
    record = session.execute(select(FieldRecord).where(
        FieldRecord.id == record_id, visible_records_predicate(actor))).scalar_one_or_none()
    if record is None:
        raise InvalidInput(field_name, "No such record.")
    return record


def _link_source(session: Session, actor: User, case: Case, record: FieldRecord) -> CaseSource:
    position = max((s.position for s in case.sources), default=0) + 1
    source = CaseSource(case_id=case.id, record_id=record.id, record_kind=record.kind, position=position,
                        linked_by_id=actor.id, linked_at=utcnow())
    case.sources.append(source)
    return source


@dataclass(frozen=True)
class ComplaintInput:
    channel: ComplaintChannel
    received_at: datetime
    text: str
    complainant_name: str | None = None
    complainant_contact: str | None = None


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def open_case(session: Session, actor: User, *, kind: CaseKind, title: str, summary: str = "",
              source_record_ids: Iterable[uuid.UUID] = (), complaint: ComplaintInput | None = None,
              subjects: Iterable[dict] = (), handler_id: uuid.UUID | None = None,
              jurisdiction_id: uuid.UUID | None = None, opened_on: date | None = None,
              today: date | None = None, origin: dict | None = None) -> Case:
    """Open a case from field records and/or a complaint the office took; number it and start its clock.

    ``origin``: what the case comes from when that is not a field record (an approval alert, a broken
    commitment, an overdue problem of a key project): named in the opening custody entry; the
    originating row keeps the case's id.

    ``opened_on`` (default today) may be an earlier day, for a case opened on paper first;
    the time limit counts from it.
    """
    _require_office(actor)
    today = today or office_today()
    kind = CaseKind(kind)
    jurisdiction = (resolve_jurisdiction(session, actor, jurisdiction_id) if jurisdiction_id
                    else actor.jurisdiction)
    opened_on = opened_on or today
    if opened_on > today:
        raise InvalidInput("opened_on", "A case cannot be opened on a future day.")
    title = title.strip()
    if not title:
        raise InvalidInput("title", "Required.")
    record_ids = list(dict.fromkeys(source_record_ids))
    if not record_ids and complaint is None and not origin:
        raise InvalidInput("source_record_ids", "A case is opened from at least one record or from a complaint.")
    records = [_record_in_scope(session, actor, rid, f"source_record_ids.{i}") for i, rid in enumerate(record_ids)]
    if complaint is not None:
        if complaint.received_at > utcnow():
            raise InvalidInput("complaint.received_at", "A complaint cannot be received in the future.")
        if not complaint.text.strip():
            raise InvalidInput("complaint.text", "Required.")
    handler = (_office_user(session, actor, handler_id, jurisdiction, "handler_id") if handler_id
               else _office_user(session, actor, actor.id, jurisdiction, "handler_id"))

    limit = next(t.working_days for t in time_limits(session, actor, jurisdiction) if t.kind is kind)
    reckoned = deadlines.deadline_of(calendar_for(session, jurisdiction), opened_on, limit)
    deadline = reckoned.value
    area = area_code(jurisdiction)
    seq = _allocate(session, area, opened_on.year)
    now = utcnow()
    case = Case(number=f"{opened_on.year}-{area}-{seq:04d}", area_code=area, year=opened_on.year, seq=seq,
                kind=kind, title=title, summary=(summary or "").strip(), state=CaseState.opened,
                jurisdiction_id=jurisdiction.id, jurisdiction=jurisdiction, opened_by_id=actor.id,
                opened_by=actor, handler_id=handler.id, handler=handler, opened_at=now, opened_on=opened_on,
                time_limit_days=limit, deadline=deadline, effective_deadline=deadline,
                deadline_provisional=reckoned.provisional,
                sources=[], subjects=[], delay_notices=[], gates=[], dispositions=[], notices=[])
    session.add(case)
    session.flush()
    for record in records:
        _link_source(session, actor, case, record)
    for i, named in enumerate(subjects):
        _subject(session, actor, case, named.get("unit_id"), named.get("person_id"), f"subjects.{i}.")
    if complaint is not None:
        row = Complaint(case_id=case.id, jurisdiction_id=jurisdiction.id, channel=ComplaintChannel(complaint.channel),
                        received_at=complaint.received_at, text=complaint.text.strip(), taken_by_id=actor.id)
        case.complaint = row
        session.flush()
        name, contact = _clean(complaint.complainant_name), _clean(complaint.complainant_contact)
        if name or contact:
            session.add(ComplainantContact(complaint_id=row.id, jurisdiction_id=jurisdiction.id, name=name,
                                           contact=contact))
    session.flush()
    _log(session, case, "case.opened", actor, number=case.number, kind=kind.value, title=title,
         handler_id=handler.id, opened_on=opened_on.isoformat(), time_limit_days=limit,
         deadline=deadline.isoformat(), **({"deadline_provisional": True} if reckoned.provisional else {}),
         sources=[{"record_id": r.id, "kind": r.kind} for r in records],
         subjects=[_subject_data(s) for s in case.subjects],
         complaint={"channel": case.complaint.channel.value} if case.complaint else None,
         **({"origin": origin} if origin else {}))
    return case


# -- changing -------------------------------------------------------------------------------


def update_case(session: Session, actor: User, case: Case, changes: dict) -> Case:
    """Title, summary, handler of a running case."""
    _require_open(case, "changing it")
    before = {"title": case.title, "summary": case.summary, "handler_id": case.handler_id}
    if "title" in changes:
        title = changes["title"].strip()
        if not title:
            raise InvalidInput("title", "Required.")
        case.title = title
    if "summary" in changes:
        case.summary = (changes["summary"] or "").strip()
    if "handler_id" in changes:
        handler = _office_user(session, actor, changes["handler_id"], case.jurisdiction, "handler_id")
        case.handler_id, case.handler = handler.id, handler
    after = {"title": case.title, "summary": case.summary, "handler_id": case.handler_id}
    changed = {k: after[k] for k in after if after[k] != before[k]}
    if changed:
        case.updated_at = utcnow()
        session.flush()
        if "summary" in changed:
            # The summary can be long: the log keeps its hash, the case row keeps the text.
            changed["summary_sha256"] = hashlib.sha256(changed.pop("summary").encode()).hexdigest()
        _log(session, case, "case.updated", actor, **changed)
    return case


def add_source(session: Session, actor: User, case: Case, record_id: uuid.UUID) -> CaseSource:
    _require_open(case, "linking records")
    record = _record_in_scope(session, actor, record_id, "record_id")
    if any(s.record_id == record.id for s in case.sources):
        raise Conflict("This record is linked to the case already.",
                       fields=[FieldProblem("record_id", "Already a source of this case.")])
    source = _link_source(session, actor, case, record)
    session.flush()
    _log(session, case, "case.source_added", actor, record_id=record.id, kind=record.kind)
    return source


def transition(session: Session, actor: User, case: Case, to: CaseState, reason: str | None = None,
               today: date | None = None) -> Case:
    """Move the case on; closing needs the four gates, dismissing a reason."""
    to = CaseState(to)
    allowed = TRANSITIONS[case.state]
    if to not in allowed:
        raise InvalidTransition(case.state.value, to.value, [s.value for s in allowed_transitions(case)])
    if to is CaseState.closed and missing_gates(case):
        raise GatesMissing(case.state.value, [s.value for s in allowed_transitions(case)],
                           [g.value for g in missing_gates(case)])
    reason = _clean(reason)
    if to is CaseState.dismissed and not reason:
        raise InvalidInput("reason", "Say why the case is dismissed.")
    before = case.state
    case.state = to
    if to in (CaseState.closed, CaseState.dismissed):
        today = today or office_today()
        ended_on = max(today, case.opened_on)
        case.ended_on, case.ended_at = ended_on, utcnow()
        handling = deadlines.handling_of(calendar_for(session, case.jurisdiction), case.opened_on, ended_on)
        case.handling_working_days, case.handling_days_provisional = handling.value, handling.provisional
        case.ended_late = ended_on > case.effective_deadline
        if to is CaseState.closed:
            case.closed_on = ended_on
        else:
            case.dismissed_reason = reason
    case.updated_at = utcnow()
    session.flush()
    data = {"from": before.value, "to": to.value}
    if reason:
        data["reason"] = reason
    if case.ended_on:
        data.update(ended_on=case.ended_on.isoformat(), handling_working_days=case.handling_working_days)
        if case.handling_days_provisional:
            data["handling_days_provisional"] = True
    _log(session, case, "case.state_changed", actor, **data)
    return case


def record_delay_notice(session: Session, actor: User, case: Case, *, reason: str, new_deadline: date,
                        today: date | None = None) -> DelayNotice:
    """The handler's 滞办告知书: kept as given; the case's effective deadline becomes ``new_deadline``."""
    if actor.id != case.handler_id and actor.role is not Role.admin:
        raise NotAllowed("Only the case's handler (or an admin) gives a delay notice.")
    _require_open(case, "a delay notice")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason", "Say why the case will miss its deadline.")
    today = today or office_today()
    if new_deadline <= case.effective_deadline:
        raise InvalidInput("new_deadline", f"Must be after the current deadline, "
                                           f"{case.effective_deadline.isoformat()}.")
    if new_deadline < today:
        raise InvalidInput("new_deadline", "Must not be in the past.")
    notice = DelayNotice(case_id=case.id, reason=reason, handler_id=case.handler_id, handler=case.handler,
                         previous_deadline=case.effective_deadline, new_deadline=new_deadline,
                         recorded_at=utcnow(), late=today > case.effective_deadline)
    case.delay_notices.append(notice)
    case.effective_deadline = new_deadline
    case.updated_at = utcnow()
    session.flush()
    _log(session, case, "case.delay_notice", actor, notice_id=notice.id, reason=reason,
         handler_id=notice.handler_id, previous_deadline=notice.previous_deadline.isoformat(),
         new_deadline=new_deadline.isoformat(), late=notice.late)
    return notice


def record_gate(session: Session, actor: User, case: Case, *, gate: Gate, note: str,
                evidence: list[str]) -> CaseGate:
    """One of the four don't-let-go, with its supporting evidence (SHA-256s of the case's evidence)."""
    _require_open(case, "recording a gate")
    gate = Gate(gate)
    note = (note or "").strip()
    if not note:
        raise InvalidInput("note", "Say how this is established.")
    if not evidence:
        raise InvalidInput("evidence", "Name at least one piece of supporting evidence (its SHA-256).")
    known = {item.sha256 for item in case_evidence(session, case)}
    for i, sha in enumerate(evidence):
        if not _SHA256.match(sha or ""):
            raise InvalidInput(f"evidence.{i}", "A SHA-256: 64 lowercase hexadecimal characters.")
        if sha not in known:
            raise InvalidInput(f"evidence.{i}", "Not evidence of this case: attach it to the case or to one of "
                                                "its source records first.")
    if any(g.gate is gate for g in case.gates):
        raise Conflict(f"{gate.value} is recorded already.", fields=[FieldProblem("gate", "Already recorded.")])
    row = CaseGate(case_id=case.id, gate=gate, note=note, evidence=list(dict.fromkeys(evidence)),
                   recorded_by_id=actor.id, recorded_by=actor, recorded_at=utcnow())
    case.gates.append(row)
    session.flush()
    _log(session, case, "case.gate_recorded", actor, gate=gate.value, note=note, evidence=row.evidence)
    return row
