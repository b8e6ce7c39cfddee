"""Time limits of cases in working days: built-in defaults, an office's own for its jurisdiction and below."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from field.core.errors import NotAllowed
from field.core.models.base import utcnow
from field.core.models.platform import Jurisdiction, Role, User

from .models import CaseKind, CaseTimeLimit
from .rules import _require_office


#: Working days each kind of case is given when no office has set its own (``case_time_limits``).
DEFAULT_TIME_LIMITS: dict[CaseKind, int] = {
    CaseKind.efficiency_complaint: 15,
    CaseKind.work_style: 15,
    CaseKind.arbitrary_charges: 15,
    CaseKind.inspection_irregularity: 15,
    CaseKind.discipline: 30,
}


def _chain(session: Session, jurisdiction: Jurisdiction) -> list[uuid.UUID]:
    """The jurisdiction and those above it, from the top down."""
    codes = [c for c in jurisdiction.path.strip("/").split("/") if c]
    rows = dict(session.execute(select(Jurisdiction.code, Jurisdiction.id).where(Jurisdiction.code.in_(codes))).all())
    return [rows[c] for c in codes if c in rows]


@dataclass(frozen=True)
class TimeLimit:
    kind: CaseKind
    working_days: int
    default_working_days: int
    #: Where the limit was set (a jurisdiction id), None for the built-in default.
    set_in: uuid.UUID | None


def time_limits(session: Session, actor: User, jurisdiction: Jurisdiction | None = None) -> list[TimeLimit]:
    """Each kind's limit in ``jurisdiction`` (default: the actor's): the lowest level that set one wins."""
    _require_office(actor)
    jurisdiction = jurisdiction or actor.jurisdiction
    chain = _chain(session, jurisdiction)
    depth = {jid: i for i, jid in enumerate(chain)}
    best: dict[CaseKind, CaseTimeLimit] = {}
    for row in session.execute(select(CaseTimeLimit).where(CaseTimeLimit.jurisdiction_id.in_(chain))).scalars():
        if row.kind not in best or depth[best[row.kind].jurisdiction_id] < depth[row.jurisdiction_id]:
            best[row.kind] = row
    return [TimeLimit(kind, best[kind].working_days if kind in best else DEFAULT_TIME_LIMITS[kind],
                      DEFAULT_TIME_LIMITS[kind], best[kind].jurisdiction_id if kind in best else None)
            for kind in CaseKind]


def set_time_limit(session: Session, actor: User, kind: CaseKind, working_days: int | None) -> TimeLimit:
    """An admin sets (or, with None, removes) the limit of ``kind`` for their jurisdiction and below.

    Running cases keep the limit they were opened with.
    """
    _require_office(actor)
    if actor.role is not Role.admin:
        raise NotAllowed("Only an admin sets the time limits of cases.")
    kind = CaseKind(kind)
    row = session.get(CaseTimeLimit, (actor.jurisdiction_id, kind))
    if working_days is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(CaseTimeLimit(jurisdiction_id=actor.jurisdiction_id, kind=kind, working_days=working_days,
                                  updated_by_id=actor.id, updated_at=utcnow()))
    else:
        row.working_days, row.updated_by_id, row.updated_at = working_days, actor.id, utcnow()
    session.flush()
    return next(t for t in time_limits(session, actor) if t.kind is kind)
