"""The office's day (Asia/Shanghai): the one clock every "today" default of the domain reads.

Domain functions take ``today`` as an argument; this is only where a missing one comes
from. ``fixed_day`` pins it for the current context (the API does so per request when
its configuration names an ``OFFICE_DATE``, which is how tests set the office's day).
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta, timezone
from typing import Iterator

from field.core.models.base import utcnow

#: China Standard Time, UTC+8 all year: the office's calendar day, without a time-zone database.
OFFICE_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

_fixed: ContextVar[date | None] = ContextVar("fieldwatch_office_day", default=None)


def office_today() -> date:
    """Today in the office: the pinned day if one is set, else the server's clock in Asia/Shanghai."""
    pinned = _fixed.get()
    return pinned if pinned is not None else utcnow().astimezone(OFFICE_TZ).date()


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
