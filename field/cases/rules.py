"""What every case verb applies: cases exist only for the office, an ended case changes no more, and each
change is one custody entry about the case, which is what its timeline reads."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from field.core.errors import Conflict, NotFound
from field.core.models.platform import OFFICE_ROLES, User
from field.custody import chain as custody
from field.custody.models import CustodyEntry

from .models import OPEN_STATES, Case


def _require_office(actor: User) -> None:
    """Cases exist only for the office: to anyone else every case is absent.

    Checked once per request, where a case is looked up or made (``get_case``, ``cases_query``,
    ``open_case``, the time limits): a verb handed a ``Case`` (a transition, a gate, a subject …)
    trusts the lookup that gave it. The disclosures (the evidence ZIP, a complainant's identity)
    check again: they are not a step of the case but a release of what it holds."""
    if actor.role not in OFFICE_ROLES:
        raise NotFound("case")


#: The same rule under its public name, for the API's hook that runs it before a request is read.
require_office = _require_office


def _require_open(case: Case, doing: str) -> None:
    if case.state not in OPEN_STATES:
        raise Conflict(f"Case {case.number} is {case.state.value}; {doing} is no longer possible.")


def _log(session: Session, case: Case, event: str, actor: User, device_id: uuid.UUID | None = None,
         **data) -> CustodyEntry:
    return custody.record(session, jurisdiction_id=case.jurisdiction_id, kind=event, subject_type="case",
                          subject_id=case.id, actor=actor, device_id=device_id, data=data)
