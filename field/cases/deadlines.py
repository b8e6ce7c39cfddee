"""Case deadlines and handling times on the working-day calendar; provisional ones recomputed on declaration.

Design
======

- A case's ``deadline`` is ``opened_on`` plus ``time_limit_days`` working days on its
  jurisdiction's calendar (``field.core.calendar.calendar_for``); its handling time, when it
  ends, the working days from ``opened_on`` to ``ended_on``. Either may run into a year
  that neither the chinese-calendar release nor a declaration covers: it is then counted
  on weekends alone and stored with ``deadline_provisional`` / ``handling_days_provisional``.
- ``effective_deadline`` is the later of ``deadline`` and the latest delay notice's new
  date. Notices are stored literally (the handler's date, never recomputed); the rule
  keeps ``effective_deadline >= deadline`` when a recomputed deadline moves past a notice.
- ``recompute_provisional`` runs in the transaction that declares a year (and from
  ``fieldwatch calendar recompute`` after a chinese-calendar upgrade): every case of the
  subtree with a provisional value is counted again; each case whose values change gets
  one custody entry ``case.deadline_recomputed`` with the old and new values, which the
  case's timeline shows. Overdue is read from ``effective_deadline``, so it follows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from field.core.calendar import calendar_for
from field.core.models.platform import Jurisdiction, User
from field.core.scope import subtree
from field.core.workdays import WorkCalendar
from field.custody import chain as custody

from .models import Case

#: The custody entry of a recomputation (the case timeline shows it).
RECOMPUTED = "case.deadline_recomputed"


@dataclass(frozen=True)
class Reckoned:
    """A count on the calendar and the years it read on weekends alone (empty: none)."""

    value: date | int
    provisional_years: frozenset[int]

    @property
    def provisional(self) -> bool:
        return bool(self.provisional_years)


def deadline_of(calendar: WorkCalendar, opened_on: date, limit: int) -> Reckoned:
    deadline = calendar.add_working_days(opened_on, limit)
    return Reckoned(deadline, calendar.provisional_years(opened_on, deadline))


def handling_of(calendar: WorkCalendar, opened_on: date, ended_on: date) -> Reckoned:
    return Reckoned(calendar.working_days_between(opened_on, ended_on),
                    calendar.provisional_years(opened_on, ended_on))


def effective_deadline(deadline: date, case: Case) -> date:
    """The later of the computed deadline and the latest delay notice's date (stored literally)."""
    if not case.delay_notices:
        return deadline
    return max(deadline, case.delay_notices[-1].new_deadline)


@dataclass(frozen=True)
class Recomputed:
    case: Case
    changes: dict


def _values(case: Case, today: date) -> dict:
    return {"deadline": case.deadline, "deadline_provisional": case.deadline_provisional,
            "effective_deadline": case.effective_deadline, "handling_working_days": case.handling_working_days,
            "handling_days_provisional": case.handling_days_provisional, "ended_late": case.ended_late,
            "overdue": case.overdue_on(today)}


def _plain(value):
    return value.isoformat() if isinstance(value, date) else value


def recompute_case(session: Session, actor: User | None, case: Case, calendar: WorkCalendar, today: date,
                   cause: dict) -> Recomputed | None:
    """Count the case's deadline (and handling time, if it ended) again; log and return what changed."""
    before = _values(case, today)
    deadline = deadline_of(calendar, case.opened_on, case.time_limit_days)
    case.deadline, case.deadline_provisional = deadline.value, deadline.provisional
    case.effective_deadline = effective_deadline(deadline.value, case)
    if case.ended_on is not None:
        handling = handling_of(calendar, case.opened_on, case.ended_on)
        case.handling_working_days, case.handling_days_provisional = handling.value, handling.provisional
        case.ended_late = case.ended_on > case.effective_deadline
    after = _values(case, today)
    changes = {key: {"old": _plain(before[key]), "new": _plain(after[key])}
               for key in before if before[key] != after[key]}
    if not changes:
        return None
    session.flush()
    custody.record(session, jurisdiction_id=case.jurisdiction_id, kind=RECOMPUTED, subject_type="case",
                   subject_id=case.id, actor=actor, data={**cause, "as_of": today.isoformat(), **changes})
    return Recomputed(case, changes)


def recompute_provisional(session: Session, actor: User | None, *, today: date,
                          within: Jurisdiction | None = None, cause: dict | None = None) -> list[Recomputed]:
    """Recount every case of ``within``'s subtree (everywhere, if None) that holds a provisional value."""
    stmt = select(Case).where(or_(Case.deadline_provisional.is_(True), Case.handling_days_provisional.is_(True)))
    if within is not None:
        stmt = stmt.where(Case.jurisdiction_id.in_(subtree(within.path)))
    # Jurisdiction by jurisdiction: custody chain heads are locked in one order.
    stmt = stmt.order_by(Case.jurisdiction_id, Case.number)
    calendars: dict[uuid.UUID, WorkCalendar] = {}
    changed = []
    for case in session.execute(stmt).scalars().all():
        if case.jurisdiction_id not in calendars:
            calendars[case.jurisdiction_id] = calendar_for(session, case.jurisdiction)
        done = recompute_case(session, actor, case, calendars[case.jurisdiction_id], today, cause or {})
        if done is not None:
            changed.append(done)
    return changed
