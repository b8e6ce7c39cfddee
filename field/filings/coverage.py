"""Whether an approved filing covers an inspection (THE matching rule, also for liaisons' enforcement-visit
reports), and the re-judgement, when a transaction that changed filings commits, of the records they cover."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Callable

from sqlalchemy import ColumnElement, and_, event, or_, select
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


_CHANGED_FILINGS = "inspections_changed_filings"


def register_coverage_recheck(recheck: CoverageRecheck) -> CoverageRecheck:
    """Have ``recheck`` called, before commit, for every filing the transaction created or changed."""
    COVERAGE_RECHECKS.append(recheck)
    return recheck


@event.listens_for(Session, "after_flush")
def _note_changed_filings(session: Session, flush_context) -> None:
    # new and dirty still hold the flushed objects here (after_flush, not after_flush_postexec).
    changed = {obj.id for obj in (*session.new, *session.dirty) if isinstance(obj, InspectionFiling)}
    if changed:
        session.info.setdefault(_CHANGED_FILINGS, set()).update(changed)


@event.listens_for(Session, "before_commit")
def _recheck_on_commit(session: Session) -> None:
    """An office that approves a filing after the inspection was recorded (or rejects a statutory
    one, or a filer who amends the window) changes which inspections are covered: re-judge them
    in the same transaction, so ``flag_unfiled`` always says what the filings say now."""
    if not session.info.get(_CHANGED_FILINGS) and not session.new and not session.dirty:
        return
    session.flush()
    changed = session.info.pop(_CHANGED_FILINGS, None)
    if not changed:
        return
    for filing_id in sorted(changed):
        filing = session.get(InspectionFiling, filing_id)
        if filing is None:  # created in a savepoint that was rolled back
            continue
        for recheck in COVERAGE_RECHECKS:
            recheck(session, filing)
    session.flush()
    session.info.pop(_CHANGED_FILINGS, None)  # the re-judged records changed no filing


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_CHANGED_FILINGS, None)
