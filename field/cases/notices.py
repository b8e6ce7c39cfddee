"""Public notices (通报) of cases, refused when their text names a confidential person (a monitor or a
complainant), however the name is spaced or written."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Iterable

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from field.core.errors import Conflict, InvalidInput
from field.core.models.base import utcnow
from field.core.models.platform import Jurisdiction, User
from field.core.office import office_today
from . import confidential
from field.directory.models import MonitorIdentity

from .models import Case, CaseState, ComplainantContact, PublicNotice
from .rules import _log


#: States in which a public notice may be recorded: once something has been decided.
NOTICE_STATES = frozenset({CaseState.deciding, CaseState.rectifying, CaseState.closed})


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
    """Whether ``text`` contains a confidential name or phone number, however written (confidential.py:
    invisible characters, separators, full-width forms, traditional characters and +86 do not hide one)."""
    return confidential.mentions_any(text, _confidential_values(session, case))


def issue_notice(session: Session, actor: User, case: Case, *, text: str, issued_on: date,
                 today: date | None = None) -> PublicNotice:
    """Record the decision to publish a notice (通报) of the case, with its text."""
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
