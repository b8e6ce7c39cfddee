"""Case numbers ``<year>-<area>-<seq>``: a 4-digit sequence per numbering area and year, with neither gaps
nor duplicates (the counter row is locked until the opening commits; a rolled-back opening gives its
number back)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from field.core.errors import Conflict
from field.core.models.platform import Jurisdiction

from .models import Case, CaseCounter


def area_code(jurisdiction: Jurisdiction) -> str:
    """The 6-digit division code a jurisdiction's cases are numbered in (a street's: its district's)."""
    return jurisdiction.code[:6]


def _allocate(session: Session, area: str, year: int) -> int:
    """The next sequence number of ``area`` and ``year``, under a row lock held until commit."""
    stmt = (select(CaseCounter).where(CaseCounter.area_code == area, CaseCounter.year == year)
            .with_for_update().execution_options(populate_existing=True))
    counter = session.execute(stmt).scalar_one_or_none()
    if counter is None:
        try:
            with session.begin_nested():
                session.add(CaseCounter(area_code=area, year=year, last_seq=0))
        except IntegrityError:
            pass  # another transaction made this year's counter first: lock theirs
        counter = session.execute(stmt).scalar_one()
    if counter.last_seq >= 9999:
        raise Conflict(f"All 9999 case numbers of {area} in {year} are used.")
    counter.last_seq += 1
    session.flush()
    return counter.last_seq
