"""Working days on the official Chinese calendar (holidays and 调休 make-up days), with local overrides.

The State Council publishes each year's holidays and make-up working days (调休,
usually Saturdays or Sundays next to a holiday) around November of the year
before. ``chinese-calendar`` (PyPI, MIT, LKI/chinese-calendar) carries that table:
version 1.11.0 covers 2004-2026 and raises ``NotImplementedError`` for any other
year. A new release is needed, and should be installed, every year.

Rules of this module:

- A day is a working day per the library (make-up weekends included), unless the
  office's ``overrides`` say otherwise: True makes it a working day, False a day
  off (a local holiday, a typhoon closure). Overrides always win.
- A year counts as covered when the library knows it, or when the admin has
  declared it covered (``covered_years_extra``). In a declared year the library
  has no data for, a day is a working day Monday to Friday, plus overrides: the
  admin is expected to enter that year's holidays and make-up days as overrides
  before declaring it.
- A date outside the covered years is answered only if it has an explicit
  override; otherwise ``CalendarNotCovered`` is raised, naming the date and the
  year. Nothing is ever guessed, so a deadline running into an unpublished year
  is refused rather than miscounted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Set
from types import MappingProxyType

import chinese_calendar

#: Years the installed chinese-calendar has data for (1.11.0: 2004-2026).
LIBRARY_YEARS: frozenset[int] = frozenset(
    range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)
)

_ONE_DAY = dt.timedelta(days=1)


class CalendarNotCovered(ValueError):
    """The working-day calendar of ``day``'s year is unknown (not in the library, not declared by the admin)."""

    def __init__(self, day: dt.date, covered_years: Set[int]):
        self.day = day
        self.year = day.year
        span = f"{min(covered_years)}-{max(covered_years)}" if covered_years else "none"
        super().__init__(
            f"no official working-day calendar for {day.year} (needed for {day.isoformat()}); "
            f"covered years: {span}; an admin can declare {day.year} covered after entering its "
            "holidays and make-up working days"
        )


def _plain_date(value: object, name: str) -> dt.date:
    # A datetime is a date subclass; refuse it, because its calendar day depends on
    # a time zone the caller must have applied (Asia/Shanghai for the office).
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise TypeError(f"{name} must be a datetime.date (not a datetime), got {type(value).__name__}")
    return value


class WorkCalendar:
    """Working days of one office: the official calendar plus that office's overrides."""

    def __init__(
        self,
        overrides: Mapping[dt.date, bool] = MappingProxyType({}),
        covered_years_extra: Set[int] = frozenset(),
    ):
        self._overrides: dict[dt.date, bool] = {}
        for day, working in overrides.items():
            _plain_date(day, "an override's key")
            if not isinstance(working, bool):
                raise TypeError(f"override for {day.isoformat()} must be True (working) or False (day off)")
            self._overrides[day] = working
        for year in covered_years_extra:
            if isinstance(year, bool) or not isinstance(year, int) or not dt.MINYEAR <= year <= dt.MAXYEAR:
                raise ValueError(f"covered year must be a year number, got {year!r}")
        self._covered_years = LIBRARY_YEARS | frozenset(covered_years_extra)

    @property
    def covered_years(self) -> frozenset[int]:
        """Years fully answerable: the library's plus those the admin declared covered."""
        return self._covered_years

    @property
    def overrides(self) -> Mapping[dt.date, bool]:
        return MappingProxyType(self._overrides)

    def is_working_day(self, day: dt.date) -> bool:
        day = _plain_date(day, "day")
        if day in self._overrides:
            return self._overrides[day]
        if day.year in LIBRARY_YEARS:
            try:
                return chinese_calendar.is_workday(day)
            except NotImplementedError:  # LIBRARY_YEARS and the library disagree: refuse, do not guess
                raise CalendarNotCovered(day, self._covered_years) from None
        if day.year in self._covered_years:
            return day.weekday() < 5
        raise CalendarNotCovered(day, self._covered_years)

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after ``start`` (before it if n < 0); ``start`` itself is not counted.

        ``add_working_days(d, 0)`` is ``d``, working day or not. For n != 0 the result
        is always a working day.
        """
        day = _plain_date(start, "start")
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an integer, got {type(n).__name__}")
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining = abs(n)
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """Working days in (a, b]: after ``a``, up to and including ``b``; if b < a, minus those in (b, a].

        So ``working_days_between(a, b) == -working_days_between(b, a)``, and
        ``working_days_between(d, add_working_days(d, n)) == n`` for n >= 0. Read as
        "working days elapsed since a" or, with a deadline b, "working days left":
        on the Saturday after a Friday deadline that is 0, on the Monday -1.
        """
        a, b = _plain_date(a, "a"), _plain_date(b, "b")
        if b < a:
            return -self.working_days_between(b, a)
        count, day = 0, a
        while day < b:
            day += _ONE_DAY
            count += self.is_working_day(day)
        return count

    def earliest_date_after_notice(self, today: dt.date, notice_days: int) -> dt.date:
        """The earliest day an event may happen when it must be filed ``notice_days`` working days ahead.

        Counting: the filing day is not counted, whatever the hour (as for any period
        in Chinese law, Civil Code art. 201: 开始的当日不计入); the event day is. An
        event on day E filed on day F has had ``working_days_between(F, E)`` working
        days of notice and is allowed when that is at least ``notice_days``. The
        earliest such E is the ``notice_days``-th working day after F, that is
        ``add_working_days(F, notice_days)``; every later day, weekend or not, is
        allowed too.

        Examples with 5 days: filed Monday 2025-09-01, the event may be on Monday
        2025-09-08 or later. Filed Friday 2025-09-26, before National Day: Sunday 28
        (make-up), 29, 30 September, 9 and 10 October, so Friday 2025-10-10. A filing
        on an ordinary Saturday or Sunday is worth the same as one on the Friday before.
        ``notice_days`` = 0 allows the same day.
        """
        if isinstance(notice_days, bool) or not isinstance(notice_days, int):
            raise TypeError(f"notice_days must be an integer, got {type(notice_days).__name__}")
        if notice_days < 0:
            raise ValueError(f"notice_days must not be negative, got {notice_days}")
        return self.add_working_days(today, notice_days)
