"""Working days on the official Chinese calendar, checked against real published schedules."""

from __future__ import annotations

import datetime as dt
from datetime import date

import pytest

from field.core.workdays import LIBRARY_YEARS, CalendarNotCovered, WorkCalendar

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


def test_a_year_the_library_does_not_know_is_refused_naming_it():
    with pytest.raises(CalendarNotCovered) as caught:
        OFFICIAL.is_working_day(date(FIRST_UNPUBLISHED_YEAR, 3, 1))
    assert caught.value.year == FIRST_UNPUBLISHED_YEAR
    assert caught.value.day == date(FIRST_UNPUBLISHED_YEAR, 3, 1)
    assert f"no official working-day calendar for {FIRST_UNPUBLISHED_YEAR}" in str(caught.value)


@pytest.mark.parametrize("day", [date(2003, 12, 31), date(2100, 1, 4)])
def test_years_before_or_far_beyond_the_library_are_refused(day):
    with pytest.raises(CalendarNotCovered, match=f"for {day.year} \\(needed for {day.isoformat()}\\)"):
        OFFICIAL.is_working_day(day)


def test_calendar_not_covered_is_a_value_error():
    assert issubclass(CalendarNotCovered, ValueError)


def test_counting_into_an_unpublished_year_is_refused_not_guessed():
    last_day = date(max(LIBRARY_YEARS), 12, 31)
    with pytest.raises(CalendarNotCovered) as caught:
        OFFICIAL.add_working_days(last_day - dt.timedelta(1), 10)
    assert caught.value.day == date(FIRST_UNPUBLISHED_YEAR, 1, 1)
    with pytest.raises(CalendarNotCovered):
        OFFICIAL.earliest_date_after_notice(last_day, 5)
    with pytest.raises(CalendarNotCovered):
        OFFICIAL.working_days_between(last_day, date(FIRST_UNPUBLISHED_YEAR, 1, 10))


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


def test_an_override_answers_for_its_own_date_in_an_uncovered_year_and_no_other():
    day = date(FIRST_UNPUBLISHED_YEAR, 1, 4)
    local = WorkCalendar({day: True})
    assert local.is_working_day(day)
    assert FIRST_UNPUBLISHED_YEAR not in local.covered_years
    with pytest.raises(CalendarNotCovered):
        local.is_working_day(day + dt.timedelta(1))


def test_a_year_declared_covered_by_the_admin_uses_weekdays_plus_overrides():
    year = FIRST_UNPUBLISHED_YEAR
    new_year = date(year, 1, 1)
    local = WorkCalendar({new_year: False}, covered_years_extra={year})
    assert year in local.covered_years
    assert not local.is_working_day(new_year)
    for day in days(date(year, 3, 1), date(year, 3, 14)):
        assert local.is_working_day(day) == (day.weekday() < 5)


def test_declaring_a_year_covered_does_not_cover_the_next_one():
    local = WorkCalendar(covered_years_extra={FIRST_UNPUBLISHED_YEAR})
    with pytest.raises(CalendarNotCovered):
        local.is_working_day(date(FIRST_UNPUBLISHED_YEAR + 1, 1, 5))


def test_declaring_a_library_year_covered_keeps_the_official_data():
    local = WorkCalendar(covered_years_extra={2025})
    assert local.is_working_day(date(2025, 10, 11))  # make-up Saturday, not a weekday default
    assert not local.is_working_day(date(2025, 10, 2))  # holiday Thursday


def test_overrides_are_copied_at_construction():
    overrides = {date(2025, 9, 30): False}
    local = WorkCalendar(overrides)
    overrides[date(2025, 9, 30)] = True
    assert not local.is_working_day(date(2025, 9, 30))
    assert dict(local.overrides) == {date(2025, 9, 30): False}


def test_an_override_must_be_true_or_false():
    with pytest.raises(TypeError, match="True \\(working\\) or False"):
        WorkCalendar({date(2025, 9, 30): 0})  # type: ignore[dict-item]


def test_a_declared_covered_year_must_be_a_year_number():
    with pytest.raises(ValueError, match="year number"):
        WorkCalendar(covered_years_extra={"2027"})  # type: ignore[arg-type]


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
