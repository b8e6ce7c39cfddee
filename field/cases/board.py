"""The console's case board: the cases of the office's area by state, on the clock (web/console/cases.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from field.core.models.platform import User
from field.directory.models import Person, Unit
from field.directory import units as directory

from .lifecycle import cases_query
from .models import OPEN_STATES, Case, CaseState

#: The board's columns, in the order a case moves.
COLUMNS = (CaseState.opened, CaseState.investigating, CaseState.deciding, CaseState.rectifying, CaseState.closed)
#: Ended cases stay on the board this long after they ended.
ENDED_SHOWN_DAYS = 30
#: The most cards per column (a district has tens of running cases, not thousands).
COLUMN_LIMIT = 200


@dataclass(frozen=True)
class Card:
    case: Case
    overdue: bool
    #: Working days are not counted here: calendar days to the effective deadline (negative: past it).
    days_left: int | None


def overdue(case: Case, today: date) -> bool:
    return case.state in OPEN_STATES and case.effective_deadline < today


def board(session: Session, actor: User, today: date) -> dict[CaseState, list[Card]]:
    """Running cases by state, most urgent first; closed and dismissed ones of the last 30 days."""
    columns: dict[CaseState, list[Card]] = {state: [] for state in (*COLUMNS, CaseState.dismissed)}
    since = today - timedelta(days=ENDED_SHOWN_DAYS)
    for state in columns:
        stmt = cases_query(actor, state=state, today=today)
        if state in OPEN_STATES:
            stmt = stmt.order_by(Case.effective_deadline, Case.number)
        else:
            stmt = stmt.where(Case.ended_on >= since).order_by(Case.ended_on.desc(), Case.number)
        for case in session.execute(stmt.limit(COLUMN_LIMIT)).scalars():
            left = (case.effective_deadline - today).days if state in OPEN_STATES else None
            columns[state].append(Card(case, overdue(case, today), left))
    return columns


@dataclass(frozen=True)
class SubjectChoices:
    units: list[tuple[str, str]]
    persons: list[tuple[str, str]]


def subject_choices(session: Session, actor: User, limit: int = 500) -> SubjectChoices:
    """Units and persons of the actor's directory, to name as a case's subjects."""
    unit_rows = session.execute(directory.units_query(actor).order_by(Unit.name).limit(limit)).scalars()
    person_rows = session.execute(directory.persons_query(actor).order_by(Person.name).limit(limit)).scalars()
    return SubjectChoices([(str(u.id), u.name) for u in unit_rows],
                          [(str(p.id), f"{p.name} · {p.unit.name}" if getattr(p, "unit", None) else p.name)
                           for p in person_rows])


def case_options(session: Session, actor: User, today: date) -> list[Case]:
    """Running cases a record can be added to (the record page's "add to a case")."""
    stmt = cases_query(actor, today=today).where(Case.state.in_(OPEN_STATES)).order_by(Case.number.desc())
    return list(session.execute(stmt.limit(COLUMN_LIMIT)).scalars())


__all__ = ["COLUMNS", "Card", "board", "overdue", "subject_choices", "case_options"]
