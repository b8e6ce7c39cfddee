"""The work order's steps: lookups, triage, dispatch, the handler's response and answer, callbacks, reopening,
escalation to a case. Each step checks who may (policy.py) and the state, flushes, and writes one custody entry
that names no one who complained."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import ColumnElement, false, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from field.cases import lifecycle as cases
from field.cases.deadlines import deadline_of
from field.cases.models import Case, CaseKind, ComplaintChannel
from field.core.calendar import calendar_for
from field.core.errors import Conflict, InvalidInput, InvalidTransition
from field.core.models.base import utcnow
from field.core.models.platform import Jurisdiction, Role, User
from field.core.pages import keyed
from field.core.scope import get_in_scope, get_one, in_scope
from field.core.scoped import resolve_live
from field.custody import chain as custody
from field.directory.models import Unit

from . import feed
from .categories import limits_in
from .models import (
    CallbackSource,
    Channel,
    Complaint,
    ComplaintAnswer,
    ComplaintCallback,
    ComplaintContact,
    ComplaintHandler,
    Rating,
    State,
)
from .policy import POLICY

SATISFIED = frozenset({Rating.satisfied, Rating.basically_satisfied})


def _log(session: Session, complaint: Complaint, event: str, actor: User | None, **data) -> None:
    custody.record(session, jurisdiction_id=complaint.jurisdiction_id, kind=f"complaint.{event}",
                   subject_type="complaint", subject_id=complaint.id, actor=actor,
                   data={"tracking_number": complaint.tracking_number, "round": complaint.round, **data})


def _require_state(complaint: Complaint, wanted: str, *states: State) -> None:
    if complaint.state not in states:
        raise InvalidTransition(complaint.state.value, wanted, [s.value for s in states])


# -- handlers and who sees what ------------------------------------------------------------------------


def handler_unit_id(session: Session, user: User) -> uuid.UUID | None:
    if user.role is not Role.handler:
        return None
    row = session.get(ComplaintHandler, user.id)
    return row.unit_id if row else None


def assign_handler(session: Session, actor: User, user_id: uuid.UUID, unit_id: uuid.UUID) -> ComplaintHandler:
    """An admin names the unit a handler answers for (replacing any earlier one)."""
    POLICY.require(actor, "assign_handler")
    user = get_in_scope(session, User, user_id, actor, "user")
    if user.role is not Role.handler:
        raise InvalidInput("user_id", f"{user.display_name} is not a handler (role {user.role.value}).")
    unit = resolve_live(session, Unit, unit_id, actor, "unit_id", "unit")
    row = session.get(ComplaintHandler, user.id)
    before = row.unit_id if row else None
    if row is None:
        row = ComplaintHandler(user_id=user.id, unit_id=unit.id, assigned_by_id=actor.id, assigned_at=utcnow())
        session.add(row)
    else:
        row.unit_id, row.assigned_by_id, row.assigned_at = unit.id, actor.id, utcnow()
    session.flush()
    if before != unit.id:
        feed.note_moved_handler(session, user, [u for u in (before, unit.id) if u is not None])
    return row


def visible(session: Session, user: User) -> ColumnElement[bool]:
    """Office staff and operators: their scope; a handler: what was dispatched to their unit; else nothing."""
    if user.role in (Role.admin, Role.reviewer, Role.operator):
        return in_scope(Complaint.jurisdiction_id, user)
    unit_id = handler_unit_id(session, user)
    if unit_id is None:
        return false()
    return (Complaint.unit_id == unit_id) & Complaint.dispatched_on.is_not(None)


def get_complaint(session: Session, user: User, complaint_id: uuid.UUID, action: str = "read") -> Complaint:
    """The complaint ``user`` may see, for ``action``: the role is checked first (the same 403 for any id)."""
    POLICY.require(user, action)
    return get_one(session, Complaint, complaint_id, "complaint", visible(session, user))


@keyed(Complaint.received_at, Complaint.id, descending=True)
def complaints_query(session: Session, user: User, *, state: State | None = None, unit_id: uuid.UUID | None = None,
                     category: str | None = None):
    """The complaints ``user`` sees, newest first."""
    POLICY.require(user, "read")
    stmt = select(Complaint).where(visible(session, user))
    if state is not None:
        stmt = stmt.where(Complaint.state == State(state))
    if unit_id is not None:
        stmt = stmt.where(Complaint.unit_id == unit_id)
    if category is not None:
        stmt = stmt.where(Complaint.category_code == category)
    return stmt


# -- triage and dispatch ---------------------------------------------------------------------------------


def triage(session: Session, actor: User, complaint: Complaint, decision: str, *,
           duplicate_of: uuid.UUID | None = None, reason: str | None = None, today: date) -> Complaint:
    """Accept, merge as a duplicate of another complaint of the scope, or reject with a reason."""
    POLICY.require(actor, "triage")
    _require_state(complaint, decision, State.received)
    reason = (reason or "").strip()
    if decision == "accept":
        complaint.state = State.accepted
    elif decision == "merge":
        if duplicate_of is None:
            raise InvalidInput("duplicate_of", "Name the complaint this one repeats.")
        original = session.execute(select(Complaint).where(
            Complaint.id == duplicate_of, in_scope(Complaint.jurisdiction_id, actor))).scalar_one_or_none()
        if original is None or original.id == complaint.id:
            raise InvalidInput("duplicate_of", "No such complaint.")
        if original.state in (State.rejected, State.merged):
            raise InvalidInput("duplicate_of", f"Complaint {original.tracking_number} is {original.state.value}.")
        complaint.state, complaint.duplicate_of_id = State.merged, original.id
    elif decision == "reject":
        if len(reason) < 2:
            raise InvalidInput("reason", "Say why the complaint is not taken.")
        complaint.state, complaint.reject_reason = State.rejected, reason
    else:
        raise InvalidInput("decision", "One of accept, merge, reject.")
    complaint.triaged_by_id, complaint.triaged_at = actor.id, utcnow()
    if complaint.state in (State.rejected, State.merged):
        complaint.closed_on = today
    session.flush()
    _log(session, complaint, "triaged", actor, decision=decision,
         duplicate_of=str(complaint.duplicate_of_id) if complaint.duplicate_of_id else None)
    return complaint


def dispatch(session: Session, actor: User, complaint: Complaint, unit_id: uuid.UUID, *, today: date) -> Complaint:
    """Send an accepted complaint to the responsible unit; the category's limits count from today."""
    POLICY.require(actor, "dispatch")
    _require_state(complaint, "dispatched", State.accepted)
    unit = resolve_live(session, Unit, unit_id, actor, "unit_id", "unit")
    jurisdiction = session.get(Jurisdiction, complaint.jurisdiction_id)
    limits = limits_in(session, jurisdiction)[complaint.category_code]
    calendar = calendar_for(session, jurisdiction)
    response, answer = deadline_of(calendar, today, limits.response_days), deadline_of(calendar, today,
                                                                                       limits.answer_days)
    complaint.unit_id, complaint.state = unit.id, State.dispatched
    complaint.dispatched_on, complaint.response_due, complaint.answer_due = today, response.value, answer.value
    complaint.due_provisional = response.provisional or answer.provisional
    session.flush()
    feed.note(session, complaint)
    _log(session, complaint, "dispatched", actor, unit_id=str(unit.id), response_due=response.value.isoformat(),
         answer_due=answer.value.isoformat())
    return complaint


# -- the unit's handler ------------------------------------------------------------------------------------


def respond(session: Session, handler: User, complaint: Complaint, *, today: date) -> Complaint:
    """The handler acknowledges the complaint (签收): the response the response rate counts."""
    POLICY.require(handler, "respond")
    _require_state(complaint, "responded", State.dispatched)
    if complaint.responded_on is None:
        complaint.responded_on = today
        session.flush()
        feed.note(session, complaint)
        _log(session, complaint, "responded", handler)
    return complaint


def answer(session: Session, handler: User, complaint: Complaint, *, text: str, resolved: bool,
           today: date) -> Complaint:
    """The unit's answer for this round; answering is responding too, when the handler had not acknowledged."""
    POLICY.require(handler, "answer")
    _require_state(complaint, "answered", State.dispatched)
    text = (text or "").strip()
    if not text:
        raise InvalidInput("text", "Required.")
    session.add(ComplaintAnswer(complaint_id=complaint.id, round=complaint.round, text=text, resolved=bool(resolved),
                                handler_id=handler.id, answered_at=utcnow()))
    complaint.responded_on = complaint.responded_on or today
    complaint.answered_on, complaint.state = today, State.answered
    calendar = calendar_for(session, session.get(Jurisdiction, complaint.jurisdiction_id))
    complaint.handling_working_days = calendar.working_days_between(complaint.dispatched_on, today)
    session.flush()
    session.refresh(complaint, ["answers"])
    feed.note(session, complaint)
    _log(session, complaint, "answered", handler, resolved=bool(resolved))
    return complaint


# -- callbacks, ratings, reopening ----------------------------------------------------------------------------


def _rated(session: Session, complaint: Complaint, *, source: CallbackSource, actor: User | None, reached: bool,
           resolved: bool | None, rating: Rating | None, text: str, close: bool, today: date) -> Complaint:
    _require_state(complaint, "rated", State.answered)
    if reached and rating is None:
        raise InvalidInput("rating", "Required when the complainant was reached.")
    if not reached and (rating is not None or resolved is not None):
        raise InvalidInput("reached", "A complainant who was not reached gave no rating.")
    try:
        # A savepoint: two requests that both found the complaint answered meet here, at the unique index of
        # one rating per round, and the second one's rating is refused instead of the request failing.
        with session.begin_nested():
            session.add(ComplaintCallback(complaint_id=complaint.id, round=complaint.round, source=source,
                                          reached=reached, resolved=resolved, rating=rating,
                                          text=(text or "").strip(), recorded_by_id=actor.id if actor else None,
                                          recorded_at=utcnow()))
    except IntegrityError:
        raise Conflict(f"The answer to complaint {complaint.tracking_number} has already been rated.") from None
    event = "called_back"
    if reached:
        complaint.rating = rating
        if resolved is not None:
            complaint.resolved = resolved
        if rating in SATISFIED:
            complaint.state, complaint.closed_on = State.closed, today
        else:
            _reopen(session, complaint, today)
            event = "reopened"
    elif close:
        complaint.state, complaint.closed_on = State.closed, today
    session.flush()
    session.refresh(complaint, ["callbacks"])
    feed.note(session, complaint)
    _log(session, complaint, event, actor, source=source.value, reached=reached,
         rating=rating.value if rating else None, resolved=resolved)
    return complaint


def _reopen(session: Session, complaint: Complaint, today: date) -> None:
    """Dissatisfied: back to the unit for another round, with a new answer limit from today."""
    jurisdiction = session.get(Jurisdiction, complaint.jurisdiction_id)
    limits = limits_in(session, jurisdiction)[complaint.category_code]
    due = deadline_of(calendar_for(session, jurisdiction), today, limits.answer_days)
    complaint.round += 1
    complaint.state, complaint.answer_due, complaint.closed_on = State.dispatched, due.value, None
    complaint.due_provisional = complaint.due_provisional or due.provisional


def call_back(session: Session, actor: User, complaint: Complaint, *, reached: bool, resolved: bool | None = None,
              rating: Rating | None = None, text: str = "", close: bool = False, today: date) -> Complaint:
    """The office's callback (回访) after an answer: reached or not, resolved, the rating; dissatisfied reopens."""
    POLICY.require(actor, "call_back")
    return _rated(session, complaint, source=CallbackSource.callback, actor=actor, reached=reached,
                  resolved=resolved, rating=Rating(rating) if rating else None, text=text, close=close, today=today)


def rate(session: Session, complaint: Complaint, *, rating: Rating, resolved: bool | None, text: str,
         today: date) -> Complaint:
    """The complainant's own rating, through the tracking secret (the caller found the complaint by it)."""
    return _rated(session, complaint, source=CallbackSource.self, actor=None, reached=True, resolved=resolved,
                  rating=Rating(rating), text=text, close=False, today=today)


# -- escalation ------------------------------------------------------------------------------------------------


def escalate(session: Session, actor: User, complaint: Complaint, *, kind: CaseKind, title: str | None = None,
             today: date) -> Case:
    """Open an accountability case from the complaint in one call: the case keeps the complaint (its text,
    channel, time and, kept apart, who complained) as its source, and names the unit as its subject."""
    POLICY.require(actor, "escalate")
    if complaint.case_id is not None:
        raise Conflict(f"Complaint {complaint.tracking_number} is already a case.")
    if complaint.state in (State.rejected, State.merged):
        raise Conflict(f"Complaint {complaint.tracking_number} is {complaint.state.value}.")
    contact = session.get(ComplaintContact, complaint.id)
    channel = ComplaintChannel.phone if complaint.channel is Channel.hotline else ComplaintChannel.online
    case = cases.open_case(
        session, actor, kind=CaseKind(kind), title=(title or "").strip() or f"投诉 {complaint.tracking_number}",
        summary=f"{complaint.tracking_number}", jurisdiction_id=complaint.jurisdiction_id, today=today,
        complaint=cases.ComplaintInput(channel=channel, received_at=complaint.received_at, text=complaint.text,
                                       complainant_name=contact.name if contact else None,
                                       complainant_contact=contact.contact if contact else None),
        subjects=[{"unit_id": complaint.unit_id}] if complaint.unit_id else [])
    complaint.case_id = case.id
    session.flush()
    _log(session, complaint, "escalated", actor, case_id=str(case.id), case_number=case.number)
    return case
