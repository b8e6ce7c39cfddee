"""Factories for inspection tests: a bureau with its inspector, an enterprise with a position, bodies as loaded."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest

from field.core.office import OFFICE_TZ
from field.filings import filings, inspections, inspectors, measures
from field.records import lifecycle as records
from field.core.locations import GivenLocation
from field.core.models.platform import Role
from field.core.models.records import ReviewState
from field.directory.models import UnitKind
from tests.directory_fixtures import make_enterprise, make_unit  # noqa: F401 (fixtures)

#: Where the test enterprise stands (WGS-84): 杨家坪, Jiulongpo.
SITE = (106.5100, 29.5030)
#: A day of 2026 on which nothing special happens (a Wednesday).
DAY = date(2026, 5, 6)


def at_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, 0, tzinfo=OFFICE_TZ)


def receipt(user, sent_at: datetime | None = None) -> records.Receipt:
    return records.Receipt(user=user, device_id=None, device_sent_at=sent_at)


def filing_body(enterprises, *, kind="annual_plan", start=DAY, end=None, **overrides) -> dict:
    """A filing as the schema loads it."""
    body = {
        "device_time": at_noon(start) - timedelta(days=30), "filing_kind": kind,
        "enterprise_ids": [e.id for e in enterprises], "purpose": "核查食品经营许可及进货查验记录",
        "legal_basis": "《中华人民共和国食品安全法》第一百一十条",
        "exemption_basis": "《安全生产法》第六十五条" if kind == "statutory_exempt" else None,
        "planned_start": start, "planned_end": end or start + timedelta(days=4), "inspector_ids": None,
        "planned_measures": [], "declared_attachments": [],
    }
    body.update(overrides)
    return body


def inspection_body(enterprise, *, at=SITE, day=DAY, **overrides) -> dict:
    """An inspection record as the schema loads it."""
    body = {
        "device_time": at_noon(day), "enterprise_id": enterprise.id, "filing_id": None,
        "location": GivenLocation(at[0], at[1], "wgs84", 10.0), "checked": "食品经营许可证、进货查验记录",
        "found": "", "measure": "none", "fine_amount": None, "compulsory_measure_id": None,
        "declared_attachments": [],
    }
    body.update(overrides)
    return body


def file(session, inspector, body, *, today=None, filing_id=None):
    """File ``body`` as ``inspector`` on ``today`` (default: 60 days before the window) and commit."""
    today = today or body["planned_start"] - timedelta(days=60)
    result = filings.file_inspection(session, receipt(inspector), filing_id or uuid.uuid4(), body, today=today)
    session.commit()
    return result


def record(session, inspector, body, *, record_id=None, sent_at=None, far=300.0):
    result = inspections.record_inspection(session, receipt(inspector, sent_at), record_id or uuid.uuid4(), body,
                                           far_threshold_m=far)
    session.commit()
    return result


@pytest.fixture
def bureau(make_unit):
    return make_unit("九龙坡区市场监督管理局", UnitKind.department)


@pytest.fixture
def enterprise(make_enterprise):
    return make_enterprise("重庆九龙精密机械有限公司", at=SITE)


@pytest.fixture
def make_inspector(session, admin, make_user):
    def make(unit, **kw):
        user = make_user(Role.inspector, **kw)
        inspectors.assign_unit(session, admin, user.id, unit.id)
        session.commit()
        return user
    return make


@pytest.fixture
def inspector(make_inspector, bureau):
    return make_inspector(bureau)


@pytest.fixture
def reviewer(make_user):
    return make_user(Role.reviewer)


@pytest.fixture
def approved_filing(session, inspector, enterprise, reviewer):
    """An approved annual-plan filing of the bureau for ``enterprise``, DAY to DAY + 4."""
    filing = file(session, inspector, filing_body([enterprise])).record
    records.review(session, reviewer, filing, ReviewState.accepted, "同意")
    session.commit()
    return filing


@pytest.fixture
def approved_measure(session, inspector, enterprise, reviewer):
    approval = measures.request_measure(session, inspector, enterprise_id=enterprise.id, measure="sealing",
                                           reason="疑似存放不合格产品")
    measures.decide_measure(session, reviewer, approval, "approved", "同意查封")
    session.commit()
    return approval


__all__ = ["SITE", "DAY", "at_noon", "receipt", "filing_body", "inspection_body", "file", "record"]
