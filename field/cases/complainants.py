"""Who complained: confidential, disclosed only to an admin with a reason, and logged in the custody log."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from field.core.errors import InvalidInput, NotAllowed, NotFound
from field.core.models.platform import Role, User
from field.custody import chain as custody

from .models import Case, ComplainantContact
from .rules import _log, _require_office


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
