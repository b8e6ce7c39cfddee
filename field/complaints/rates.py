"""The three rates per unit and period (响应率, 解决率, 满意率), computed by the database (docs/complaints.md).

Counted: the complaints received in the period (``received_on``) that were dispatched to the unit
(``dispatched_on`` set; merged and rejected ones never are). Each rate is a ratio computed in SQL; a
rate without a denominator is NULL. The median handling time is taken from the stored per-complaint
working days (SQLite has no median), the ranking from the counts.
"""

from __future__ import annotations

import statistics
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Float, and_, case, cast, func, nulls_last, select
from sqlalchemy.orm import Session

from field.directory.models import Unit

from .models import Complaint, Rating, State

#: Units ranked this high or higher by complaints received lose the "excellent" grade (ties included).
LOSES_EXCELLENT_AT = 3


def _count(condition):
    return func.sum(case((condition, 1), else_=0))


def _ratio(numerator, denominator):
    return cast(numerator, Float) / func.nullif(denominator, 0)


@dataclass(frozen=True)
class UnitRates:
    unit_id: uuid.UUID
    name: str
    received: int
    responded_in_time: int
    resolved: int
    judged: int
    satisfied: int
    rated: int
    overdue: int
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    median_handling_working_days: float | None
    rank_by_complaints: int
    loses_excellent_grade: bool


def unit_rates(session: Session, jurisdictions, start: date, end: date, today: date) -> list[UnitRates]:
    """Per unit with complaints received in ``start`` … ``end`` in ``jurisdictions`` (a subquery of ids)."""
    counted = and_(Complaint.jurisdiction_id.in_(jurisdictions), Complaint.received_on >= start,
                   Complaint.received_on <= end, Complaint.dispatched_on.is_not(None), Complaint.unit_id.is_not(None))
    received = func.count(Complaint.id)
    in_time = _count(and_(Complaint.responded_on.is_not(None), Complaint.responded_on <= Complaint.response_due))
    judged = _count(Complaint.resolved.is_not(None))
    resolved = _count(Complaint.resolved.is_(True))
    rated = _count(Complaint.rating.is_not(None))
    satisfied = _count(Complaint.rating.in_([Rating.satisfied, Rating.basically_satisfied]))
    overdue = _count(and_(Complaint.state == State.dispatched, Complaint.answer_due < today))
    stmt = (select(Complaint.unit_id, Unit.name, received, in_time, resolved, judged, satisfied, rated, overdue,
                   _ratio(in_time, received), _ratio(resolved, judged), _ratio(satisfied, rated))
            .join(Unit, Unit.id == Complaint.unit_id).where(counted)
            .group_by(Complaint.unit_id, Unit.name).order_by(received.desc(), Unit.name))
    rows = session.execute(stmt).all()
    days: dict[uuid.UUID, list[int]] = {}
    for unit_id, n in session.execute(select(Complaint.unit_id, Complaint.handling_working_days).where(
            counted, Complaint.handling_working_days.is_not(None)).order_by(nulls_last(Complaint.unit_id))):
        days.setdefault(unit_id, []).append(n)
    counts = [r[2] for r in rows]
    out = []
    for (unit_id, name, n, on_time, res, jud, sat, rat, late, response, resolution, satisfaction) in rows:
        rank = 1 + sum(1 for other in counts if other > n)
        out.append(UnitRates(
            unit_id=unit_id, name=name, received=n, responded_in_time=on_time, resolved=res, judged=jud,
            satisfied=sat, rated=rat, overdue=late,
            response_rate=None if response is None else round(float(response), 4),
            resolution_rate=None if resolution is None else round(float(resolution), 4),
            satisfaction_rate=None if satisfaction is None else round(float(satisfaction), 4),
            median_handling_working_days=float(statistics.median(days[unit_id])) if days.get(unit_id) else None,
            rank_by_complaints=rank, loses_excellent_grade=rank <= LOSES_EXCELLENT_AT))
    return out
