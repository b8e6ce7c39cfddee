"""Serving officials' visit compliance over a seeded March 2026, equal to a count by hand, on both databases.

The seeded month (today: Wednesday 15 April 2026):

- project P, chief C and secretary S from Monday 2 March, campaign 365. March's weeks (Monday to Sunday)
  overlapping the assignment: 2-8, 9-15, 16-22, 23-29 March and 30 March-5 April (it overlaps March): 5 due.
- C owes 1 a week (the default). Visits: 3 Mar; 10 Mar twice; 18 Mar (rejected: not counted); 24 Mar;
  1 Apr (in the last week, outside March: the week is the unit). Met: weeks 1, 2, 4, 5; missed: 16-22 March.
- S owes 2 a week (the district's setting). Visits: 2 and 4 Mar (week 1 met); 11 Mar (week 2: one, short).
  Met 1, missed 4.
- department head D of enterprise E2 from 1 March, campaign double_hundred, 2 a month (the default). Visits:
  5 Mar and 00:30 on 1 April China time (31 March in UTC: counted in April). March: 1 visit, missed.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from field.core.locations import GivenLocation
from field.core.models.platform import Role
from field.core.models.records import ReviewState
from field.core.office import fixed_day
from field.directory import enterprises
from field.records import lifecycle as records
from field.service import obligations, problems, projects, visits
from field.service.compliance import assess, compliance_query
from field.reports.compliance import parse_period
from tests.directory_fixtures import credit_code

CST = timezone(timedelta(hours=8))
SITE = GivenLocation(106.52, 29.51)
TODAY = date(2026, 4, 15)


def _at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CST)


@pytest.fixture
def seeded(session, make_user):
    admin, reviewer = make_user(Role.admin), make_user(Role.reviewer)
    chief, secretary, head = make_user(Role.leader), make_user(Role.leader), make_user(Role.leader)
    ent = enterprises.create_enterprise(session, admin, name="物流公司", credit_code=credit_code(), location=SITE)
    ent2 = enterprises.create_enterprise(session, admin, name="规上企业", credit_code=credit_code(), location=SITE)
    project = projects.create_project(session, admin, name="西部物流园二期", investment_10k=150000,
                                      enterprise_id=ent.id, location=SITE)
    assigned = {}
    for who, role in ((chief, "chief"), (secretary, "secretary")):
        assigned[role] = projects.assign(session, admin, official_id=who.id, role=role, campaign="365",
                                         starts_on=date(2026, 3, 2), project_id=project.id)
    assigned["department_head"] = projects.assign(session, admin, official_id=head.id, role="department_head",
                                                  campaign="double_hundred", starts_on=date(2026, 3, 1),
                                                  enterprise_id=ent2.id)
    obligations.set_obligation(session, admin, role="secretary", visits=2, per="week")

    def log(user, when, **target):
        return visits.log_visit(session, records.Receipt(user, None, None), uuid.uuid4(), device_time=when,
                                visited_at=when, location=SITE, **target).record

    for when in (_at(3, 3), _at(3, 10, 9), _at(3, 10, 15), _at(3, 24), _at(4, 1)):
        log(chief, when, project_id=project.id)
    rejected = log(chief, _at(3, 18), project_id=project.id)
    records.review(session, reviewer, rejected, ReviewState.rejected, "照片不是现场")
    for when in (_at(3, 2), _at(3, 4), _at(3, 11)):
        log(secretary, when, project_id=project.id)
    for when in (_at(3, 5), _at(4, 1, 0, 30)):
        log(head, when, enterprise_id=ent2.id)
    return dict(admin=admin, reviewer=reviewer, assigned=assigned, chief=chief)


def test_march_compliance_per_assignment_equals_the_count_by_hand(session, seeded):
    rows = {c.assignment.role.value: c for c in assess(session, session.execute(
        compliance_query(seeded["admin"])).scalars(), parse_period("2026-03"), TODAY)}
    got = {role: (c.obligation.visits, c.obligation.per.value, c.periods_due, c.periods_met, c.periods_missed,
                  c.visits) for role, c in rows.items()}
    assert got == {"chief": (1, "week", 5, 4, 1, 5), "secretary": (2, "week", 5, 1, 4, 3),
                   "department_head": (2, "month", 1, 0, 1, 1)}
    assert [(m.start, m.visits) for m in rows["chief"].missed] == [(date(2026, 3, 16), 0)]
    assert [(m.start, m.visits) for m in rows["secretary"].missed] == [
        (date(2026, 3, 9), 1), (date(2026, 3, 16), 0), (date(2026, 3, 23), 0), (date(2026, 3, 30), 0)]
    # Today is in the week of 13 April: nobody has visited yet, so everyone is behind.
    assert rows["chief"].current_period.start == date(2026, 4, 13) and rows["chief"].behind
    assert rows["department_head"].current_period.visits == 1  # 1 April 00:30 China time
    assert rows["chief"].last_visit_at.astimezone(CST) == _at(4, 1)


def test_an_official_sees_only_their_own_assignments(session, seeded):
    own = session.execute(compliance_query(seeded["chief"])).scalars().all()
    assert [a.id for a in own] == [seeded["assigned"]["chief"].id]


def test_the_service_figures_give_visit_compliance_per_campaign(session, seeded):
    with fixed_day(TODAY):
        rows = {r["campaign"]: r for r in problems.figures(session, seeded["reviewer"], start=date(2026, 3, 1),
                                                           end=date(2026, 3, 31), today=TODAY)}
    visits_of = {k: (r["visit_periods_due"], r["visit_periods_met"], r["visit_periods_missed"],
                     r["visit_compliance"]) for k, r in rows.items()}
    # 365: 10 due, met 4 + 1, missed 1 + 4; 双百: 1 due, missed; all: 5 of 11.
    assert visits_of == {"all": (11, 5, 6, round(5 / 11, 4)), "365": (10, 5, 5, 0.5),
                         "double_hundred": (1, 0, 1, 0.0)}
    assert rows["all"]["raised"] == 0


def test_the_obligation_of_a_role_is_the_nearest_setting_up_the_tree(session, seeded, make_user, tree):
    street_admin = make_user(Role.admin, jurisdiction=tree["home_street"])
    other_admin = make_user(Role.admin, jurisdiction=tree["other"])
    found = {o.role.value: (o.visits, o.per.value, o.jurisdiction_id is not None)
             for o in obligations.obligations_for(session, seeded["admin"])}
    assert found == {"chief": (1, "week", False), "secretary": (2, "week", True),
                     "department_head": (2, "month", False)}
    assert {o.role.value: o.visits for o in obligations.obligations_for(session, street_admin)}["secretary"] == 2
    assert {o.role.value: o.visits for o in obligations.obligations_for(session, other_admin)}["secretary"] == 1
    obligations.set_obligation(session, street_admin, role="secretary", visits=3, per="month")
    assert [(o.visits, o.per.value) for o in obligations.obligations_for(session, street_admin)
            if o.role.value == "secretary"] == [(3, "month")]
