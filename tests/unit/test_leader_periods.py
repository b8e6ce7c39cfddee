"""Calendar periods of the leaders' visit obligation: weeks Monday–Sunday, calendar months and quarters."""

from datetime import date

import pytest

from field.core.errors import InvalidInput
from field.reports.compliance import Period, parse_period, period_of, periods_overlapping
from field.directory.models import VisitFrequency


@pytest.mark.parametrize("frequency, day, start, end", [
    ("weekly", date(2026, 5, 6), date(2026, 5, 4), date(2026, 5, 10)),      # a Wednesday
    ("weekly", date(2026, 5, 10), date(2026, 5, 4), date(2026, 5, 10)),     # Sunday ends the week
    ("weekly", date(2026, 1, 1), date(2025, 12, 29), date(2026, 1, 4)),     # across the new year
    ("monthly", date(2024, 2, 29), date(2024, 2, 1), date(2024, 2, 29)),    # a leap February
    ("monthly", date(2026, 12, 31), date(2026, 12, 1), date(2026, 12, 31)),
    ("quarterly", date(2026, 5, 6), date(2026, 4, 1), date(2026, 6, 30)),
    ("quarterly", date(2026, 12, 31), date(2026, 10, 1), date(2026, 12, 31)),
    ("quarterly", date(2026, 1, 1), date(2026, 1, 1), date(2026, 3, 31)),
])
def test_a_day_falls_in_one_calendar_period_of_each_frequency(frequency, day, start, end):
    assert period_of(VisitFrequency(frequency), day) == Period(start, end)


def test_the_periods_of_a_range_include_those_it_only_touches():
    weeks = periods_overlapping(VisitFrequency.weekly, date(2026, 3, 1), date(2026, 3, 31))
    assert [w.start for w in weeks] == [date(2026, 2, 23), date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16),
                                        date(2026, 3, 23), date(2026, 3, 30)]
    assert periods_overlapping(VisitFrequency.quarterly, date(2026, 3, 31), date(2026, 4, 1)) == [
        Period(date(2026, 1, 1), date(2026, 3, 31)), Period(date(2026, 4, 1), date(2026, 6, 30))]
    assert periods_overlapping(VisitFrequency.monthly, date(2026, 5, 2), date(2026, 5, 1)) == []


@pytest.mark.parametrize("text, start, end", [
    ("2026", date(2026, 1, 1), date(2026, 12, 31)),
    ("2026-Q2", date(2026, 4, 1), date(2026, 6, 30)),
    ("2026-q4", date(2026, 10, 1), date(2026, 12, 31)),
    ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
    ("2026-W19", date(2026, 5, 4), date(2026, 5, 10)),
    ("2026-W53", date(2026, 12, 28), date(2027, 1, 3)),  # 2026 has 53 ISO weeks
    ("2020-W53", date(2020, 12, 28), date(2021, 1, 3)),
])
def test_a_period_is_a_year_quarter_month_or_iso_week(text, start, end):
    assert parse_period(text) == Period(start, end)


@pytest.mark.parametrize("text", ["", "26", "2026-13", "2026-Q5", "2025-W53", "1999", "2026-05-01", "last week"])
def test_anything_else_is_refused_naming_the_period(text):
    with pytest.raises(InvalidInput) as err:
        parse_period(text)
    assert err.value.fields[0].field == "period"
