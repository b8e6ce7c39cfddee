"""Visit obligations per service role (包保走访频次): how many visits per week or month each role owes.

The seed's rule is the default: the chief responsible and the service secretary visit their project's site
at least once a week, a department head their enterprise twice a month. A jurisdiction may set its own
number for a role (``VisitObligation``); it holds for the jurisdictions below it that have none of their own,
the nearest one up the tree winning, as the office's calendar does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from field.core.errors import InvalidInput
from field.core.models.platform import Jurisdiction, User

from .models import ObligationPeriod, ServiceRole, VisitObligation
from .policy import require

MAX_VISITS = 31


@dataclass(frozen=True)
class Obligation:
    role: ServiceRole
    visits: int
    per: ObligationPeriod
    #: the jurisdiction whose setting this is; None for the default
    jurisdiction_id: uuid.UUID | None = None


DEFAULTS = {
    ServiceRole.chief: Obligation(ServiceRole.chief, 1, ObligationPeriod.week),
    ServiceRole.secretary: Obligation(ServiceRole.secretary, 1, ObligationPeriod.week),
    ServiceRole.department_head: Obligation(ServiceRole.department_head, 2, ObligationPeriod.month),
}


def effective(session: Session, jurisdiction_ids: Iterable[uuid.UUID]) -> dict[tuple[uuid.UUID, ServiceRole],
                                                                                  Obligation]:
    """(jurisdiction, role) → the obligation that holds there: the nearest setting up the tree, else the default."""
    wanted = dict(session.execute(select(Jurisdiction.id, Jurisdiction.path).where(
        Jurisdiction.id.in_(set(jurisdiction_ids)))).all())
    settings = session.execute(select(VisitObligation, Jurisdiction.path).join(
        Jurisdiction, Jurisdiction.id == VisitObligation.jurisdiction_id)).all()
    out = {}
    for jurisdiction_id, path in wanted.items():
        for role in ServiceRole:
            best = None
            for row, row_path in settings:
                if row.role is role and path.startswith(row_path) and (best is None or len(row_path) > len(best[1])):
                    best = (row, row_path)
            out[(jurisdiction_id, role)] = DEFAULTS[role] if best is None else Obligation(
                role, best[0].visits, best[0].per, best[0].jurisdiction_id)
    return out


def obligations_for(session: Session, actor: User) -> list[Obligation]:
    """The obligation of each role in the caller's jurisdiction."""
    found = effective(session, [actor.jurisdiction_id])
    return [found[(actor.jurisdiction_id, role)] for role in ServiceRole]


def set_obligation(session: Session, actor: User, *, role: ServiceRole, visits: int,
                   per: ObligationPeriod) -> Obligation:
    """The admin sets the obligation of a role for their jurisdiction (and those below without their own)."""
    require(actor, "obligations.write")
    role, per = ServiceRole(role), ObligationPeriod(per)
    if not 1 <= visits <= MAX_VISITS:
        raise InvalidInput("visits", f"From 1 to {MAX_VISITS} visits.")
    if per is ObligationPeriod.week and visits > 7:
        raise InvalidInput("visits", "At most 7 visits a week.")
    row = session.execute(select(VisitObligation).where(VisitObligation.jurisdiction_id == actor.jurisdiction_id,
                                                        VisitObligation.role == role)).scalar_one_or_none()
    if row is None:
        row = VisitObligation(jurisdiction_id=actor.jurisdiction_id, role=role, set_by_id=actor.id)
        session.add(row)
    row.visits, row.per, row.set_by_id = visits, per, actor.id
    session.flush()
    return Obligation(role, visits, per, actor.jurisdiction_id)
