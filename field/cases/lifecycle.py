"""Accountability cases (问责 / 效能案件): from findings, reports and complaints to closure, on the clock.

Models (field/models/cases.py). ``Case`` is an office object (not a phone record), scoped by
jurisdiction, numbered ``<year>-<area>-<seq>`` (``2026-500107-0012``): the year of opening,
the 6-digit division code of the case's district (a street's case is numbered in its
district) and a 4-digit sequence per area and year from ``case_counters``, whose row is
locked (``SELECT … FOR UPDATE``; SQLite serialises writers with ``BEGIN IMMEDIATE``) in the
transaction that inserts the case: a rolled-back opening gives its number back, so numbers
have neither gaps nor duplicates. Around it:

- ``case_sources``: field records of any kind (finding, report, inspection, callback …), by
  ``field_records.id``; the kind is read from the envelope, so no record module is imported.
- ``case_complaints`` + ``case_complainant_contacts``: a complaint taken by phone, letter,
  visit or online; who complained sits in its own table, read only by
  ``unmask_complainant`` (admins, with a reason, written to the custody log).
- ``case_subjects``: units and persons of the directory (in scope; a person carries their unit).
- the clock: ``opened_on`` (office day, Asia/Shanghai) + the kind's limit in working days
  (``DEFAULT_TIME_LIMITS``, overridable per jurisdiction in ``case_time_limits``, snapshot on
  the case as ``time_limit_days``) on ``field.calendar.calendar_for`` gives ``deadline``;
  ``case_delay_notices`` (滞办告知书) are appended, never changed, and the latest new date is
  the ``effective_deadline``. Overdue: not ended and ``effective_deadline`` < today.
- states: opened → investigating → deciding → rectifying → closed, and dismissed (with a
  reason) from any open state; ``InvalidTransition`` (409) names the allowed ones.
- ``case_gates``: the four don't-let-go, each once, with note, who, when and evidence
  (SHA-256s of evidence attached to the case's sources or to the case). Closing without
  all four raises ``GatesMissing`` (409 invalid-transition, ``missing_gates`` listed).
- ``case_dispositions``: per person (rank snapshot at decision) or per unit, with date and
  deciding authority; disciplinary sanctions with their system and grade.
- ``case_notices``: 通报 text and date, refused (422 on ``text``) when it contains a monitor's
  real name or phone, or a complainant's name or contact, of the case's jurisdictions.

Endpoints (api/cases.py, all under /api/v1, office staff only): ``cases`` (list with
``?overdue=true``, open), ``cases/export.csv`` and ``.geojson``, ``cases/<id>`` (view,
change), ``…/transitions``, ``…/sources``, ``…/subjects[/<id>]``, ``…/delay-notices``,
``…/gates``, ``…/dispositions``, ``…/notices``, ``…/timeline``, ``…/evidence[.zip]``,
``…/complainant`` (admins' unmask), ``case-kinds[/<kind>]`` (time limits). docs/cases.md
tells the whole story, the verification of an evidence ZIP included.

Data flow. Every verb here takes the session and the acting user, checks the role (office
staff only: anyone else gets the same NotFound as for a missing case), changes rows,
flushes and appends one custody entry (``subject_type="case"``), which is what the
timeline reads. Nothing commits; api/cases.py commits once per request.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Iterable

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from field.custody import chain as custody

from field.core import geo
from field.core.calendar import calendar_for
from field.core.locations import Location
from field.core.errors import Conflict, FieldProblem, InvalidInput, InvalidTransition, NotAllowed, NotFound
from field.core.models.platform import OFFICE_ROLES, Jurisdiction, Role, User
from field.core.models.records import FieldRecord
from field.core.models.base import utcnow
from .models import (
    OPEN_STATES,
    PERSON_DISPOSITIONS,
    SANCTION_GRADES,
    Case,
    CaseCounter,
    CaseGate,
    CaseKind,
    CaseSource,
    CaseState,
    CaseSubject,
    CaseTimeLimit,
    ComplainantContact,
    Complaint,
    ComplaintChannel,
    DelayNotice,
    Disposition,
    DispositionKind,
    Gate,
    PublicNotice,
    SanctionGrade,
    SanctionSystem,
)
from field.custody.models import CustodyEntry
from field.directory.models import MonitorIdentity, Person, Unit
from field.core.scope import get_one, in_scope, jurisdiction_in_scope, resolve_jurisdiction, visible_records_predicate
from field.core.office import office_today
from field.core.scoped import live


#: Working days each kind of case is given when no office has set its own (``case_time_limits``).
DEFAULT_TIME_LIMITS: dict[CaseKind, int] = {
    CaseKind.efficiency_complaint: 15,
    CaseKind.work_style: 15,
    CaseKind.arbitrary_charges: 15,
    CaseKind.inspection_irregularity: 15,
    CaseKind.discipline: 30,
}

#: The only way a case's state moves; an ended case moves no more.
TRANSITIONS: dict[CaseState, tuple[CaseState, ...]] = {
    CaseState.opened: (CaseState.investigating, CaseState.dismissed),
    CaseState.investigating: (CaseState.deciding, CaseState.dismissed),
    CaseState.deciding: (CaseState.rectifying, CaseState.dismissed),
    CaseState.rectifying: (CaseState.closed, CaseState.dismissed),
    CaseState.closed: (),
    CaseState.dismissed: (),
}

#: States in which outcomes (dispositions) are decided.
DECIDING_STATES = frozenset({CaseState.deciding, CaseState.rectifying})
#: States in which a public notice may be recorded: once something has been decided.
NOTICE_STATES = frozenset({CaseState.deciding, CaseState.rectifying, CaseState.closed})

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class GatesMissing(InvalidTransition):
    """Closing refused: not all four don't-let-go are recorded (409 invalid-transition)."""

    def __init__(self, current: str, allowed: list[str], missing: list[str]):
        super().__init__(current, CaseState.closed.value, allowed)
        self.detail = (f"A case closes only when the four don't-let-go (四个不放过) are recorded; "
                       f"missing: {', '.join(missing)}.")
        self.args = (self.detail,)
        self.extra["missing_gates"] = missing


# -- who may --------------------------------------------------------------------------------


def _require_office(actor: User) -> None:
    """Cases exist only for the office: to anyone else every case is absent."""
    if actor.role not in OFFICE_ROLES:
        raise NotFound("case")


def _require_open(case: Case, doing: str) -> None:
    if case.state not in OPEN_STATES:
        raise Conflict(f"Case {case.number} is {case.state.value}; {doing} is no longer possible.")


# -- time limits ----------------------------------------------------------------------------


def _chain(session: Session, jurisdiction: Jurisdiction) -> list[uuid.UUID]:
    """The jurisdiction and those above it, from the top down."""
    codes = [c for c in jurisdiction.path.strip("/").split("/") if c]
    rows = dict(session.execute(select(Jurisdiction.code, Jurisdiction.id).where(Jurisdiction.code.in_(codes))).all())
    return [rows[c] for c in codes if c in rows]


@dataclass(frozen=True)
class TimeLimit:
    kind: CaseKind
    working_days: int
    default_working_days: int
    #: Where the limit was set (a jurisdiction id), None for the built-in default.
    set_in: uuid.UUID | None


def time_limits(session: Session, actor: User, jurisdiction: Jurisdiction | None = None) -> list[TimeLimit]:
    """Each kind's limit in ``jurisdiction`` (default: the actor's): the lowest level that set one wins."""
    _require_office(actor)
    jurisdiction = jurisdiction or actor.jurisdiction
    chain = _chain(session, jurisdiction)
    depth = {jid: i for i, jid in enumerate(chain)}
    best: dict[CaseKind, CaseTimeLimit] = {}
    for row in session.execute(select(CaseTimeLimit).where(CaseTimeLimit.jurisdiction_id.in_(chain))).scalars():
        if row.kind not in best or depth[best[row.kind].jurisdiction_id] < depth[row.jurisdiction_id]:
            best[row.kind] = row
    return [TimeLimit(kind, best[kind].working_days if kind in best else DEFAULT_TIME_LIMITS[kind],
                      DEFAULT_TIME_LIMITS[kind], best[kind].jurisdiction_id if kind in best else None)
            for kind in CaseKind]


def set_time_limit(session: Session, actor: User, kind: CaseKind, working_days: int | None) -> TimeLimit:
    """An admin sets (or, with None, removes) the limit of ``kind`` for their jurisdiction and below.

    Running cases keep the limit they were opened with.
    """
    _require_office(actor)
    if actor.role is not Role.admin:
        raise NotAllowed("Only an admin sets the time limits of cases.")
    kind = CaseKind(kind)
    row = session.get(CaseTimeLimit, (actor.jurisdiction_id, kind))
    if working_days is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(CaseTimeLimit(jurisdiction_id=actor.jurisdiction_id, kind=kind, working_days=working_days,
                                  updated_by_id=actor.id, updated_at=utcnow()))
    else:
        row.working_days, row.updated_by_id, row.updated_at = working_days, actor.id, utcnow()
    session.flush()
    return next(t for t in time_limits(session, actor) if t.kind is kind)


# -- reading --------------------------------------------------------------------------------


def overdue_predicate(today: date) -> ColumnElement[bool]:
    """SQL: the case still runs and its effective deadline is behind ``today`` (the office's date)."""
    return and_(Case.ended_on.is_(None), Case.effective_deadline < today)


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
    if handler_id is not None:
        stmt = stmt.where(Case.handler_id == handler_id)
    if year is not None:
        stmt = stmt.where(Case.year == year)
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


def _log(session: Session, case: Case, event: str, actor: User, device_id: uuid.UUID | None = None,
         **data) -> CustodyEntry:
    return custody.record(session, jurisdiction_id=case.jurisdiction_id, kind=event, subject_type="case",
                          subject_id=case.id, actor=actor, device_id=device_id, data=data)


def area_code(jurisdiction: Jurisdiction) -> str:
    """The 6-digit division code a jurisdiction's cases are numbered in (a street's: its district's)."""
    return jurisdiction.code[:6]


def _allocate(session: Session, area: str, year: int) -> int:
    """The next sequence number of ``area`` and ``year``, under a row lock held until commit."""
    stmt = (select(CaseCounter).where(CaseCounter.area_code == area, CaseCounter.year == year)
            .with_for_update().execution_options(populate_existing=True))
    counter = session.execute(stmt).scalar_one_or_none()
    if counter is None:
        try:
            with session.begin_nested():
                session.add(CaseCounter(area_code=area, year=year, last_seq=0))
        except IntegrityError:
            pass  # another transaction made this year's counter first: lock theirs
        counter = session.execute(stmt).scalar_one()
    if counter.last_seq >= 9999:
        raise Conflict(f"All 9999 case numbers of {area} in {year} are used.")
    counter.last_seq += 1
    session.flush()
    return counter.last_seq


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


def _subject(session: Session, actor: User, case: Case, unit_id: uuid.UUID | None, person_id: uuid.UUID | None,
             field_prefix: str) -> CaseSubject:
    if (unit_id is None) == (person_id is None):
        raise InvalidInput(f"{field_prefix}unit_id", "Name either a unit (unit_id) or a person (person_id).")
    if person_id is not None:
        person = session.execute(select(Person).where(Person.id == person_id, live(Person),
                                                      in_scope(Person.jurisdiction_id, actor))).scalar_one_or_none()
        if person is None:
            raise InvalidInput(f"{field_prefix}person_id", "No such person.")
        key, unit, who = f"person:{person.id}", person.unit, person
    else:
        unit = session.execute(select(Unit).where(Unit.id == unit_id, live(Unit),
                                                  in_scope(Unit.jurisdiction_id, actor))).scalar_one_or_none()
        if unit is None:
            raise InvalidInput(f"{field_prefix}unit_id", "No such unit.")
        key, who = f"unit:{unit.id}", None
    if any(s.subject_key == key for s in case.subjects):
        raise Conflict("This subject is named in the case already.",
                       fields=[FieldProblem(f"{field_prefix}{'person_id' if who else 'unit_id'}", "Already a subject.")])
    subject = CaseSubject(case_id=case.id, subject_key=key, unit_id=unit.id, unit=unit,
                          person_id=who.id if who else None, person=who, added_by_id=actor.id, added_at=utcnow())
    case.subjects.append(subject)
    return subject


def _subject_data(subject: CaseSubject) -> dict:
    return {"subject_id": subject.id, "unit_id": subject.unit_id, "person_id": subject.person_id}


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
              today: date | None = None) -> Case:
    """Open a case from field records and/or a complaint the office took; number it and start its clock.

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
    if not record_ids and complaint is None:
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
    deadline = calendar_for(session, jurisdiction).add_working_days(opened_on, limit)
    area = area_code(jurisdiction)
    seq = _allocate(session, area, opened_on.year)
    now = utcnow()
    case = Case(number=f"{opened_on.year}-{area}-{seq:04d}", area_code=area, year=opened_on.year, seq=seq,
                kind=kind, title=title, summary=(summary or "").strip(), state=CaseState.opened,
                jurisdiction_id=jurisdiction.id, jurisdiction=jurisdiction, opened_by_id=actor.id,
                opened_by=actor, handler_id=handler.id, handler=handler, opened_at=now, opened_on=opened_on,
                time_limit_days=limit, deadline=deadline, effective_deadline=deadline,
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
         deadline=deadline.isoformat(), sources=[{"record_id": r.id, "kind": r.kind} for r in records],
         subjects=[_subject_data(s) for s in case.subjects],
         complaint={"channel": case.complaint.channel.value} if case.complaint else None)
    return case


# -- changing -------------------------------------------------------------------------------


def update_case(session: Session, actor: User, case: Case, changes: dict) -> Case:
    """Title, summary, handler of a running case."""
    _require_office(actor)
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
    _require_office(actor)
    _require_open(case, "linking records")
    record = _record_in_scope(session, actor, record_id, "record_id")
    if any(s.record_id == record.id for s in case.sources):
        raise Conflict("This record is linked to the case already.",
                       fields=[FieldProblem("record_id", "Already a source of this case.")])
    source = _link_source(session, actor, case, record)
    session.flush()
    _log(session, case, "case.source_added", actor, record_id=record.id, kind=record.kind)
    return source


def add_subject(session: Session, actor: User, case: Case, *, unit_id: uuid.UUID | None = None,
                person_id: uuid.UUID | None = None) -> CaseSubject:
    _require_office(actor)
    _require_open(case, "naming subjects")
    subject = _subject(session, actor, case, unit_id, person_id, "")
    session.flush()
    _log(session, case, "case.subject_added", actor, **_subject_data(subject))
    return subject


def _disposes_of(disposition: Disposition, subject: CaseSubject) -> bool:
    if subject.person_id is not None:
        return disposition.person_id == subject.person_id
    return disposition.person_id is None and disposition.unit_id == subject.unit_id


def remove_subject(session: Session, actor: User, case: Case, subject_id: uuid.UUID) -> None:
    _require_office(actor)
    subject = next((s for s in case.subjects if s.id == subject_id), None)
    if subject is None:
        raise NotFound("subject")
    _require_open(case, "removing subjects")
    if any(_disposes_of(d, subject) for d in case.dispositions):
        raise Conflict("A disposition was recorded against this subject; it stays in the case.")
    data = _subject_data(subject)
    case.subjects.remove(subject)
    session.delete(subject)
    session.flush()
    _log(session, case, "case.subject_removed", actor, **data)


def transition(session: Session, actor: User, case: Case, to: CaseState, reason: str | None = None,
               today: date | None = None) -> Case:
    """Move the case on; closing needs the four gates, dismissing a reason."""
    _require_office(actor)
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
        case.handling_working_days = calendar_for(session, case.jurisdiction).working_days_between(
            case.opened_on, ended_on)
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
    _log(session, case, "case.state_changed", actor, **data)
    return case


def record_delay_notice(session: Session, actor: User, case: Case, *, reason: str, new_deadline: date,
                        today: date | None = None) -> DelayNotice:
    """The handler's 滞办告知书: kept as given; the case's effective deadline becomes ``new_deadline``."""
    _require_office(actor)
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
    _require_office(actor)
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


def record_disposition(session: Session, actor: User, case: Case, *, kind: DispositionKind, decided_on: date,
                       authority: str, person_id: uuid.UUID | None = None, unit_id: uuid.UUID | None = None,
                       sanction_system: SanctionSystem | None = None, grade: SanctionGrade | None = None,
                       note: str = "", today: date | None = None) -> Disposition:
    """An outcome for a person or a unit named in the case; the person's rank is copied as it is now."""
    _require_office(actor)
    kind = DispositionKind(kind)
    if case.state not in DECIDING_STATES:
        raise Conflict(f"Dispositions are recorded while a case is deciding or rectifying; "
                       f"{case.number} is {case.state.value}.")
    if kind in PERSON_DISPOSITIONS:
        if person_id is None or unit_id is not None:
            raise InvalidInput("person_id", f"{kind.value} is decided about a person: give person_id only.")
        subject = next((s for s in case.subjects if s.person_id == person_id), None)
        if subject is None:
            raise InvalidInput("person_id", "Not a subject of this case: name the person in the case first.")
    else:
        if unit_id is None or person_id is not None:
            raise InvalidInput("unit_id", f"{kind.value} is decided about a unit: give unit_id only.")
        subject = next((s for s in case.subjects if s.person_id is None and s.unit_id == unit_id), None)
        if subject is None:
            raise InvalidInput("unit_id", "Not a subject of this case: name the unit in the case first.")
    if kind is DispositionKind.disciplinary_sanction:
        if sanction_system is None:
            raise InvalidInput("sanction_system", "A disciplinary sanction is administrative (政务处分) or party "
                                                  "(党纪处分).")
        sanction_system = SanctionSystem(sanction_system)
        grades = SANCTION_GRADES[sanction_system]
        if grade is None or SanctionGrade(grade) not in grades:
            raise InvalidInput("grade", f"One of {', '.join(g.value for g in grades)} for {sanction_system.value}.")
        grade = SanctionGrade(grade)
    elif sanction_system is not None or grade is not None:
        raise InvalidInput("grade", "Only a disciplinary sanction has a system and a grade.")
    if decided_on > (today or office_today()):
        raise InvalidInput("decided_on", "A decision cannot be dated in the future.")
    authority = (authority or "").strip()
    if not authority:
        raise InvalidInput("authority", "Name the authority that decided.")
    person = subject.person
    if person is not None:
        # The person's unit and rank today: where they worked and what they were when decided.
        session.refresh(person, ["unit_id", "rank"])
    row = Disposition(case_id=case.id, jurisdiction_id=case.jurisdiction_id, kind=kind,
                      person_id=person.id if person else None, person=person,
                      unit_id=person.unit_id if person else subject.unit_id,
                      rank_at_decision=person.rank if person else None, sanction_system=sanction_system,
                      grade=grade, decided_on=decided_on, authority=authority, note=(note or "").strip(),
                      recorded_by_id=actor.id, recorded_at=utcnow())
    case.dispositions.append(row)
    session.flush()
    _log(session, case, "case.disposition_recorded", actor, disposition_id=row.id, kind=kind.value,
         person_id=row.person_id, unit_id=row.unit_id,
         rank_at_decision=row.rank_at_decision.value if row.rank_at_decision else None,
         sanction_system=sanction_system.value if sanction_system else None,
         grade=grade.value if grade else None, decided_on=decided_on.isoformat(), authority=authority)
    return row


# -- public notice --------------------------------------------------------------------------


def _folded(text: str) -> str:
    """Text as compared: NFKC (full-width → half-width), case-folded, without spaces and separators."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s\u00b7\u2022\u30fb.,，。、\-_/()（）]", "", text)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", text))


def _looks_like_phone(value: str) -> bool:
    digits = _digits(value)
    return len(digits) >= 7 and len(digits) >= 0.6 * len(_folded(value))


def _related_jurisdictions(jurisdiction: Jurisdiction) -> ColumnElement[bool]:
    """The case's jurisdiction, everything below it and everything above it."""
    codes = [c for c in jurisdiction.path.strip("/").split("/") if c]
    return or_(Jurisdiction.path.startswith(jurisdiction.path, autoescape=True), Jurisdiction.code.in_(codes))


def _confidential_values(session: Session, case: Case) -> Iterable[str]:
    """Every monitor's real name and phone and every complainant's name and contact near the case."""
    related = select(Jurisdiction.id).where(_related_jurisdictions(case.jurisdiction))
    monitors = session.execute(
        select(MonitorIdentity.real_name, MonitorIdentity.phone)
        .join(User, User.id == MonitorIdentity.user_id).where(User.jurisdiction_id.in_(related)))
    for name, phone in monitors:
        yield name
        yield phone
    contacts = session.execute(select(ComplainantContact.name, ComplainantContact.contact)
                               .where(ComplainantContact.jurisdiction_id.in_(related)))
    for name, contact in contacts:
        yield name
        yield contact


def names_confidential_identity(session: Session, case: Case, text: str) -> bool:
    """Whether ``text`` contains a confidential name or phone number (matched loosely: spacing,
    full-width digits and separators inside phone numbers do not hide one)."""
    folded, digits = _folded(text), _digits(text)
    for value in _confidential_values(session, case):
        if not value or not value.strip():
            continue
        if _looks_like_phone(value):
            if _digits(value) in digits:
                return True
        else:
            needle = _folded(value)
            if len(needle) >= 2 and needle in folded:
                return True
    return False


def issue_notice(session: Session, actor: User, case: Case, *, text: str, issued_on: date,
                 today: date | None = None) -> PublicNotice:
    """Record the decision to publish a notice (通报) of the case, with its text."""
    _require_office(actor)
    if case.state not in NOTICE_STATES:
        raise Conflict(f"A notice is published once something is decided; {case.number} is {case.state.value}.")
    text = (text or "").strip()
    if not text:
        raise InvalidInput("text", "Required.")
    if issued_on > (today or office_today()):
        raise InvalidInput("issued_on", "A notice cannot be dated in the future.")
    if names_confidential_identity(session, case, text):
        # Never say which identity: the error itself would disclose it.
        raise InvalidInput("text", "The text names a confidential person (a monitor or a complainant): "
                                   "remove their name and phone number.")
    notice = PublicNotice(case_id=case.id, text=text, issued_on=issued_on, recorded_by_id=actor.id,
                          recorded_at=utcnow())
    case.notices.append(notice)
    session.flush()
    _log(session, case, "case.notice_issued", actor, notice_id=notice.id, issued_on=issued_on.isoformat(),
         text_sha256=hashlib.sha256(text.encode()).hexdigest())
    return notice


# -- the complainant ------------------------------------------------------------------------


def unmask_complainant(session: Session, actor: User, case: Case, *, reason: str,
                       device_id: uuid.UUID | None = None) -> ComplainantContact:
    """Who complained, for an admin, with the disclosure appended to the custody log in the same transaction."""
    _require_office(actor)
    if actor.role is not Role.admin:
        raise NotAllowed("Only an admin may see who complained.")
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise InvalidInput("reason", "Say why you need to know who complained.")
    contact = None
    if case.complaint is not None:
        contact = session.get(ComplainantContact, case.complaint.id)
    if contact is None:
        raise NotFound("complainant")
    _log(session, case, "case.complainant_unmasked", actor, device_id=device_id, reason=reason)
    return contact


def has_complainant_contact(session: Session, case: Case) -> bool:
    if case.complaint is None:
        return False
    return session.execute(select(func.count()).select_from(ComplainantContact)
                           .where(ComplainantContact.complaint_id == case.complaint.id)).scalar_one() > 0


# -- evidence and timeline ------------------------------------------------------------------


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
    from field.attachments.links import attachments_state
    from field.core.models.evidence import Attachment

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


def with_details(session: Session, case: Case) -> Case:
    """Fill the case view's extras: source envelopes, every piece of evidence, complainant on file."""
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
    case.source_views = views
    case.evidence_items = case_evidence(session, case)
    case.complainant_on_file = has_complainant_contact(session, case)
    return case


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
    _require_office(actor)
    entries = custody.history(session, "case", case.id)
    ids = {e.actor_id for e in entries if e.actor_id}
    names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}
    return [TimelineEntry(e.seq, e.occurred_at, e.kind, e.actor_id, names.get(e.actor_id), e.data or {}, e.hash)
            for e in entries]
