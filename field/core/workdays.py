"""Working days on the official Chinese calendar (holidays and 调休 make-up days), with local overrides.

The State Council publishes each year's holidays and make-up working days (调休,
usually Saturdays or Sundays next to a holiday) around November of the year
before. ``chinese-calendar`` (PyPI, MIT, LKI/chinese-calendar) carries that table:
version 1.11.0 covers 2004-2026. ``LIBRARY_YEARS`` is read from the installed
release, so a newer one that knows 2027 is used as soon as it is installed.

Rules of this module (pure: no database, no clock):

- Overrides win over everything: True makes a day a working day, False a day off
  (a local holiday, a typhoon closure).
- A year the library knows is answered by the library (make-up weekends included).
  The library wins over a declared schedule of the same year: once a release
  carries the year, nothing kept by hand counts for it.
- A declared year (``YearSchedule``: the schedule an admin entered from the State
  Council's notice) is answered by its holidays and make-up days, Monday to Friday
  working otherwise. ``weekends_only`` declares a year that has no holidays at all.
- Any other year is **provisional**: Monday to Friday are working days, Saturday and
  Sunday are not. Nothing is refused; instead every answer can say whether it rests
  on a provisional day (``is_provisional``, ``provisional_years``), so that callers
  mark what they computed and recompute it once the year is declared.

``validate_schedule`` checks a schedule as a whole before it is declared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import chinese_calendar

#: Years the installed chinese-calendar has data for (1.11.0: 2004-2026).
LIBRARY_YEARS: frozenset[int] = frozenset(
    range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)
)
#: The installed release, shown with the years it covers.
LIBRARY_VERSION: str = getattr(chinese_calendar, "__version__", "unknown")
#: Years a schedule may be declared for: beyond them a date is a typo.
DECLARABLE_YEARS = range(2000, 2101)

_ONE_DAY = dt.timedelta(days=1)


def _plain_date(value: object, name: str) -> dt.date:
    # A datetime is a date subclass; refuse it, because its calendar day depends on
    # a time zone the caller must have applied (Asia/Shanghai for the office).
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise TypeError(f"{name} must be a datetime.date (not a datetime), got {type(value).__name__}")
    return value


def _is_weekend(day: dt.date) -> bool:
    return day.weekday() >= 5


@dataclass(frozen=True)
class YearSchedule:
    """One year's official schedule: days off and make-up working days (the rest: Monday to Friday)."""

    year: int
    holidays: frozenset[dt.date] = frozenset()
    makeup_workdays: frozenset[dt.date] = frozenset()
    #: Declared on purpose with no holidays: Monday to Friday all year.
    weekends_only: bool = False

    def __post_init__(self):
        problems = validate_schedule(self.year, sorted(self.holidays), sorted(self.makeup_workdays),
                                     self.weekends_only)
        if problems:
            raise ValueError("; ".join(f"{field}: {message}" for field, message in problems))

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.holidays:
            return False
        if day in self.makeup_workdays:
            return True
        return not _is_weekend(day)


def validate_schedule(year: int, holidays: Sequence[dt.date], makeup_workdays: Sequence[dt.date],
                      weekends_only: bool) -> list[tuple[str, str]]:
    """Every problem of a schedule taken as a whole, as (field, message); empty when it is sound.

    Fields are named as in the declaring document: ``holidays.3`` is the fourth holiday
    as given. Rules: every date lies in ``year`` and appears once; a make-up working
    day is a Saturday or a Sunday (on a weekday it would change nothing); no day is both
    a holiday and a make-up day; a year with no holidays needs ``weekends_only``, which
    in turn allows neither holidays nor make-up days.
    """
    problems: list[tuple[str, str]] = []
    if isinstance(year, bool) or not isinstance(year, int) or year not in DECLARABLE_YEARS:
        return [("year", f"A year from {DECLARABLE_YEARS.start} to {DECLARABLE_YEARS.stop - 1}.")]

    def dates(name: str, days: Sequence[dt.date]) -> dict[dt.date, int]:
        first: dict[dt.date, int] = {}
        for i, day in enumerate(days):
            _plain_date(day, f"{name}.{i}")
            if day.year != year:
                problems.append((f"{name}.{i}", f"{day.isoformat()} is not in {year}."))
            elif day in first:
                problems.append((f"{name}.{i}", f"{day.isoformat()} is listed twice ({name}.{first[day]})."))
            else:
                first[day] = i
        return first

    off, on = dates("holidays", holidays), dates("makeup_workdays", makeup_workdays)
    for day, i in on.items():
        if not _is_weekend(day):
            problems.append((f"makeup_workdays.{i}", f"{day.isoformat()} is a {day.strftime('%A')}: a make-up "
                                                     "working day (调休) is a Saturday or a Sunday."))
    for day in sorted(off.keys() & on.keys()):
        problems.append((f"holidays.{off[day]}", f"{day.isoformat()} is also a make-up working day "
                                                 f"(makeup_workdays.{on[day]})."))
        problems.append((f"makeup_workdays.{on[day]}", f"{day.isoformat()} is also a holiday "
                                                       f"(holidays.{off[day]})."))
    if weekends_only and (holidays or makeup_workdays):
        problems.append(("weekends_only", "A weekends-only year has no holidays and no make-up days: "
                                          "remove weekends_only, or the days."))
    elif not weekends_only and not holidays:
        problems.append(("holidays", f"No holidays given for {year}. Enter the State Council's schedule, or "
                                     "declare a year without any holidays with \"weekends_only\": true."))
    return problems


class WorkCalendar:
    """Working days of one office: the official calendar, declared years, and that office's overrides."""

    def __init__(
        self,
        overrides: Mapping[dt.date, bool] = MappingProxyType({}),
        schedules: Iterable[YearSchedule] = (),
    ):
        self._overrides: dict[dt.date, bool] = {}
        for day, working in overrides.items():
            _plain_date(day, "an override's key")
            if not isinstance(working, bool):
                raise TypeError(f"override for {day.isoformat()} must be True (working) or False (day off)")
            self._overrides[day] = working
        self._schedules: dict[int, YearSchedule] = {}
        for schedule in schedules:
            if not isinstance(schedule, YearSchedule):
                raise TypeError(f"a schedule must be a YearSchedule, got {type(schedule).__name__}")
            if schedule.year in self._schedules:
                raise ValueError(f"two schedules for {schedule.year}")
            self._schedules[schedule.year] = schedule

    @property
    def covered_years(self) -> frozenset[int]:
        """Years answered from an official schedule: the library's plus the declared ones."""
        return LIBRARY_YEARS | frozenset(self._schedules)

    @property
    def schedules(self) -> Mapping[int, YearSchedule]:
        return MappingProxyType(self._schedules)

    @property
    def overrides(self) -> Mapping[dt.date, bool]:
        return MappingProxyType(self._overrides)

    def is_provisional(self, day: dt.date) -> bool:
        """Whether ``day`` is answered by the provisional rule (weekends alone): no schedule, no override."""
        day = _plain_date(day, "day")
        return day not in self._overrides and day.year not in LIBRARY_YEARS and day.year not in self._schedules

    def is_working_day(self, day: dt.date) -> bool:
        day = _plain_date(day, "day")
        if day in self._overrides:
            return self._overrides[day]
        if day.year in LIBRARY_YEARS:
            return chinese_calendar.is_workday(day)
        if day.year in self._schedules:
            return self._schedules[day.year].is_working_day(day)
        return not _is_weekend(day)

    def provisional_years(self, a: dt.date, b: dt.date) -> frozenset[int]:
        """The years of the provisional days in (a, b] (or (b, a]): the days a count from ``a`` to ``b`` reads.

        Empty means that ``add_working_days``, ``working_days_between`` or
        ``earliest_date_after_notice`` spanning a..b rested only on official schedules
        and overrides. Otherwise the answer was computed on weekends alone for those years.
        """
        a, b = _plain_date(a, "a"), _plain_date(b, "b")
        lo, hi = min(a, b), max(a, b)
        years = set()
        for year in range(lo.year, hi.year + 1):
            if year in LIBRARY_YEARS or year in self._schedules:
                continue
            first = max(lo + _ONE_DAY, dt.date(year, 1, 1))
            last = min(hi, dt.date(year, 12, 31))
            # Overrides answer their own days: the year is read provisionally on any other day of the span.
            if (last - first).days + 1 > sum(1 for d in self._overrides if first <= d <= last):
                years.add(year)
        return frozenset(years)

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
