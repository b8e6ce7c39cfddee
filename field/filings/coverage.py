"""Whether an approved filing covers an inspection (THE matching rule, also for liaisons' enforcement-visit
reports), and the re-judgement of the records a filing covers, called by the verbs that change it (``rejudge``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Callable

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from field.core.models.records import ReviewState
from field.records import lifecycle as records

from .models import FilingKind, InspectionFiling, inspection_filing_enterprises


def _covering_state() -> ColumnElement[bool]:
    """SQL of ``counts_as_approved``."""
    return or_(InspectionFiling.review_state == ReviewState.accepted,
               and_(InspectionFiling.filing_kind == FilingKind.statutory_exempt,
                    InspectionFiling.review_state != ReviewState.rejected))


def approved_filing_covering(session: Session, *, enterprise_id: uuid.UUID, unit_id: uuid.UUID | None,
                             on: date) -> InspectionFiling | None:
    """The filing that covers an inspection of ``enterprise_id`` by ``unit_id`` (any unit when None) on ``on``.

    Covering: accepted by the office (approved), or statutory-exempt and not rejected;
    naming the enterprise; the planned window contains ``on`` (both ends included).
    Not scoped to a user: it answers for the rules (an inspection record, a liaison's
    report), not for display. The earliest filed of several is returned.
    """
    if isinstance(on, datetime) or not isinstance(on, date):
        # A moment's day depends on the time zone: the caller takes the office's day first (office_date).
        raise TypeError(f"on must be a datetime.date (the office's day), not {type(on).__name__}")
    stmt = (select(InspectionFiling)
            .join(inspection_filing_enterprises, inspection_filing_enterprises.c.filing_id == InspectionFiling.id)
            .where(inspection_filing_enterprises.c.enterprise_id == enterprise_id,
                   InspectionFiling.planned_start <= on, InspectionFiling.planned_end >= on, _covering_state())
            .order_by(InspectionFiling.received_at, InspectionFiling.id).limit(1))
    if unit_id is not None:
        stmt = stmt.where(InspectionFiling.unit_id == unit_id)
    return session.execute(stmt).scalar_one_or_none()


def counts_as_approved(filing: InspectionFiling) -> bool:
    """Whether the filing covers inspections at all: approved, or statutory-exempt and not rejected."""
    return filing.review_state is ReviewState.accepted or (
        filing.filing_kind is FilingKind.statutory_exempt and filing.review_state is not ReviewState.rejected)


def covers(filing: InspectionFiling, *, enterprise_id: uuid.UUID, unit_id: uuid.UUID | None, on: date) -> bool:
    """The rule of ``approved_filing_covering``, for one filing in hand."""
    return (counts_as_approved(filing) and (unit_id is None or filing.unit_id == unit_id)
            and filing.planned_start <= on <= filing.planned_end
            and any(e.id == enterprise_id for e in filing.enterprises))


#: (session, changed filing) → re-judge the records of one kind that the filing covers or could cover.
CoverageRecheck = Callable[[Session, InspectionFiling], None]


COVERAGE_RECHECKS: list[CoverageRecheck] = []


def register_coverage_recheck(recheck: CoverageRecheck) -> CoverageRecheck:
    """Have ``recheck`` called by ``rejudge`` (a kind above filings/ registers itself: reports/)."""
    COVERAGE_RECHECKS.append(recheck)
    return recheck


def rejudge(session: Session, filing: InspectionFiling) -> None:
    """Re-judge the records ``filing`` covers or could cover, in the caller's transaction.

    An office that approves a filing after the inspection was recorded (or rejects a statutory
    one, or a filer who amends the window) changes which inspections are covered, so that
    ``flag_unfiled`` always says what the filings say now. Called explicitly by every verb that
    changes what a filing covers: filing it (``filings.file_inspection``), amending it
    (``filings.amend_filing``) and deciding on it (``records.review``, through
    ``InspectionFiling.reviewed``). Each change of coverage is a custody entry.
    """
    session.flush()
    for recheck in COVERAGE_RECHECKS:
        recheck(session, filing)
    session.flush()
