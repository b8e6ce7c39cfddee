"""Problems of key projects and enterprises: raised, acted on by units within a time limit, solved with the
enterprise's confirmation; overdue ones flagged and escalated to a case. Figures per campaign.
"""

from __future__ import annotations

import statistics
import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from field.cases import lifecycle as office_cases
from field.cases.deadlines import deadline_of
from field.cases.models import Case, CaseKind
from field.core.calendar import calendar_for
from field.core.errors import Conflict, InvalidInput, NotAllowed
from field.core.models.platform import OFFICE_ROLES, Jurisdiction, User
from field.core.office import office_today
from field.core.scope import get_one, in_scope
from field.directory.enterprises import get_enterprise
from field.directory.models import Enterprise, Unit

from .models import (Campaign, KeyProject, ProblemCategory, ProblemSource, ProblemState, ServiceAssignment,
                     ServiceProblem)
from .compliance import campaign_figures
from .feed import note_problem
from .policy import assigned_ids, require, visible_problems

MAX_LIMIT_DAYS = 120


def problems_query(actor: User, *, state: ProblemState | None = None, overdue: bool | None = None,
                   project_id: uuid.UUID | None = None, today: date | None = None) -> Select:
    stmt = select(ServiceProblem).where(visible_problems(actor))
    if state is not None:
        stmt = stmt.where(ServiceProblem.state == state)
    if project_id is not None:
        stmt = stmt.where(ServiceProblem.project_id == project_id)
    if overdue is not None:
        late = and_(ServiceProblem.state == ProblemState.open, ServiceProblem.deadline < (today or office_today()))
        stmt = stmt.where(late if overdue else ~late)
    return stmt


def get_problem(session: Session, actor: User, problem_id: uuid.UUID) -> ServiceProblem:
    return get_one(session, ServiceProblem, problem_id, "service problem", visible_problems(actor))


def raise_problem(session: Session, actor: User, project: KeyProject | None, *, category: ProblemCategory,
                  source: ProblemSource, description: str, unit_ids: list[uuid.UUID], limit_days: int,
                  raised_on: date | None = None, enterprise: Enterprise | None = None) -> ServiceProblem:
    """A problem of a project the caller may see (office staff, or an official serving it), or of an enterprise
    with no project (a 双百 enterprise: office staff, or its linked department head; ``enterprise_problem_target``)."""
    if (project is None) == (enterprise is None):
        raise ValueError("a problem is a project's or an enterprise's")
    today = office_today()
    raised_on = raised_on or today
    if raised_on > today:
        raise InvalidInput("raised_on", "A day that has come.")
    if not description.strip():
        raise InvalidInput("description", "Required.")
    if not 1 <= limit_days <= MAX_LIMIT_DAYS:
        raise InvalidInput("limit_days", f"From 1 to {MAX_LIMIT_DAYS} working days.")
    unit_ids = list(dict.fromkeys(unit_ids))
    if not unit_ids:
        raise InvalidInput("unit_ids", "Name the units that must act.")
    known = set(session.execute(select(Unit.id).where(Unit.id.in_(unit_ids), Unit.deleted_at.is_(None),
                                                      in_scope(Unit.jurisdiction_id, actor))).scalars())
    for i, unit_id in enumerate(unit_ids):
        if unit_id not in known:
            raise InvalidInput(f"unit_ids.{i}", "No such unit.")
    owner = project if project is not None else enterprise
    jurisdiction = session.get(Jurisdiction, owner.jurisdiction_id)
    reckoned = deadline_of(calendar_for(session, jurisdiction), raised_on, limit_days)
    problem = ServiceProblem(
        jurisdiction_id=owner.jurisdiction_id, project_id=project.id if project is not None else None,
        enterprise_id=project.enterprise_id if project is not None else enterprise.id,
        category=ProblemCategory(category), source=ProblemSource(source), description=description.strip(),
        unit_ids=[str(u) for u in unit_ids], raised_on=raised_on, limit_days=limit_days, deadline=reckoned.value,
        deadline_provisional=reckoned.provisional, raised_by_id=actor.id, state=ProblemState.open, progress=[])
    session.add(problem)
    session.flush()
    note_problem(session, problem)
    return problem


def enterprise_problem_target(session: Session, actor: User, enterprise_id: uuid.UUID, *,
                              today: date | None = None) -> Enterprise:
    """The enterprise a caller may raise a problem of: in scope (else 404, like an id that does not exist), and
    the caller office staff or an official serving it now (else 403: the enterprise itself is no secret)."""
    enterprise = get_enterprise(session, actor, enterprise_id)
    if actor.role not in OFFICE_ROLES and enterprise.id not in set(session.execute(
            assigned_ids(actor, ServiceAssignment.enterprise_id)).scalars()):
        raise NotAllowed("Only the office and the officials serving an enterprise raise its problems.")
    return enterprise


def note_progress(session: Session, actor: User, problem: ServiceProblem, *, note: str) -> ServiceProblem:
    if problem.state is not ProblemState.open:
        raise Conflict(f"The problem is {problem.state.value}.")
    if not note.strip():
        raise InvalidInput("note", "Required.")
    problem.progress = [*problem.progress, {"on": office_today().isoformat(), "by": str(actor.id),
                                            "note": note.strip()}]
    session.flush()
    note_problem(session, problem)
    return problem


def close(session: Session, actor: User, problem: ServiceProblem, *, solved: bool, confirmed_by: str,
          confirmation: str, closed_on: date | None = None) -> ServiceProblem:
    """Solved (or not) as the enterprise confirms it: who confirmed and what they said are required."""
    require(actor, "problems.close")
    if problem.state is not ProblemState.open:
        raise Conflict(f"The problem is {problem.state.value} already.")
    closed_on = closed_on or office_today()
    if closed_on < problem.raised_on or closed_on > office_today():
        raise InvalidInput("closed_on", "Between the day it was raised and today.")
    if not confirmed_by.strip():
        raise InvalidInput("confirmed_by", "Who at the enterprise confirmed it.")
    if not confirmation.strip():
        raise InvalidInput("confirmation", "What the enterprise confirmed.")
    cal = calendar_for(session, session.get(Jurisdiction, problem.jurisdiction_id))
    problem.state = ProblemState.solved if solved else ProblemState.unsolved
    problem.closed_on, problem.confirmed_by = closed_on, confirmed_by.strip()
    problem.confirmation = confirmation.strip()
    problem.days_to_close = cal.working_days_between(problem.raised_on, closed_on)
    session.flush()
    note_problem(session, problem)
    return problem


def open_case(session: Session, actor: User, problem: ServiceProblem, *, handler_id: uuid.UUID | None = None,
              today: date | None = None) -> Case:
    """An overdue open problem (or one closed unsolved) becomes an efficiency case naming the acting units."""
    require(actor, "problems.case")
    today = today or office_today()
    overdue = problem.state is ProblemState.open and problem.deadline < today
    if not (overdue or problem.state is ProblemState.unsolved):
        raise Conflict("Only an overdue problem, or one left unsolved, becomes a case.")
    if problem.case_id is not None:
        raise Conflict("A case was opened from this problem already.", case_id=str(problem.case_id))
    project = session.get(KeyProject, problem.project_id) if problem.project_id else None
    enterprise = session.get(Enterprise, problem.enterprise_id) if project is None else None
    case = office_cases.open_case(
        session, actor, kind=CaseKind.efficiency_complaint,
        title=f"重点项目问题{'逾期未办结' if overdue else '未解决'}：{project.name if project else enterprise.name}",
        summary=problem.description, subjects=[{"unit_id": uuid.UUID(u)} for u in problem.unit_ids],
        handler_id=handler_id, jurisdiction_id=problem.jurisdiction_id,
        origin={"service_problem": str(problem.id), "deadline": problem.deadline.isoformat()})
    problem.case_id = case.id
    session.flush()
    note_problem(session, problem)
    return case


def figures(session: Session, actor: User, *, start: date, end: date,
            today: date | None = None) -> list[dict[str, Any]]:
    """Per campaign (and overall): problems raised in the period, solved, unsolved, open overdue, and the
    median working days to solve; counts in SQL, the median over the solved ones' days; and the serving
    officials' visit compliance over the period (field/service/compliance.py ``campaign_figures``)."""
    require(actor, "figures")
    today = today or office_today()
    if end < start:
        raise InvalidInput("to", "The period ends before it starts.")
    # A project's campaign; for an enterprise's own problem (no project), the campaign the enterprise is served in.
    campaign_of = func.coalesce(
        select(ServiceAssignment.campaign).where(ServiceAssignment.project_id == ServiceProblem.project_id)
        .order_by(ServiceAssignment.campaign).limit(1).scalar_subquery(),
        select(ServiceAssignment.campaign).where(ServiceProblem.project_id.is_(None),
                                                 ServiceAssignment.enterprise_id == ServiceProblem.enterprise_id)
        .order_by(ServiceAssignment.campaign).limit(1).scalar_subquery())
    rows = session.execute(select(campaign_of, ServiceProblem.state, ServiceProblem.deadline,
                                  ServiceProblem.days_to_close).where(
        visible_problems(actor), ServiceProblem.raised_on.between(start, end))).all()
    groups: dict[str, list] = {"all": []}
    for campaign, *rest in rows:
        groups["all"].append(rest)
        if campaign is not None:
            groups.setdefault(Campaign(campaign).value, []).append(rest)
    visits = campaign_figures(session, actor, start=start, end=end, today=today)
    for name in visits:
        groups.setdefault(name, [])
    out = []
    for name, items in groups.items():
        solved = [d for state, _, d in items if state is ProblemState.solved]
        out.append({"campaign": name, "raised": len(items), "solved": len(solved),
                    "unsolved": sum(1 for s, _, _ in items if s is ProblemState.unsolved),
                    "overdue": sum(1 for s, dl, _ in items if s is ProblemState.open and dl < today),
                    "median_days_to_solve": float(statistics.median(solved)) if solved else None,
                    **visits.get(name, {"visit_periods_due": 0, "visit_periods_met": 0, "visit_periods_missed": 0,
                                        "visit_compliance": None})})
    return out

