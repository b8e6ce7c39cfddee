"""The handler's phone: the complaints dispatched to their unit, through the sync feed (field/core/sync.py).

An entry about a complaint goes to the audience ``complaint_unit``/U, U the unit it is with: only that
unit's handlers receive it (and the office, which receives every audience of its scope). The loader
gives the handler's view (views.HandlerView: nothing that says who complained), and only of what the
API's get-by-id would show the caller (handling.visible); anything else is a tombstone. A handler moved
to another unit gets tombstones for the old unit's complaints and the new unit's as upserts, through
the ``user`` audience.
"""

from __future__ import annotations

import uuid
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from field.core import sync
from field.core.models.changes import Change
from field.core.models.platform import User
from field.core.office import office_today
from field.directory.models import Unit

from . import views
from .models import Complaint, ComplaintHandler

ENTITY = "complaint"
AUDIENCE = "complaint_unit"


def _units_of(user: User):
    return select(ComplaintHandler.unit_id).where(ComplaintHandler.user_id == user.id).scalar_subquery()


def load_complaints(session: Session, user: User, ids: list[uuid.UUID]) -> dict[uuid.UUID, views.HandlerView]:
    from .handling import visible  # handling notes changes through this module

    today = office_today()
    found = session.execute(select(Complaint).where(Complaint.id.in_(ids), visible(session, user))).scalars()
    return {c.id: views.handler_view(c, today) for c in found}


def note(session: Session, complaint: Complaint, *unit_ids: uuid.UUID | None) -> None:
    """The complaint changed for the handlers of ``unit_ids`` (default: the unit it is with)."""
    for unit_id in dict.fromkeys(unit_ids or (complaint.unit_id,)):
        if unit_id is None:
            continue
        unit_jurisdiction = session.execute(select(Unit.jurisdiction_id).where(Unit.id == unit_id)).scalar()
        sync.record(session, ENTITY, complaint.id, [complaint.jurisdiction_id, unit_jurisdiction],
                    sync.Audience(AUDIENCE, unit_id))


def note_moved_handler(session: Session, handler: User, unit_ids: Iterable[uuid.UUID]) -> None:
    """A handler now answers for another unit: what their phone holds of ``unit_ids`` is sent again to them
    alone (tombstones for the old unit's, upserts for the new one's)."""
    rows = session.execute(select(Complaint.id, Complaint.jurisdiction_id).where(
        Complaint.unit_id.in_(list(unit_ids)), Complaint.dispatched_on.is_not(None))).all()
    for complaint_id, jurisdiction_id in rows:
        sync.record(session, ENTITY, complaint_id, [jurisdiction_id, handler.jurisdiction_id],
                    sync.Audience("user", handler.id))


sync.register_audience(AUDIENCE, lambda user: Change.audience_id.in_(_units_of(user)))
sync.register_feed(ENTITY, load_complaints)
