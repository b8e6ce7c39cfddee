"""Declared years on the database: provisional deadlines, their recomputation when a year is declared, the warning."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from field.core import calendar
from field.cases import calendar_years
from field.cases import lifecycle as cases
from field.cases import view as case_view
from field.figures import figures
from field.cases.calendar_years import ScheduleInvalid
from field.core.errors import Conflict, InvalidInput, NotAllowed
from field.core.models.calendar import CalendarYear
from field.cases.models import CaseKind, CaseState
from field.core.models.platform import Role
from tests.calendar_fixtures import (
    DECLARED_5_DEC,
    DECLARED_28_DEC,
    HOLIDAYS_2027,
    MAKEUP_2027,
    OPENED_5_DEC,
    OPENED_28_DEC,
    PROVISIONAL_5_DEC,
    PROVISIONAL_28_DEC,
    require_2027_unpublished,
)
from tests.integration.test_cases import (  # noqa: F401 (fixtures)
    _record_all_gates,
    _walk_to,
    add_evidence,
    admin,
    make_case,
    make_record,
    make_user,
    member,
    office,
)


@pytest.fixture(autouse=True)
def _scenario_year():
    require_2027_unpublished()


def declare_2027(session, actor, *, today, jurisdiction=None, **kw):
    """Declare the TEST schedule of 2027 (not the official one) and commit."""
    declared = calendar_years.declare_year(session, actor, year=2027, holidays=kw.pop("holidays", HOLIDAYS_2027),
                                           makeup_workdays=kw.pop("makeup_workdays", MAKEUP_2027), today=today,
                                           jurisdiction=jurisdiction, **kw)
    session.commit()
    return declared


def discipline_case(make_case, opened_on, today=None):
    return make_case(kind=CaseKind.discipline, opened_on=opened_on, today=today or opened_on)


def test_a_case_opened_on_5_december_2026_with_30_working_days_gets_a_provisional_deadline(make_case):
    case = discipline_case(make_case, OPENED_5_DEC)
    assert case.time_limit_days == 30
    assert case.deadline == case.effective_deadline == PROVISIONAL_5_DEC
    assert case.deadline_provisional and case.provisional
    assert case.provisional_fields == ["deadline", "effective_deadline", "overdue"]


def test_a_case_whose_deadline_stays_in_a_known_year_is_not_provisional(make_case):
    case = make_case()  # 24 September 2026, 15 days: 22 October
    assert case.deadline == date(2026, 10, 22) and not case.provisional and case.provisional_fields == []


def test_declaring_2027_moves_provisional_deadlines_by_its_holidays_and_logs_each_in_the_timeline(
        session, office, make_case):
    short = discipline_case(make_case, OPENED_5_DEC)
    long = discipline_case(make_case, OPENED_28_DEC)
    settled = make_case()
    declared = declare_2027(session, office["admin"], today=date(2027, 1, 4))
    assert {r.case.id for r in declared.recomputed} == {short.id, long.id}
    assert (short.deadline, long.deadline) == (DECLARED_5_DEC, DECLARED_28_DEC)
    assert short.effective_deadline == DECLARED_5_DEC and long.effective_deadline == DECLARED_28_DEC
    assert not short.provisional and not long.provisional
    entries = case_view.timeline(session, office["reviewer"], long)
    assert [e.kind for e in entries] == ["case.opened", "case.deadline_recomputed"]
    data = entries[-1].data
    assert data["deadline"] == {"old": PROVISIONAL_28_DEC.isoformat(), "new": DECLARED_28_DEC.isoformat()}
    assert data["deadline_provisional"] == {"old": True, "new": False}
    assert data["year"] == 2027 and entries[-1].actor_id == office["admin"].id
    assert [e.kind for e in case_view.timeline(session, office["reviewer"], settled)] == ["case.opened"]


def test_overdue_follows_the_recomputed_deadline(session, office, make_case):
    saturday = date(2027, 1, 16)  # after the provisional Friday 15 January, before Monday 18
    case = discipline_case(make_case, OPENED_5_DEC, today=saturday)

    def listed_overdue():
        stmt = cases.cases_query(office["reviewer"], overdue=True, today=saturday)
        return {c.id for c in session.execute(stmt).scalars()}

    assert case.overdue_on(saturday) and listed_overdue() == {case.id}
    recomputed = declare_2027(session, office["admin"], today=saturday).recomputed
    assert not case.overdue_on(saturday) and listed_overdue() == set()
    assert recomputed[0].changes["overdue"] == {"old": True, "new": False}


def test_a_delay_notice_s_date_is_kept_as_given_and_the_effective_deadline_is_the_later_one(
        session, office, make_case):
    noticed = discipline_case(make_case, OPENED_28_DEC, today=date(2027, 1, 4))
    passed = discipline_case(make_case, OPENED_28_DEC, today=date(2027, 1, 4))
    cases.record_delay_notice(session, office["reviewer"], noticed, reason="需调取市级数据",
                              new_deadline=date(2027, 3, 1), today=date(2027, 1, 4))
    cases.record_delay_notice(session, office["reviewer"], passed, reason="需补充材料",
                              new_deadline=date(2027, 2, 10), today=date(2027, 1, 4))
    session.commit()
    assert noticed.provisional_fields == ["deadline"]  # the effective deadline is the handler's date
    declare_2027(session, office["admin"], today=date(2027, 1, 4))
    assert (noticed.deadline, noticed.effective_deadline) == (DECLARED_28_DEC, date(2027, 3, 1))
    assert passed.delay_notices[0].new_deadline == date(2027, 2, 10)  # the notice itself is never changed
    assert (passed.deadline, passed.effective_deadline) == (DECLARED_28_DEC, DECLARED_28_DEC)


def test_a_case_that_ended_in_an_undeclared_year_has_its_handling_time_recomputed(session, office, make_case):
    case = discipline_case(make_case, date(2026, 12, 21), today=date(2027, 1, 8))
    cases.transition(session, office["reviewer"], case, CaseState.dismissed, reason="重复投诉", today=date(2027, 1, 8))
    session.commit()
    # 22-25, 28-31 December (8) and, on weekends alone, 1, 4-8 January (14).
    assert case.handling_working_days == 14 and case.handling_days_provisional
    assert case.provisional_fields == ["deadline", "effective_deadline", "ended_late", "handling_working_days"]
    recomputed = declare_2027(session, office["admin"], today=date(2027, 1, 8)).recomputed
    assert case.handling_working_days == 13 and not case.handling_days_provisional and not case.provisional
    assert recomputed[0].changes["handling_working_days"] == {"old": 14, "new": 13}


def test_the_handling_figures_say_provisional_until_the_year_is_declared(session, office, make_case, add_evidence):
    closed_on = date(2027, 1, 8)
    case = discipline_case(make_case, date(2026, 12, 21), today=closed_on)
    sha = add_evidence(case_view._source_records(session, case)[0], b"rectified")
    _walk_to(session, office["reviewer"], case, CaseState.rectifying, closed_on)
    _record_all_gates(session, office["reviewer"], case, sha)
    cases.transition(session, office["reviewer"], case, CaseState.closed, today=closed_on)
    session.commit()
    period = dict(start=date(2027, 1, 1), end=date(2027, 1, 31), today=date(2027, 1, 20))
    before = figures.figures(session, office["reviewer"], **period)["cases"]
    assert before["handling_days_mean"]["current"] == 14.0 and before["handling_days_mean"]["provisional"]
    assert before["handling_days_median"]["provisional"]
    declare_2027(session, office["admin"], today=date(2027, 1, 20))
    after = figures.figures(session, office["reviewer"], **period)["cases"]
    assert after["handling_days_mean"]["current"] == 13.0 and not after["handling_days_mean"]["provisional"]


def test_the_overdue_figure_is_provisional_only_where_a_provisional_deadline_could_fall_either_side(
        session, office, make_case):
    discipline_case(make_case, OPENED_5_DEC, today=date(2027, 1, 16))
    in_2027 = figures.figures(session, office["reviewer"], start=date(2027, 1, 1), end=date(2027, 1, 31),
                              today=date(2027, 1, 16))["cases"]["overdue"]
    assert in_2027["current"] == 1 and in_2027["provisional"]
    # As of the end of 2026 the deadline lies in 2027 whatever 2027's holidays: certain.
    in_2026 = figures.figures(session, office["reviewer"], start=date(2026, 12, 1), end=date(2026, 12, 31),
                              today=date(2027, 1, 16))["cases"]["overdue"]
    assert in_2026["current"] == 0 and not in_2026["provisional"]


def test_a_declaration_applies_to_its_subtree_only_and_a_lower_one_wins_there(session, tree, make_user, make_case,
                                                                                office, make_record):
    district_case = discipline_case(make_case, OPENED_5_DEC)
    # The district declares first, weekends only; then the city with the test schedule.
    declare_2027(session, office["admin"], today=OPENED_5_DEC, holidays=[], makeup_workdays=[],
                 weekends_only=True)
    assert district_case.deadline == PROVISIONAL_5_DEC and not district_case.deadline_provisional
    city_admin = make_user(Role.admin, jurisdiction=tree["city"])
    other_reviewer = make_user(Role.reviewer, jurisdiction=tree["other"])
    other_case = make_case(other_reviewer, kind=CaseKind.discipline, opened_on=OPENED_5_DEC, today=OPENED_5_DEC,
                           sources=[make_record(by=make_user(Role.squad_member, jurisdiction=tree["other"]))])
    declared = declare_2027(session, city_admin, today=OPENED_5_DEC)
    assert [r.case.id for r in declared.recomputed] == [other_case.id]
    assert other_case.deadline == DECLARED_5_DEC and district_case.deadline == PROVISIONAL_5_DEC
    assert not calendar.calendar_for(session, tree["other_street"]).is_working_day(date(2027, 1, 1))
    assert calendar.calendar_for(session, tree["home_street"]).is_working_day(date(2027, 1, 1))
    with pytest.raises(Conflict, match="declared already for 重庆市市辖区"):
        declare_2027(session, make_user(Role.admin, jurisdiction=tree["other_street"]), today=OPENED_5_DEC)


def test_overrides_still_win_over_a_declared_year_and_the_lower_level_wins(session, tree, make_user, office):
    declare_2027(session, make_user(Role.admin, jurisdiction=tree["city"]), today=OPENED_5_DEC)
    calendar.add_override(session, office["admin"], day=date(2027, 1, 30), working=False, note="区运动会")
    session.commit()
    assert not calendar.calendar_for(session, tree["home"]).is_working_day(date(2027, 1, 30))
    assert calendar.calendar_for(session, tree["other"]).is_working_day(date(2027, 1, 30))  # the make-up Saturday


def test_a_schedule_is_refused_as_a_whole_naming_every_field(session, office):
    with pytest.raises(ScheduleInvalid) as err:
        declare_2027(session, office["admin"], today=OPENED_5_DEC,
                     holidays=[date(2027, 1, 1), date(2028, 1, 1), date(2027, 1, 30)],
                     makeup_workdays=[date(2027, 1, 30), date(2027, 2, 15)])
    assert {f.field for f in err.value.fields} == {"holidays.1", "holidays.2", "makeup_workdays.0",
                                                    "makeup_workdays.1"}
    assert session.execute(select(CalendarYear)).first() is None


def test_a_year_without_holidays_needs_weekends_only_and_is_shown_as_such(session, office):
    with pytest.raises(ScheduleInvalid) as err:
        declare_2027(session, office["admin"], today=OPENED_5_DEC, holidays=[], makeup_workdays=[])
    assert [f.field for f in err.value.fields] == ["holidays"] and "weekends_only" in err.value.fields[0].message
    declare_2027(session, office["admin"], today=OPENED_5_DEC, holidays=[], makeup_workdays=[], weekends_only=True)
    shown = calendar_years.coverage(session, office["admin"].jurisdiction, OPENED_5_DEC).declared
    assert [(v.year, v.row.weekends_only, v.row.holidays, v.applies_here) for v in shown] == [(2027, True, [], True)]


def test_a_year_the_library_has_or_a_year_declared_twice_is_refused(session, office):
    with pytest.raises(InvalidInput) as err:
        calendar_years.declare_year(session, office["admin"], year=2026, holidays=[date(2026, 1, 1)],
                                    makeup_workdays=[], today=OPENED_5_DEC)
    assert err.value.fields[0].field == "year"
    declare_2027(session, office["admin"], today=OPENED_5_DEC)
    with pytest.raises(Conflict):
        declare_2027(session, office["admin"], today=OPENED_5_DEC)


def test_only_an_admin_declares_a_year(session, office):
    with pytest.raises(NotAllowed):
        declare_2027(session, office["reviewer"], today=OPENED_5_DEC)


def test_the_declaration_itself_is_in_the_custody_log(session, office):
    from field.custody import chain as custody

    row = declare_2027(session, office["admin"], today=OPENED_5_DEC).row
    [entry] = custody.history(session, "calendar_year", row.id)
    assert entry.kind == "calendar.year_declared" and entry.data["holidays"][0] == "2027-01-01"
    assert entry.data["makeup_workdays"] == ["2027-01-30", "2027-02-20"]


# -- the warning ------------------------------------------------------------------------------


def test_the_warning_starts_on_1_november_while_next_year_is_undeclared(session, office, tree):
    assert calendar_years.calendar_warnings(session, date(2026, 10, 31)) == []
    [warning] = calendar_years.calendar_warnings(session, date(2026, 11, 1))
    assert warning.year == 2027 and warning.jurisdictions == ["500107"] and "2027" in warning.message
    assert [w.year for w in calendar_years.calendar_warnings(session, date(2026, 12, 31), tree["home"])] == [2027]
    declare_2027(session, office["admin"], today=date(2026, 11, 1))
    assert calendar_years.calendar_warnings(session, date(2026, 11, 1)) == []


def test_in_an_undeclared_current_year_the_warning_holds_whatever_the_month(session, office):
    assert [w.year for w in calendar_years.calendar_warnings(session, date(2027, 3, 1))] == [2027]


def test_the_warning_names_every_staffed_jurisdiction_the_declaration_does_not_reach(session, tree, make_user,
                                                                                     office):
    make_user(Role.reviewer, jurisdiction=tree["other"])
    declare_2027(session, office["admin"], today=date(2026, 11, 1))  # the district 500107 only
    [warning] = calendar_years.calendar_warnings(session, date(2026, 11, 2))
    assert warning.jurisdictions == ["500103"]
    assert calendar_years.calendar_warnings(session, date(2026, 11, 2), tree["home"]) == []
