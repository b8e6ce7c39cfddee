"""Retaliation watch: a complaint by an enterprise against a unit, and that unit inspecting the enterprise
within 90 days afterwards; flagged for the office, computed by the database from the inspection records."""

from __future__ import annotations

import uuid

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from field.core.models.platform import User
from field.core.pages import keyed
from field.core.scope import in_scope
from field.filings.models import InspectionRecord

from .models import Complaint, ComplaintContact
from .policy import POLICY

#: Days after a complaint during which an inspection of the complaining enterprise by the unit is flagged.
WATCH_DAYS = 90


def plus_days(session: Session, day_column, days: int):
    """SQL: a ``Date`` column plus whole days, on either database (SQLite keeps dates as ISO text)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(day_column, f"+{int(days)} days")
    return day_column + int(days)


def _inspected_after(session: Session):
    """SQL: the complained-about unit recorded an inspection of the complaining enterprise on the day of the
    complaint or within ``WATCH_DAYS`` after it (dates compared as the office's days)."""
    return exists(select(InspectionRecord.id).where(
        InspectionRecord.unit_id == Complaint.unit_id,
        InspectionRecord.enterprise_id == ComplaintContact.enterprise_id,
        InspectionRecord.inspected_on >= Complaint.received_on,
        InspectionRecord.inspected_on <= plus_days(session, Complaint.received_on, WATCH_DAYS)))


def retaliation_flags(session: Session, complaint_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``complaint_ids`` are flagged."""
    if not complaint_ids:
        return set()
    return set(session.execute(
        select(Complaint.id).join(ComplaintContact, ComplaintContact.complaint_id == Complaint.id)
        .where(Complaint.id.in_(complaint_ids), Complaint.unit_id.is_not(None),
               ComplaintContact.enterprise_id.is_not(None), _inspected_after(session))).scalars())


@keyed(Complaint.received_at, Complaint.id, descending=True)
def watch_query(session: Session, user: User):
    """The flagged complaints of ``user``'s scope, newest first (office staff only)."""
    POLICY.require(user, "watch")
    return (select(Complaint).join(ComplaintContact, ComplaintContact.complaint_id == Complaint.id)
            .where(in_scope(Complaint.jurisdiction_id, user), Complaint.unit_id.is_not(None),
                   and_(ComplaintContact.enterprise_id.is_not(None), _inspected_after(session))))
