"""A seeded year of service: 30 key projects (365) and 100 enterprises under 双百 with their department heads,
problems raised and solved across the 2026 holidays; the figures per campaign equal a count by hand.

"By hand": working days to solve counted here day by day from chinese-calendar's ``is_workday``.
"""

from __future__ import annotations

import random
import statistics
from datetime import date, timedelta

import chinese_calendar
from sqlalchemy import func, select

from field.core.models.platform import Role
from field.core.office import fixed_day
from field.directory import enterprises, units
from field.directory.models import UnitKind
from field.service import problems, projects
from field.service.models import ServiceAssignment
from tests.directory_fixtures import credit_code


def _days(a: date, b: date) -> int:
    return sum(chinese_calendar.is_workday(a + timedelta(days=n)) for n in range(1, (b - a).days + 1))


def test_thirty_projects_and_a_hundred_enterprises_give_the_hand_counted_figures(session, make_user):
    admin = make_user(Role.admin)
    chief, secretary = make_user(Role.leader), make_user(Role.leader)
    unit = units.create_unit(session, admin, name="区发改委", kind=UnitKind.department)
    rng = random.Random(30)
    for k in range(100):
        ent = enterprises.create_enterprise(session, admin, name=f"规上企业{k}", credit_code=credit_code())
        head = make_user(Role.leader) if k < 3 else chief  # three heads of their own, the chief links the rest
        projects.assign(session, admin, official_id=head.id, role="department_head", campaign="double_hundred",
                        starts_on=date(2026, 1, 1), enterprise_id=ent.id)
    expected = {"all": [], "365": [], "double_hundred": []}
    open_late = {"all": 0, "365": 0, "double_hundred": 0}
    with fixed_day(date(2026, 12, 20)):
        for p in range(30):
            campaign = "365" if p < 20 else "double_hundred"
            project = projects.create_project(session, admin, name=f"重点项目{p}", investment_10k=10000 + p)
            for role, who in (("chief", chief), ("secretary", secretary)):
                projects.assign(session, admin, official_id=who.id, role=role, campaign=campaign,
                                starts_on=date(2026, 1, 1), project_id=project.id)
            for n in range(3):
                raised = date(2026, 1, 5) + timedelta(days=rng.randrange(330))
                problem = problems.raise_problem(session, admin, project, category="procedures", source="official",
                                                 description=f"问题{p}-{n}", unit_ids=[unit.id], limit_days=10,
                                                 raised_on=raised)
                if n < 2:  # solved some working days later (calendar days 1-30)
                    closed = min(raised + timedelta(days=rng.randrange(1, 31)), date(2026, 12, 20))
                    problems.close(session, admin, problem, solved=True, confirmed_by="企业负责人",
                                   confirmation="已解决", closed_on=closed)
                    for key in ("all", campaign):
                        expected[key].append(_days(raised, closed))
                elif problem.deadline < date(2026, 12, 20):
                    for key in ("all", campaign):
                        open_late[key] += 1
        got = {r["campaign"]: r for r in problems.figures(session, admin, start=date(2026, 1, 1),
                                                             end=date(2026, 12, 31))}
    raised_count = {"all": 90, "365": 60, "double_hundred": 30}
    # No visit was logged. Weeks from Monday 29 Dec 2025 to Sunday 20 Dec 2026: 51, the last ending today (not
    # missed yet); 2 weekly assignments per project. Months January to December: 12, December not ended.
    visits = {"365": (20 * 2 * 51, 20 * 2 * 50), "double_hundred": (10 * 2 * 51 + 100 * 12, 10 * 2 * 50 + 100 * 11)}
    visits["all"] = tuple(a + b for a, b in zip(visits["365"], visits["double_hundred"]))
    for key, days in expected.items():
        due, missed = visits[key]
        assert got[key] == {"campaign": key, "raised": raised_count[key], "solved": len(days), "unsolved": 0,
                            "overdue": open_late[key], "median_days_to_solve": float(statistics.median(days)),
                            "visit_periods_due": due, "visit_periods_met": 0, "visit_periods_missed": missed,
                            "visit_compliance": 0.0}, key
    heads = session.execute(select(func.count(func.distinct(ServiceAssignment.enterprise_id))).where(
        ServiceAssignment.campaign == "double_hundred", ServiceAssignment.enterprise_id.is_not(None))).scalar_one()
    assert heads == 100
