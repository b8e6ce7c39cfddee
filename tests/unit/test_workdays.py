"""Working days on the official Chinese calendar (real published schedules), declared years, provisional years."""

from __future__ import annotations

import datetime as dt
from datetime import date

import pytest

from field.core.workdays import LIBRARY_YEARS, WorkCalendar, YearSchedule, validate_schedule

OFFICIAL = WorkCalendar()
FIRST_UNPUBLISHED_YEAR = max(LIBRARY_YEARS) + 1


def days(first: date, last: date) -> list[date]:
    return [first + dt.timedelta(n) for n in range((last - first).days + 1)]


def test_the_installed_library_covers_2004_through_at_least_2026():
    assert min(LIBRARY_YEARS) == 2004
    assert {2025, 2026} <= LIBRARY_YEARS
    assert OFFICIAL.covered_years == LIBRARY_YEARS


# National Day and Mid-autumn 2025 (State Council General Office notice on the 2025
# holidays, November 2024): 1-8 October off, Sunday 28 September and Saturday
# 11 October are working days.
@pytest.mark.parametrize("day", days(date(2025, 10, 1), date(2025, 10, 8)))
def test_national_day_2025_runs_from_the_1st_to_the_8th_of_october(day):
    assert not OFFICIAL.is_working_day(day)


@pytest.mark.parametrize("day", [date(2025, 9, 28), date(2025, 10, 11)])
def test_the_make_up_sunday_and_saturday_around_national_day_2025_are_working_days(day):
    assert day.weekday() >= 5
    assert OFFICIAL.is_working_day(day)


def test_the_days_around_national_day_2025_are_ordinary():
    assert OFFICIAL.is_working_day(date(2025, 9, 30))  # Tuesday
    assert OFFICIAL.is_working_day(date(2025, 10, 9))  # Thursday
    assert not OFFICIAL.is_working_day(date(2025, 9, 27))  # Saturday, not a make-up day
    assert not OFFICIAL.is_working_day(date(2025, 10, 12))  # Sunday


def test_spring_festival_2025_is_28_january_to_4_february_with_two_make_up_days():
    assert not any(OFFICIAL.is_working_day(d) for d in days(date(2025, 1, 28), date(2025, 2, 4)))
    assert OFFICIAL.is_working_day(date(2025, 1, 26))  # Sunday
    assert OFFICIAL.is_working_day(date(2025, 2, 8))  # Saturday
    assert OFFICIAL.is_working_day(date(2025, 2, 5))


def test_spring_festival_2026_is_15_to_23_february_with_two_make_up_saturdays():
    assert not any(OFFICIAL.is_working_day(d) for d in days(date(2026, 2, 15), date(2026, 2, 23)))
    assert OFFICIAL.is_working_day(date(2026, 2, 14))  # Saturday
    assert OFFICIAL.is_working_day(date(2026, 2, 28))  # Saturday
    assert OFFICIAL.is_working_day(date(2026, 2, 24))


def test_an_ordinary_week_has_five_working_days():
    week = days(date(2025, 9, 15), date(2025, 9, 21))
    assert [OFFICIAL.is_working_day(d) for d in week] == [True] * 5 + [False] * 2


def test_five_working_days_notice_filed_friday_before_national_day_2025_allows_the_10th_of_october():
    # Filed Fri 26 Sep: Sun 28 (make-up), Mon 29, Tue 30, Thu 9 Oct, Fri 10 Oct.
    assert OFFICIAL.earliest_date_after_notice(date(2025, 9, 26), 5) == date(2025, 10, 10)


def test_five_working_days_notice_filed_on_an_ordinary_monday_allows_the_next_monday():
    assert OFFICIAL.earliest_date_after_notice(date(2025, 9, 1), 5) == date(2025, 9, 8)


def test_the_day_before_the_earliest_date_has_too_little_notice():
    filed, earliest = date(2025, 9, 26), date(2025, 10, 10)
    assert OFFICIAL.working_days_between(filed, earliest) == 5
    assert OFFICIAL.working_days_between(filed, earliest - dt.timedelta(1)) == 4


def test_a_make_up_saturday_counts_as_a_notice_day():
    # Filed Tue 30 Sep: Thu 9, Fri 10, Sat 11 (make-up), Mon 13, Tue 14 October.
    assert OFFICIAL.earliest_date_after_notice(date(2025, 9, 30), 5) == date(2025, 10, 14)
    assert OFFICIAL.add_working_days(date(2025, 10, 10), 1) == date(2025, 10, 11)


def test_filing_on_a_weekend_counts_as_filing_the_friday_before():
    friday, saturday, sunday = date(2025, 9, 19), date(2025, 9, 20), date(2025, 9, 21)
    earliest = OFFICIAL.earliest_date_after_notice(friday, 5)
    assert earliest == date(2025, 9, 26)
    assert OFFICIAL.earliest_date_after_notice(saturday, 5) == earliest
    assert OFFICIAL.earliest_date_after_notice(sunday, 5) == earliest


def test_the_filing_day_is_not_counted_even_when_it_is_a_make_up_working_day():
    # Filed on the make-up Sunday 28 Sep 2025: Mon 29, Tue 30, Thu 9, Fri 10, Sat 11 Oct.
    assert OFFICIAL.earliest_date_after_notice(date(2025, 9, 28), 5) == date(2025, 10, 11)
    # Filed the ordinary Saturday before, the make-up Sunday is the first notice day.
    assert OFFICIAL.earliest_date_after_notice(date(2025, 9, 27), 5) == date(2025, 10, 10)


def test_no_notice_allows_the_same_day():
    assert OFFICIAL.earliest_date_after_notice(date(2025, 10, 3), 0) == date(2025, 10, 3)


def test_a_negative_notice_is_refused():
    with pytest.raises(ValueError, match="must not be negative"):
        OFFICIAL.earliest_date_after_notice(date(2025, 9, 26), -1)


def test_adding_working_days_skips_the_whole_holiday():
    assert OFFICIAL.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert OFFICIAL.add_working_days(date(2025, 10, 1), 1) == date(2025, 10, 9)


def test_adding_working_days_backwards_skips_the_holiday_too():
    assert OFFICIAL.add_working_days(date(2025, 10, 9), -1) == date(2025, 9, 30)
    assert OFFICIAL.add_working_days(date(2025, 10, 5), -1) == date(2025, 9, 30)
    assert OFFICIAL.add_working_days(date(2025, 9, 29), -1) == date(2025, 9, 28)  # make-up Sunday


def test_adding_zero_working_days_returns_the_start_even_on_a_holiday():
    assert OFFICIAL.add_working_days(date(2025, 10, 1), 0) == date(2025, 10, 1)


def test_working_days_between_counts_after_the_first_day_up_to_and_including_the_last():
    assert OFFICIAL.working_days_between(date(2025, 9, 29), date(2025, 9, 30)) == 1
    assert OFFICIAL.working_days_between(date(2025, 9, 30), date(2025, 10, 9)) == 1
    assert OFFICIAL.working_days_between(date(2025, 9, 30), date(2025, 9, 30)) == 0
    # September 2025 (after the 31st of August): 22 weekdays plus the make-up Sunday 28th.
    assert OFFICIAL.working_days_between(date(2025, 8, 31), date(2025, 9, 30)) == 23


def test_working_days_between_is_negative_when_the_dates_are_reversed():
    assert OFFICIAL.working_days_between(date(2025, 10, 10), date(2025, 9, 26)) == -5


@pytest.mark.parametrize("n", [1, 3, 5, 10, 20])
def test_counting_the_days_between_undoes_adding_them(n):
    for start in days(date(2025, 9, 20), date(2025, 10, 15)):
        end = OFFICIAL.add_working_days(start, n)
        assert OFFICIAL.working_days_between(start, end) == n
        assert OFFICIAL.is_working_day(end)


@pytest.mark.parametrize("n", [1, 3, 5, 10, 20])
def test_going_back_n_working_days_and_forward_again_returns_to_a_working_start(n):
    for start in days(date(2025, 9, 20), date(2025, 10, 15)):
        back = OFFICIAL.add_working_days(start, -n)
        assert OFFICIAL.is_working_day(back)
        if OFFICIAL.is_working_day(start):
            assert OFFICIAL.add_working_days(back, n) == start
            assert OFFICIAL.working_days_between(back, start) == n


def test_working_days_between_is_antisymmetric():
    span = days(date(2025, 9, 24), date(2025, 10, 14))
    for a in span:
        for b in span:
            assert OFFICIAL.working_days_between(a, b) == -OFFICIAL.working_days_between(b, a)


def test_on_the_saturday_after_a_friday_deadline_no_working_day_is_overdue_yet():
    friday_deadline, saturday = date(2025, 9, 19), date(2025, 9, 20)
    assert OFFICIAL.working_days_between(saturday, friday_deadline) == 0
    assert OFFICIAL.working_days_between(date(2025, 9, 22), friday_deadline) == -1


def test_a_year_the_library_does_not_know_is_answered_on_weekends_alone_and_marked_provisional():
    monday = date(FIRST_UNPUBLISHED_YEAR, 3, 1) + dt.timedelta(-date(FIRST_UNPUBLISHED_YEAR, 3, 1).weekday() + 7)
    week = days(monday, monday + dt.timedelta(6))
    assert [OFFICIAL.is_working_day(d) for d in week] == [True] * 5 + [False] * 2
    assert all(OFFICIAL.is_provisional(d) for d in week)
    assert not OFFICIAL.is_provisional(date(max(LIBRARY_YEARS), 12, 31))


@pytest.mark.parametrize("day", [date(2003, 12, 31), date(2100, 1, 4)])
def test_years_before_or_far_beyond_the_library_are_provisional_too(day):
    assert OFFICIAL.is_provisional(day)
    assert OFFICIAL.is_working_day(day) == (day.weekday() < 5)


def test_counting_into_an_unpublished_year_is_not_refused_and_says_which_year_was_provisional():
    # 2026 ends on Thursday 31 December (a working day); 1 January 2027 is a Friday.
    assert max(LIBRARY_YEARS) == 2026, "the 2026/2027 examples below assume chinese-calendar ends in 2026"
    deadline = OFFICIAL.add_working_days(date(2026, 12, 28), 10)
    # 29, 30, 31 Dec, then Fri 1 Jan (no holiday known), 4-8 Jan, Mon 11 Jan.
    assert deadline == date(2027, 1, 11)
    assert OFFICIAL.provisional_years(date(2026, 12, 28), deadline) == {2027}
    assert OFFICIAL.earliest_date_after_notice(date(2026, 12, 31), 5) == date(2027, 1, 7)
    assert OFFICIAL.working_days_between(date(2026, 12, 31), date(2027, 1, 10)) == 6


def test_a_count_within_known_years_touches_no_provisional_year():
    assert OFFICIAL.provisional_years(date(2025, 9, 26), date(2025, 10, 10)) == frozenset()
    assert OFFICIAL.provisional_years(date(2026, 12, 31), date(2026, 12, 31)) == frozenset()
    # The first day is not counted, so it is not read: (a, b].
    assert OFFICIAL.provisional_years(date(2003, 12, 31), date(2004, 1, 5)) == frozenset()
    assert OFFICIAL.provisional_years(date(2004, 1, 5), date(2003, 12, 30)) == {2003}


def test_provisional_years_lists_every_year_read_on_weekends_alone():
    year = FIRST_UNPUBLISHED_YEAR
    assert OFFICIAL.provisional_years(date(year - 1, 12, 1), date(year + 1, 2, 1)) == {year, year + 1}


# A made-up TEST schedule for 2031 (not an official one): New Year's Day and a Spring
# Festival week, Wednesday 22 to Tuesday 28 January, made up on Sunday 19 January and
# Saturday 8 February.
TEST_2031 = YearSchedule(2031, frozenset([date(2031, 1, 1)] + days(date(2031, 1, 22), date(2031, 1, 28))),
                         frozenset({date(2031, 1, 19), date(2031, 2, 8)}))


def test_a_declared_year_is_answered_by_its_schedule_and_is_not_provisional():
    local = WorkCalendar(schedules=[TEST_2031])
    assert 2031 in local.covered_years
    assert not local.is_working_day(date(2031, 1, 1))
    assert not any(local.is_working_day(d) for d in days(date(2031, 1, 22), date(2031, 1, 28)))
    assert local.is_working_day(date(2031, 1, 19)) and local.is_working_day(date(2031, 2, 8))
    assert local.is_working_day(date(2031, 1, 29)) and not local.is_working_day(date(2031, 2, 1))
    assert not local.is_provisional(date(2031, 6, 1))
    # Sunday 19 (made up), 20, 21, then 29, 30 January: the week off moves the fifth working day.
    assert local.add_working_days(date(2031, 1, 17), 5) == date(2031, 1, 30)
    assert OFFICIAL.add_working_days(date(2031, 1, 17), 5) == date(2031, 1, 24)
    assert local.provisional_years(date(2031, 1, 17), date(2031, 1, 30)) == frozenset()


def test_declaring_a_year_does_not_cover_the_next_one():
    local = WorkCalendar(schedules=[TEST_2031])
    assert local.is_provisional(date(2032, 1, 5))
    assert local.provisional_years(date(2031, 12, 20), date(2032, 1, 10)) == {2032}


def test_a_weekends_only_year_has_monday_to_friday_working_all_year():
    local = WorkCalendar(schedules=[YearSchedule(2031, weekends_only=True)])
    assert local.is_working_day(date(2031, 1, 1)) and not local.is_working_day(date(2031, 1, 4))
    assert not local.is_provisional(date(2031, 1, 1))


def test_the_library_wins_over_a_schedule_declared_for_a_year_it_knows():
    made_up = YearSchedule(2025, frozenset({date(2025, 3, 3)}), frozenset({date(2025, 9, 27)}))
    local = WorkCalendar(schedules=[made_up])
    assert local.is_working_day(date(2025, 3, 3))  # an ordinary Monday for the State Council
    assert not local.is_working_day(date(2025, 9, 27))  # not a make-up day in 2025
    assert local.is_working_day(date(2025, 10, 11))  # the official make-up Saturday


def test_overrides_win_over_a_declared_schedule_and_answer_a_provisional_day():
    local = WorkCalendar({date(2031, 1, 29): False, date(FIRST_UNPUBLISHED_YEAR, 1, 4): True}, [TEST_2031])
    assert not local.is_working_day(date(2031, 1, 29))
    assert local.is_working_day(date(FIRST_UNPUBLISHED_YEAR, 1, 4))
    assert not local.is_provisional(date(FIRST_UNPUBLISHED_YEAR, 1, 4))
    span = (date(FIRST_UNPUBLISHED_YEAR, 1, 3), date(FIRST_UNPUBLISHED_YEAR, 1, 4))
    assert local.provisional_years(*span) == frozenset()  # the only day read has an override


def test_two_schedules_of_one_year_are_refused():
    with pytest.raises(ValueError, match="two schedules for 2031"):
        WorkCalendar(schedules=[TEST_2031, YearSchedule(2031, weekends_only=True)])


# -- a schedule checked as a whole ----------------------------------------------------------


def _problems(holidays=(), makeup=(), weekends_only=False, year=2031):
    return dict(validate_schedule(year, list(holidays), list(makeup), weekends_only))


def test_a_sound_schedule_has_no_problem():
    assert _problems(TEST_2031.holidays, TEST_2031.makeup_workdays) == {}
    assert _problems(weekends_only=True) == {}


def test_a_date_outside_the_year_is_named_by_its_position():
    problems = _problems([date(2031, 1, 1), date(2030, 12, 31)], [date(2032, 1, 3)])
    assert set(problems) == {"holidays.1", "makeup_workdays.0"}
    assert "not in 2031" in problems["holidays.1"]


def test_a_make_up_day_falls_on_a_weekend():
    problems = _problems([date(2031, 1, 1)], [date(2031, 1, 25), date(2031, 1, 20)])
    assert set(problems) == {"makeup_workdays.1"} and "Monday" in problems["makeup_workdays.1"]


def test_no_day_is_both_a_holiday_and_a_make_up_day():
    problems = _problems([date(2031, 1, 1), date(2031, 1, 25)], [date(2031, 1, 25)])
    assert set(problems) == {"holidays.1", "makeup_workdays.0"}


def test_a_day_listed_twice_is_named():
    assert set(_problems([date(2031, 1, 1), date(2031, 1, 1)])) == {"holidays.1"}


def test_a_year_without_holidays_needs_weekends_only_and_weekends_only_takes_no_days():
    assert set(_problems()) == {"holidays"}
    assert set(_problems([date(2031, 1, 1)], weekends_only=True)) == {"weekends_only"}
    assert set(_problems(makeup=[date(2031, 1, 25)], weekends_only=True)) == {"weekends_only"}


def test_a_schedule_for_a_year_out_of_range_is_refused_on_the_year():
    assert set(_problems(weekends_only=True, year=1999)) == {"year"}


def test_a_year_schedule_cannot_be_built_unsound():
    with pytest.raises(ValueError, match="makeup_workdays"):
        YearSchedule(2031, frozenset({date(2031, 1, 1)}), frozenset({date(2031, 1, 20)}))


def test_an_override_makes_a_local_holiday():
    local = WorkCalendar({date(2025, 9, 30): False})
    assert not local.is_working_day(date(2025, 9, 30))
    assert OFFICIAL.is_working_day(date(2025, 9, 30))
    # The notice from 26 September now ends on the make-up Saturday 11 October.
    assert local.earliest_date_after_notice(date(2025, 9, 26), 5) == date(2025, 10, 11)


def test_an_override_can_make_a_holiday_or_a_weekend_a_working_day():
    local = WorkCalendar({date(2025, 10, 8): True, date(2025, 9, 27): True})
    assert local.is_working_day(date(2025, 10, 8))
    assert local.is_working_day(date(2025, 9, 27))


def test_overrides_are_copied_at_construction():
    overrides = {date(2025, 9, 30): False}
    local = WorkCalendar(overrides)
    overrides[date(2025, 9, 30)] = True
    assert not local.is_working_day(date(2025, 9, 30))
    assert dict(local.overrides) == {date(2025, 9, 30): False}


def test_an_override_must_be_true_or_false():
    with pytest.raises(TypeError, match="True \\(working\\) or False"):
        WorkCalendar({date(2025, 9, 30): 0})  # type: ignore[dict-item]


def test_a_schedule_must_be_a_year_schedule():
    with pytest.raises(TypeError, match="YearSchedule"):
        WorkCalendar(schedules=[2027])  # type: ignore[list-item]


def test_a_datetime_is_refused_because_its_day_depends_on_the_time_zone():
    with pytest.raises(TypeError, match="not a datetime"):
        OFFICIAL.is_working_day(dt.datetime(2025, 10, 1, 23, 30))
    with pytest.raises(TypeError, match="not a datetime"):
        WorkCalendar({dt.datetime(2025, 10, 1): True})


def test_a_count_must_be_an_integer():
    with pytest.raises(TypeError):
        OFFICIAL.add_working_days(date(2025, 9, 26), 1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        OFFICIAL.earliest_date_after_notice(date(2025, 9, 26), True)
