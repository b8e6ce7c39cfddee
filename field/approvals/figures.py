"""The approvals' figures, computed by the database: accepted, completed, within the limit, working days.

Over the cases accepted in a period (local dates, both included), overall and per unit or matter,
beside the same for the previous period of equal length. Average and median working days are those
of the completed cases; the median is the mean of the middle one or two values, by window functions
(the same SQL on SQLite and PostgreSQL).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Integer, and_, cast, func, literal, select
from sqlalchemy.orm import Session

from field.core.errors import InvalidInput
from field.core.models.platform import User
from field.core.scope import in_scope

from .models import ApprovalCase
from .policy import require

GROUPS = {"unit": ApprovalCase.unit_id, "matter": ApprovalCase.matter_id}
MAX_DAYS = 3660


def _numbers(session: Session, where, group) -> dict[Any, dict[str, Any]]:
    key = group if group is not None else literal(0)
    done = ApprovalCase.completed_on.is_not(None)
    counts = select(
        key.label("g"), func.count().label("accepted"),
        func.sum(cast(done, Integer)).label("completed"),
        func.sum(cast(and_(done, ApprovalCase.within_limit.is_(True)), Integer)).label("within"),
        func.avg(ApprovalCase.working_days).filter(done).label("average"),
        func.sum(cast(ApprovalCase.provisional, Integer)).label("provisional"),
    ).where(where).group_by(key)
    ranked = select(
        key.label("g"), ApprovalCase.working_days.label("wd"),
        func.row_number().over(partition_by=key, order_by=ApprovalCase.working_days).label("rn"),
        func.count().over(partition_by=key).label("n"),
    ).where(where, done).subquery()
    medians = select(ranked.c.g, func.avg(ranked.c.wd)).where(
        ranked.c.rn.in_([(ranked.c.n + 1) / 2, (ranked.c.n + 2) / 2])).group_by(ranked.c.g)
    out = {}
    for g, accepted, completed, within, average, provisional in session.execute(counts):
        completed, within = completed or 0, within or 0
        out[g] = {"accepted": accepted, "completed": completed, "within_limit": within,
                  "within_limit_rate": round(within * 100 / completed, 1) if completed else None,
                  "average_working_days": round(float(average), 2) if average is not None else None,
                  "median_working_days": None, "provisional": bool(provisional)}
    for g, median in session.execute(medians):
        out[g]["median_working_days"] = round(float(median), 2) if median is not None else None
    return out


def figures(session: Session, actor: User, *, start: date, end: date, by: str | None = None) -> dict[str, Any]:
    require(actor, "figures")
    if end < start:
        raise InvalidInput("to", "The period ends before it starts.")
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise InvalidInput("from", f"A period spans at most {MAX_DAYS} days.")
    if by is not None and by not in GROUPS:
        raise InvalidInput("by", f"One of {', '.join(GROUPS)}.")
    prev_end = start - timedelta(days=1)
    prev_start = prev_end - timedelta(days=days - 1)
    scope = in_scope(ApprovalCase.jurisdiction_id, actor)
    group = GROUPS.get(by)

    def over(lo: date, hi: date):
        return _numbers(session, and_(scope, ApprovalCase.accepted_on.between(lo, hi)), group)

    current, previous = over(start, end), over(prev_start, prev_end)
    empty = {"accepted": 0, "completed": 0, "within_limit": 0, "within_limit_rate": None,
             "average_working_days": None, "median_working_days": None, "provisional": False}
    keys = sorted(set(current) | set(previous), key=str)
    rows = [{by or "all": (str(k) if isinstance(k, uuid.UUID) else None), "current": current.get(k, empty),
             "previous": previous.get(k, empty)} for k in keys]
    return {"period": {"start": start, "end": end}, "previous_period": {"start": prev_start, "end": prev_end},
            "by": by, "rows": rows}
