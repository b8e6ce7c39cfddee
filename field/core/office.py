"""The office's clock, the one definition every package uses: China Standard Time (Asia/Shanghai), UTC+8
all year (no daylight saving since 1991), fixed here so that no time-zone database is needed on the server."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from .models.base import utcnow

OFFICE_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def office_date(moment: datetime) -> date:
    """The office's calendar day of an aware moment."""
    return moment.astimezone(OFFICE_TZ).date()


def office_today() -> date:
    """Today in the office, from the server's clock: the day a filing is made, a case opened or overdue."""
    return office_date(utcnow())
