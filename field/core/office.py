"""The office's clock, the one definition every package uses: China Standard Time (Asia/Shanghai), UTC+8
all year (no daylight saving since 1991), fixed here so that no time-zone database is needed on the server.

Domain functions take ``today`` as an argument; ``office_today`` is only where a missing one
comes from. ``fixed_day`` (or ``pin``) fixes it for the current context: the API does so per
request when its configuration names an ``OFFICE_DATE`` (api/clock.py), which is how tests set
the office's day.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta, timezone
from typing import Iterator

from .models.base import utcnow

#: The zone's name, for what needs it spelled (PostgreSQL's ``timezone()``, a camera's offset-less time).
OFFICE_TZ_NAME = "Asia/Shanghai"
OFFICE_TZ = timezone(timedelta(hours=8), OFFICE_TZ_NAME)

_fixed: ContextVar[date | None] = ContextVar("fieldwatch_office_day", default=None)


def office_date(moment: datetime) -> date:
    """The office's calendar day of an aware moment."""
    return moment.astimezone(OFFICE_TZ).date()


def office_today() -> date:
    """Today in the office: the pinned day if one is set, else the server's clock in Asia/Shanghai (the day
    a filing is made, a case opened or overdue)."""
    pinned = _fixed.get()
    return pinned if pinned is not None else office_date(utcnow())


def pin(day: date | None):
    """Pin (None: unpin) the office's day for this context; returns the token ``unpin`` takes."""
    return _fixed.set(day)


def unpin(token) -> None:
    _fixed.reset(token)


@contextmanager
def fixed_day(day: date | None) -> Iterator[None]:
    token = pin(day)
    try:
        yield
    finally:
        unpin(token)
