"""A TEST schedule of 2027 (made up for the tests, NOT the State Council's) and the dates the tests count by hand.

The scenario assumes the installed chinese-calendar ends in 2026 (1.11.0, the newest on
2026-12-04). When the lock moves to a release that knows 2027, ``require_2027_unpublished``
fails first, naming the fix: move the scenario a year on.
"""

from __future__ import annotations

from datetime import date, timedelta

from field.core.workdays import LIBRARY_YEARS


def _span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


#: New Year's Day (Friday 1 to Sunday 3 January) and a Spring Festival week (Saturday 6 to
#: Friday 12 February), made up on Saturdays 30 January and 20 February. A TEST schedule.
HOLIDAYS_2027 = _span(date(2027, 1, 1), date(2027, 1, 3)) + _span(date(2027, 2, 6), date(2027, 2, 12))
MAKEUP_2027 = [date(2027, 1, 30), date(2027, 2, 20)]
TEST_SCHEDULE_2027 = {"year": 2027, "holidays": [d.isoformat() for d in HOLIDAYS_2027],
                      "makeup_workdays": [d.isoformat() for d in MAKEUP_2027],
                      "source": "TEST schedule, not the State Council's"}

#: Saturday 5 December 2026, opened with 30 working days. 2026 from the library: 7-11, 14-18,
#: 21-25, 28-31 December (19). 2027 on weekends alone: Friday 1 January (20), 4-8 (25),
#: 11-15 (30): Friday 15 January. With the test schedule 1 January is off: 4-8 (24), 11-15
#: (29), Monday 18 January (30).
OPENED_5_DEC = date(2026, 12, 5)
PROVISIONAL_5_DEC, DECLARED_5_DEC = date(2027, 1, 15), date(2027, 1, 18)
#: Monday 28 December 2026, 30 working days: 29-31 December (3); on weekends alone 1 January
#: (4), 4-8 (9), 11-15 (14), 18-22 (19), 25-29 (24), 1-5 February (29), Monday 8 February (30).
#: With the test schedule: 4-8 (8), 11-15 (13), 18-22 (18), 25-29 (23), Saturday 30 January
#: (24), 1-5 February (29), the week off, Monday 15 February (30).
OPENED_28_DEC = date(2026, 12, 28)
PROVISIONAL_28_DEC, DECLARED_28_DEC = date(2027, 2, 8), date(2027, 2, 15)


def require_2027_unpublished() -> None:
    assert 2027 not in LIBRARY_YEARS, (
        "chinese-calendar now knows 2027: move this scenario (tests/calendar_fixtures.py) to the first year "
        "it does not know")
