"""A seeded year of approvals (2,000 cases with parallel steps and 补正 suspensions, 2025-07 to 2026-06) gives the
figures that a count by hand gives, on both databases: within-limit rate and average and median working days
across the holidays (National Day, New Year, Spring Festival, Qingming, Labour Day, Dragon Boat).

"By hand" is a reference written here from the official calendar itself (chinese-calendar's
``is_workday``), day by day, with none of field/approvals' code: (accepted, end] minus the
working days of each suspension's (start, end], the limit the matter's promised one.
"""

from __future__ import annotations

import random
import statistics
from datetime import date, datetime, time, timedelta, timezone

import chinese_calendar
import pytest

from field.approvals import figures, ingest, matters
from field.core.models.platform import Role
from field.directory import units
from field.directory.models import UnitKind
from tests.approvals_fixtures import Case

CST = timezone(timedelta(hours=8))
CASES = 2000
LIMITS = (3, 5, 8, 12)


def _moment(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=CST)


def _workdays(a: date, b: date) -> set[date]:
    return {a + timedelta(days=n) for n in range(1, (b - a).days + 1) if chinese_calendar.is_workday(a + timedelta(days=n))}


def _year(rng: random.Random):
    """(events, reference rows): each row (unit, matter, accepted day, completed?, working days, limit)."""
    events, reference = [], []
    first = date(2025, 7, 1)
    for i in range(CASES):
        matter = i % len(LIMITS)
        accepted = first + timedelta(days=rng.randrange(365))
        case = Case(f"Y-{i:05d}").accepted(_moment(accepted, 9), f"M{matter}")
        # two or three steps, the first two in parallel
        end = accepted + timedelta(days=rng.randrange(1, 25))
        case.step("a", _moment(accepted, 10), _moment(end, 11), group=1)
        case.step("b", _moment(accepted, 10), _moment(accepted + timedelta(days=1), 12), group=1)
        suspended: set[date] = set()
        if i % 3 == 0:  # 补正: from a day after acceptance, back a few days later (before the end)
            s = accepted + timedelta(days=rng.randrange(0, 3))
            e = min(s + timedelta(days=rng.randrange(1, 9)), end)
            case.suspended(_moment(s, 14), _moment(e, 9))
            suspended = _workdays(s, e) & _workdays(accepted, end)
        done = end < date(2026, 6, 30) and i % 17 != 0
        if done:
            case.completed(_moment(end, 16))
        events += case.events
        used = len(_workdays(accepted, end)) - len(suspended) if done else None
        reference.append((matter, accepted, done, used, LIMITS[matter]))
    return events, reference


def _expected(rows, lo: date, hi: date) -> dict:
    rows = [r for r in rows if lo <= r[1] <= hi]
    used = [r[3] for r in rows if r[2]]
    within = sum(1 for r in rows if r[2] and r[3] <= r[4])
    return {"accepted": len(rows), "completed": len(used), "within_limit": within,
            "within_limit_rate": round(within * 100 / len(used), 1) if used else None,
            "average_working_days": round(sum(used) / len(used), 2) if used else None,
            "median_working_days": round(float(statistics.median(used)), 2) if used else None,
            "provisional": False}


@pytest.fixture
def seeded(session, make_user):
    admin = make_user(Role.admin)
    unit_ids = []
    for k, limit in enumerate(LIMITS):
        unit = units.create_unit(session, admin, name=f"单位{k}", kind=UnitKind.department)
        matters.create_matter(session, admin, code=f"M{k}", name=f"事项{k}", unit_id=unit.id,
                              legal_limit_days=20, promised_limit_days=limit)
        unit_ids.append(unit.id)
    events, reference = _year(random.Random(17))
    for i in range(0, len(events), 500):
        ingest.push(session, admin, "year", events[i:i + 500], today=date(2026, 6, 30))
    session.commit()
    return admin, unit_ids, reference


def test_the_seeded_year_gives_the_hand_counted_figures_per_half_year_and_per_unit(session, seeded):
    admin, unit_ids, reference = seeded
    got = figures.figures(session, admin, start=date(2026, 1, 1), end=date(2026, 6, 30))
    assert got["rows"][0]["current"] == _expected(reference, date(2026, 1, 1), date(2026, 6, 30))
    # The previous period has the same 181 days: 4 July to 31 December 2025.
    assert got["previous_period"] == {"start": date(2025, 7, 4), "end": date(2025, 12, 31)}
    assert got["rows"][0]["previous"] == _expected(reference, date(2025, 7, 4), date(2025, 12, 31))
    assert got["rows"][0]["current"]["accepted"] > 900 and got["rows"][0]["current"]["within_limit"] > 100
    by_unit = figures.figures(session, admin, start=date(2025, 7, 1), end=date(2026, 6, 30), by="unit")
    rows = {r["unit"]: r["current"] for r in by_unit["rows"]}
    for k, unit_id in enumerate(unit_ids):
        mine = [r for r in reference if r[0] == k]
        assert rows[str(unit_id)] == _expected(mine, date(2025, 7, 1), date(2026, 6, 30)), k
