"""Visit-obligation compliance: periods due, visited and missed per point, grouped by period in the database."""

from datetime import date, datetime

import pytest

from field.reports import compliance
from field.records import lifecycle as records
from field.core.errors import NotAllowed
from field.reports.compliance import Period, PeriodStatus
from field.core.models.records import ReviewState
from field.core.models.platform import Role
from tests.reports_fixtures import (  # noqa: F401 (fixtures)
    enterprise,
    leader,
    liaison,
    make_enterprise,
    make_point,
    make_unit,
    point,
    reviewer,
    send_visit,
    set_point,
)


def _at(text):
    return datetime.fromisoformat(text)


def _report(session, user, period, today, **kw):
    return compliance.compliance_page(session, user, period, today=today, limit=100, **kw).items


def test_a_weekly_obligation_counts_calendar_weeks_in_china_time(session, leader, point, set_point, reviewer):
    set_point(point, visit_frequency="weekly", active_from=date(2026, 3, 2))
    for when in ("2026-03-03T10:00:00+08:00",   # week of 2 Mar
                 "2026-03-04T15:00:00+08:00",   # the same week again
                 "2026-03-18T09:00:00+08:00",   # week of 16 Mar
                 "2026-03-29T23:30:00+08:00"):  # Sunday night: still the week of 23 Mar (15:30 UTC)
        send_visit(session, leader, point, visited_at=_at(when))
    [row] = _report(session, reviewer, "2026-03", today=date(2026, 4, 1))
    assert (row.point_id, row.leader.id, row.obligation.value) == (point.id, leader.id, "weekly")
    # Weeks of 2, 9, 16, 23 and 30 March (the last one begun, still open); 23 Feb is before the point.
    assert (row.periods_due, row.periods_visited, row.periods_missed) == (5, 3, 1)
    assert row.missed == [Period(date(2026, 3, 9), date(2026, 3, 15))]
    assert row.last_visit_at == _at("2026-03-29T15:30:00+00:00")
    assert row.last_completed_period == PeriodStatus(date(2026, 3, 23), date(2026, 3, 29), True)
    assert row.current_period == PeriodStatus(date(2026, 3, 30), date(2026, 4, 5), False)
    assert row.behind  # this week still owes its visit


def test_a_visit_just_after_midnight_china_time_belongs_to_the_new_week(session, leader, point, set_point,
                                                                        reviewer):
    set_point(point, visit_frequency="weekly", active_from=date(2026, 3, 2))
    send_visit(session, leader, point, visited_at=_at("2026-03-23T10:00:00+08:00"))
    send_visit(session, leader, point, visited_at=_at("2026-03-30T00:30:00+08:00"))  # 29 Mar 16:30 UTC
    [row] = _report(session, reviewer, "2026-W14", today=date(2026, 4, 1))
    assert row.current_period.visited and row.last_completed_period.visited and not row.behind
    assert (row.periods_due, row.periods_visited, row.periods_missed) == (1, 1, 0)


def test_a_quarterly_obligation_counts_from_the_quarter_the_point_started_in(session, leader, point, set_point,
                                                                             reviewer):
    set_point(point, visit_frequency="quarterly", active_from=date(2025, 11, 15))
    send_visit(session, leader, point, visited_at=_at("2025-12-20T10:00:00+08:00"))
    send_visit(session, leader, point, visited_at=_at("2026-02-10T10:00:00+08:00"))
    rejected = send_visit(session, leader, point, visited_at=_at("2026-05-10T10:00:00+08:00")).record
    records.review(session, reviewer, rejected, ReviewState.rejected, "照片是去年的")
    [year] = _report(session, reviewer, "2026", today=date(2026, 8, 10))
    assert (year.periods_due, year.periods_visited, year.periods_missed) == (3, 1, 1)
    assert year.missed == [Period(date(2026, 4, 1), date(2026, 6, 30))]  # the rejected visit does not count
    assert year.last_visit_at == _at("2026-02-10T02:00:00+00:00")
    assert year.behind and not year.current_period.visited
    [last_year] = _report(session, reviewer, "2025", today=date(2026, 8, 10))
    assert (last_year.periods_due, last_year.periods_visited, last_year.periods_missed) == (1, 1, 0)


def test_a_monthly_obligation_ends_with_the_point_and_is_then_never_behind(session, leader, point, set_point,
                                                                          reviewer):
    set_point(point, visit_frequency="monthly", active_from=date(2026, 1, 1), active_to=date(2026, 2, 10))
    send_visit(session, leader, point, visited_at=_at("2026-01-20T10:00:00+08:00"))
    [row] = _report(session, reviewer, "2026", today=date(2026, 6, 1))
    assert (row.periods_due, row.periods_visited, row.periods_missed) == (2, 1, 1)
    assert row.current_period is None and row.last_completed_period is None and not row.behind


def test_a_point_that_starts_later_owes_nothing_yet(session, leader, point, set_point, reviewer):
    set_point(point, visit_frequency="monthly", active_from=date(2026, 9, 1))
    [row] = _report(session, reviewer, "2026", today=date(2026, 6, 1))
    assert (row.periods_due, row.periods_missed, row.behind) == (0, 0, False)
    assert row.current_period is None and row.last_completed_period is None


def test_visits_in_the_period_count_even_outside_the_asked_range(session, leader, point, set_point, reviewer):
    set_point(point, visit_frequency="quarterly", active_from=date(2026, 1, 1))
    send_visit(session, leader, point, visited_at=_at("2026-03-20T10:00:00+08:00"))
    [row] = _report(session, reviewer, "2026-01", today=date(2026, 4, 2))
    assert (row.periods_due, row.periods_visited, row.periods_missed) == (1, 1, 0)


def test_the_office_sees_every_obliged_point_in_scope_and_a_leader_their_own(
        session, leader, point, make_point, make_user, reviewer, tree):
    other_leader = make_user(Role.leader)
    covert = make_point(covert=True, leader=other_leader)
    make_point()  # no leader: no obligation
    listed = {row.point_id for row in _report(session, reviewer, "2026", today=date(2026, 6, 1))}
    assert listed == {point.id, covert.id}
    assert [r.point_id for r in _report(session, leader, "2026", today=date(2026, 6, 1))] == [point.id]
    assert [r.point_id for r in _report(session, reviewer, "2026", today=date(2026, 6, 1),
                                        leader_id=other_leader.id)] == [covert.id]
    assert _report(session, make_user(Role.reviewer, jurisdiction=tree["other"]), "2026", today=date(2026, 6, 1)) == []
    with pytest.raises(NotAllowed):
        _report(session, make_user(Role.inspector), "2026", today=date(2026, 6, 1))


def test_many_points_are_assessed_with_a_fixed_number_of_queries(session, leader, make_point, reviewer, engine):
    from sqlalchemy import event

    points = [make_point(leader=leader) for _ in range(6)]
    for p in points:
        send_visit(session, leader, p, visited_at=_at("2026-05-06T09:30:00+08:00"))
    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        rows = _report(session, reviewer, "2026", today=date(2026, 6, 1))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(rows) == 6 and all(r.periods_visited == 1 for r in rows)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 6, selects  # the page (with its eager loads) and two grouped queries
