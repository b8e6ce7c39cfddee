"""差评整改: every bad rating is answered by its unit in time, verified by the office, answered back to the rater.

States (``RectificationState``)::

    open ──answer (unit)──▶ answered ──verify accepted (office)──▶ verified   (reply shown to the rater)
      ▲                        │
      └──verify refused────────┘
    open/answered ──appeal (unit)──▶ appealed ──upheld (office)──▶ withdrawn (the ballot stops counting)
                                        └──────refused (office)──▶ open (the deadline stands)

The deadline is ``rectify_days`` working days (the campaign's, default 5) after the day of the
rating, on the jurisdiction's office calendar (field/core/calendar.py). An item still open or
answered-but-unverified after its deadline is overdue (``overdue_predicate``); the office may
turn an overdue item into an accountability case (field/cases/), once.

Who: the unit is its inspectors (field/filings/inspectors.py ``unit_of``): an inspector of the
rated unit or of a unit above it (the department of a section or window) sees, answers and
appeals the unit's items. What they read never names the rater: the item carries the bad
grades and the comments only, no ballot, invitation, enterprise or address. The rater is
disclosed to an admin of the office alone, for the callback (``disclose_rater``), and the disclosure is
logged in custody. Every step is logged in custody (``evaluation.rectification.*``).
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import ColumnElement, Select, and_, false, select
from sqlalchemy.orm import Session

from field.cases import lifecycle as cases
from field.cases.models import Case, CaseKind, ComplaintChannel
from field.core.errors import Conflict, InvalidInput, InvalidTransition
from field.core.models.base import utcnow
from field.core.models.platform import OFFICE_ROLES, User
from field.core.office import office_today
from field.core.scope import get_one, in_scope
from field.custody import chain as custody
from field.directory.models import Enterprise, Unit
from field.filings.inspectors import unit_of

from . import policy
from .models import Ballot, Invitation, RaterContact, Rectification, RectificationState as S

_OPEN = (S.open, S.answered)
MAX_TEXT = 4000


def _text(value: str | None, field: str, required: bool = True) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise InvalidInput(field, "Required.")
        return None
    if len(value) > MAX_TEXT:
        raise InvalidInput(field, f"At most {MAX_TEXT} characters.")
    return value


def unit_ids_below(session: Session, unit_id: uuid.UUID) -> list[uuid.UUID]:
    """The unit and every unit below it (sections, their windows)."""
    found, frontier = [unit_id], [unit_id]
    while frontier and len(found) < 5000:
        frontier = list(session.execute(select(Unit.id).where(Unit.parent_id.in_(frontier))).scalars())
        found += frontier
    return found


def visible(session: Session, user: User) -> ColumnElement[bool]:
    """Which rectifications the caller sees: the office its scope, an inspector their unit's (and below)."""
    policy.require(user, "rectification.read", "rectification")
    if user.role in OFFICE_ROLES:
        return in_scope(Rectification.jurisdiction_id, user)
    unit = unit_of(session, user)
    if unit is None:
        return false()
    return and_(in_scope(Rectification.jurisdiction_id, user), Rectification.unit_id.in_(
        unit_ids_below(session, unit.id)))


def overdue_predicate(today: date) -> ColumnElement[bool]:
    return and_(Rectification.state.in_(_OPEN), Rectification.due_on < today)


def rectifications_query(session: Session, actor: User, *, state: S | None = None, overdue: bool | None = None,
                         campaign_id: uuid.UUID | None = None, today: date | None = None) -> Select:
    query = select(Rectification).where(visible(session, actor))
    today = today or office_today()
    if state is not None:
        query = query.where(Rectification.state == state)
    if overdue is not None:
        predicate = overdue_predicate(today)
        query = query.where(predicate if overdue else ~predicate)
    if campaign_id is not None:
        query = query.where(Rectification.campaign_id == campaign_id)
    return query


def get_rectification(session: Session, actor: User, rectification_id: uuid.UUID) -> Rectification:
    return get_one(session, Rectification, rectification_id, "rectification", visible(session, actor))


def is_overdue(item: Rectification, today: date | None = None) -> bool:
    return item.state in _OPEN and item.due_on < (today or office_today())


def _log(session: Session, item: Rectification, event: str, actor: User, device_id=None, **data) -> None:
    custody.record(session, jurisdiction_id=item.jurisdiction_id, kind=f"evaluation.rectification.{event}",
                   subject_type="evaluation_rectification", subject_id=item.id, actor=actor, device_id=device_id,
                   data=data)


def _expect(item: Rectification, wanted: str, *states: S) -> None:
    if item.state not in states:
        raise InvalidTransition(item.state.value, wanted, [s.value for s in states])


def answer(session: Session, actor: User, item: Rectification, *, text: str) -> Rectification:
    """The unit's answer: what was found and what was put right."""
    policy.require(actor, "rectification.answer", "rectification")
    _expect(item, "answered", S.open)
    item.answer, item.answered_at, item.answered_by_id = _text(text, "answer"), utcnow(), actor.id
    item.state = S.answered
    _log(session, item, "answered", actor, late=is_overdue(item))
    return item


def verify(session: Session, actor: User, item: Rectification, *, accepted: bool, note: str | None = None,
           reply: str | None = None) -> Rectification:
    """The office checks the unit's answer: accepted, the reply goes back to the rater; refused, it is open again."""
    policy.require(actor, "rectification.verify", "rectification")
    _expect(item, "verified" if accepted else "open", S.answered)
    item.verification_note = _text(note, "note", required=not accepted)
    item.verified_at, item.verified_by_id = utcnow(), actor.id
    if accepted:
        item.reply = _text(reply, "reply")
        item.replied_at = item.verified_at
        item.state = S.verified
    else:
        item.state = S.open
    _log(session, item, "verified" if accepted else "refused", actor)
    return item


def appeal(session: Session, actor: User, item: Rectification, *, reason: str) -> Rectification:
    """The unit says the rating is mistaken or malicious (误评、恶意差评)."""
    policy.require(actor, "rectification.appeal", "rectification")
    if item.appeal_reason is not None:
        raise Conflict("This rating was appealed once already; the office's decision stands.")
    _expect(item, "appealed", S.open, S.answered)
    item.appeal_reason, item.appealed_at = _text(reason, "reason"), utcnow()
    item.state = S.appealed
    _log(session, item, "appealed", actor, reason=item.appeal_reason)
    return item


def decide_appeal(session: Session, actor: User, item: Rectification, *, upheld: bool, note: str) -> Rectification:
    """The office's decision: upheld, the rating stops counting; refused, the unit must still put it right."""
    policy.require(actor, "rectification.decide", "rectification")
    _expect(item, "withdrawn" if upheld else "open", S.appealed)
    item.appeal_upheld, item.appeal_note = upheld, _text(note, "note")
    item.decided_at, item.decided_by_id = utcnow(), actor.id
    item.state = S.withdrawn if upheld else (S.answered if item.answer else S.open)
    if upheld:
        session.get(Ballot, item.ballot_id).excluded = True
    _log(session, item, "appeal_decided", actor, upheld=upheld, note=item.appeal_note)
    return item


def escalate(session: Session, actor: User, item: Rectification, *, kind: CaseKind = CaseKind.efficiency_complaint,
             today: date | None = None) -> Case:
    """An overdue item becomes an accountability case (效能问责), once; the case names the unit as its subject."""
    policy.require(actor, "rectification.escalate", "rectification")
    today = today or office_today()
    if item.case_id is not None:
        raise Conflict("This item is already a case.", case_id=str(item.case_id))
    if not is_overdue(item, today):
        raise Conflict("Only an overdue item becomes a case.", due_on=item.due_on.isoformat())
    ballot = session.get(Ballot, item.ballot_id)
    grades = "、".join(f"{k}={v}" for k, v in item.complaint.get("grades", {}).items())
    case = cases.open_case(
        session, actor, kind=kind, title=f"差评整改逾期：{item.complaint.get('target', '')}"[:200],
        summary=f"差评（{grades}）应于 {item.due_on.isoformat()} 前整改，逾期未办结。",
        complaint=cases.ComplaintInput(channel=ComplaintChannel.online, received_at=ballot.submitted_at,
                                       text=f"差评整改逾期未办结（{grades}）。"),
        subjects=[{"unit_id": item.unit_id}], jurisdiction_id=item.jurisdiction_id, today=today)
    item.case_id = case.id
    _log(session, item, "escalated", actor, case_id=case.id, case_number=case.number)
    return case


def disclose_rater(session: Session, actor: User, item: Rectification, *, reason: str,
                   device_id: uuid.UUID | None = None) -> dict:
    """Who gave the bad rating, for the callback (回访): an admin only, each time logged in custody."""
    policy.require(actor, "rater.disclose", "rectification")
    reason = _text(reason, "reason")
    ballot = session.get(Ballot, item.ballot_id)
    invitation = session.get(Invitation, ballot.invitation_id)
    rater = {"kind": invitation.rater_kind.value, "code": invitation.code, "submitted_at": ballot.submitted_at,
             "enterprise": None, "user": None, "name": None, "phone": None, "address_flagged": ballot.flagged}
    if invitation.enterprise_id:
        enterprise = session.get(Enterprise, invitation.enterprise_id)
        rater["enterprise"] = {"id": enterprise.id, "name": enterprise.name, "contact_name": enterprise.contact_name,
                               "contact_phone": enterprise.contact_phone}
    if invitation.user_id:
        user = session.get(User, invitation.user_id)
        rater["user"] = {"id": user.id, "username": user.username, "display_name": user.display_name}
    contact = session.get(RaterContact, invitation.id)
    if contact is not None:
        rater["name"], rater["phone"] = contact.name, contact.phone
    _log(session, item, "rater_disclosed", actor, device_id=device_id, reason=reason,
         rater_kind=invitation.rater_kind.value)
    return rater
