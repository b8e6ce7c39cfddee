"""What each reader is shown of a complaint: the office's view, the handler's (no one who complained), the
complainant's (through the secret); duplicate candidates; the callback contact, disclosed and logged."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from field.core.errors import NotFound
from field.core.locations import Location
from field.core.models.platform import Role, User
from field.core.read_models import Beside
from field.core.scope import in_scope
from field.custody import chain as custody

from .models import Complaint, ComplaintAnswer, ComplaintContact, State
from .policy import POLICY
from .watch import retaliation_flags

#: How far back and how near the duplicate candidates are looked for.
DUPLICATE_DAYS = 30
DUPLICATE_RADIUS_M = 1000.0
#: Character-bigram overlap from which two texts count as similar.
SIMILAR_TEXT = 0.3


def position(complaint: Complaint) -> Location | None:
    if complaint.location is None:
        return None
    point = to_shape(complaint.location)
    return Location(point.x, point.y, None)


@dataclass(frozen=True)
class OfficeView(Beside):
    """The office's and the operators' view: the work order, whether a contact is on file (not the contact)."""

    complaint: Complaint
    position: Location | None
    contact_on_file: bool
    retaliation_flag: bool
    overdue: bool

    __row__ = "complaint"


@dataclass(frozen=True)
class HandlerView:
    """The unit handler's view: what the unit must answer, and nothing that says who complained."""

    id: uuid.UUID
    tracking_number: str
    state: State
    category_code: str
    text: str
    unit_id: uuid.UUID | None
    position: Location | None
    address: str | None
    received_at: datetime
    dispatched_on: date | None
    response_due: date | None
    answer_due: date | None
    responded_on: date | None
    answered_on: date | None
    round: int
    answers: list[ComplaintAnswer]
    overdue: bool
    updated_at: datetime


@dataclass(frozen=True)
class PublicView:
    """What the complainant sees with the tracking number and the secret."""

    tracking_number: str
    state: State
    category_code: str
    received_at: datetime
    answer_due: date | None
    answers: list[str]
    rating: str | None
    may_rate: bool


def _overdue(complaint: Complaint, today: date) -> bool:
    return complaint.state is State.dispatched and complaint.answer_due is not None and complaint.answer_due < today


def view_for(session: Session, user: User, complaint: Complaint, today: date) -> OfficeView | HandlerView:
    """The view ``user``'s role gets (the lookup that found the complaint checked they may see it)."""
    if user.role is Role.handler:
        return handler_view(complaint, today)
    on_file = session.get(ComplaintContact, complaint.id) is not None
    flags = retaliation_flags(session, [complaint.id]) if user.role in (Role.admin, Role.reviewer) else set()
    return OfficeView(complaint, position(complaint), on_file, complaint.id in flags, _overdue(complaint, today))


def views_for(session: Session, user: User, complaints: list[Complaint], today: date) -> list:
    if user.role is Role.handler:
        return [handler_view(c, today) for c in complaints]
    ids = [c.id for c in complaints]
    on_file = set(session.execute(select(ComplaintContact.complaint_id)
                                  .where(ComplaintContact.complaint_id.in_(ids))).scalars()) if ids else set()
    flags = retaliation_flags(session, ids) if user.role in (Role.admin, Role.reviewer) else set()
    return [OfficeView(c, position(c), c.id in on_file, c.id in flags, _overdue(c, today)) for c in complaints]


def handler_view(complaint: Complaint, today: date) -> HandlerView:
    return HandlerView(
        id=complaint.id, tracking_number=complaint.tracking_number, state=complaint.state,
        category_code=complaint.category_code, text=complaint.text, unit_id=complaint.unit_id,
        position=position(complaint), address=complaint.address, received_at=complaint.received_at,
        dispatched_on=complaint.dispatched_on, response_due=complaint.response_due, answer_due=complaint.answer_due,
        responded_on=complaint.responded_on, answered_on=complaint.answered_on, round=complaint.round,
        answers=list(complaint.answers), overdue=_overdue(complaint, today), updated_at=complaint.updated_at)


def public_view(complaint: Complaint) -> PublicView:
    return PublicView(
        tracking_number=complaint.tracking_number, state=complaint.state, category_code=complaint.category_code,
        received_at=complaint.received_at, answer_due=complaint.answer_due,
        answers=[a.text for a in complaint.answers], rating=complaint.rating.value if complaint.rating else None,
        may_rate=complaint.state is State.answered)


# -- duplicates -------------------------------------------------------------------------------------------------


def _bigrams(text: str) -> set[str]:
    text = "".join(ch for ch in text if ch.isalnum())
    return {text[i:i + 2] for i in range(len(text) - 1)} or {text}


def similarity(a: str, b: str) -> float:
    """Overlap of character bigrams (Jaccard): works for Chinese without a word segmenter."""
    x, y = _bigrams(a), _bigrams(b)
    return len(x & y) / len(x | y) if x | y else 0.0


@dataclass(frozen=True)
class Candidate:
    complaint: Complaint
    same_unit: bool
    same_enterprise: bool
    distance_m: float | None
    text_similarity: float
    reasons: list[str]


def duplicate_candidates(session: Session, actor: User, complaint: Complaint) -> list[Candidate]:
    """Complaints of the scope in the 30 days before (and after) this one that may say the same: the same unit or
    enterprise, within 1 km, or a similar text; the strongest first."""
    POLICY.require(actor, "triage")
    since = complaint.received_at - timedelta(days=DUPLICATE_DAYS)
    until = complaint.received_at + timedelta(days=DUPLICATE_DAYS)
    mine = session.get(ComplaintContact, complaint.id)
    enterprise_id = mine.enterprise_id if mine else None
    here = position(complaint)
    stmt = (select(Complaint, ComplaintContact.enterprise_id)
            .outerjoin(ComplaintContact, ComplaintContact.complaint_id == Complaint.id)
            .where(in_scope(Complaint.jurisdiction_id, actor), Complaint.id != complaint.id,
                   Complaint.received_at >= since, Complaint.received_at <= until,
                   Complaint.state.not_in([State.rejected, State.merged])))
    found = []
    for other, other_enterprise in session.execute(stmt).all():
        reasons = []
        same_unit = complaint.unit_id is not None and other.unit_id == complaint.unit_id
        same_enterprise = enterprise_id is not None and other_enterprise == enterprise_id
        where = position(other)
        distance = here.distance_m(where.lon, where.lat) if here and where else None
        score = similarity(complaint.text, other.text)
        if same_unit:
            reasons.append("same_unit")
        if same_enterprise:
            reasons.append("same_enterprise")
        if distance is not None and distance <= DUPLICATE_RADIUS_M:
            reasons.append("nearby")
        if score >= SIMILAR_TEXT:
            reasons.append("similar_text")
        if reasons:
            found.append(Candidate(other, same_unit, same_enterprise, distance, round(score, 3), reasons))
    # The radius is checked on the rows read: a scope's complaints of 60 days are few.
    found.sort(key=lambda c: (-len(c.reasons), -c.text_similarity, c.complaint.received_at))
    return found[:20]


# -- the callback contact ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    name: str | None
    contact: str | None
    anonymous: bool


def callback_contact(session: Session, actor: User, complaint: Complaint, *, reason: str) -> Contact:
    """Who to call back, for the office and its operators; each disclosure is logged in the custody log."""
    POLICY.require(actor, "call_back")
    row = session.get(ComplaintContact, complaint.id)
    if row is None or (row.name is None and row.contact is None):
        raise NotFound("contact")
    custody.record(session, jurisdiction_id=complaint.jurisdiction_id, kind="complaint.contact_disclosed",
                   subject_type="complaint", subject_id=complaint.id, actor=actor,
                   data={"tracking_number": complaint.tracking_number, "reason": reason})
    return Contact(row.name, row.contact, complaint.anonymous)
