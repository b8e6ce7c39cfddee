"""Factories for contact-point reports and leader visits: people, a point with its circle, filings, sendings."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest

from field.accounts import users as accounts
from field.reports import leader_visits, reports
from field.directory import monitoring
from field.records import lifecycle as records
from field.core.locations import GivenLocation
from field.core.models.records import ReviewState
from field.core.models.platform import Role
from field.directory.models import UnitKind
from field.core.models.base import utcnow
from field.filings.models import FilingKind, InspectionFiling
from tests.directory_fixtures import make_enterprise, make_point, make_unit  # noqa: F401 (fixtures)

#: Where the test enterprise is (杨家坪, WGS-84).
SITE = (106.5286, 29.5026)
DEVICE_TIME = datetime.fromisoformat("2026-05-06T10:15:00+08:00")


def receipt(user, sent_at=None):
    return records.Receipt(user=user, device_id=None, device_sent_at=sent_at)


def send_report(session, user, report_id=None, **fields):
    """One sending of a report by ``user`` (a suggestion unless told otherwise)."""
    fields.setdefault("report_type", "suggestion")
    if fields["report_type"] == "suggestion":
        fields.setdefault("text", "窗口增加午间服务")
    return reports.submit_report(session, receipt(user), report_id or uuid.uuid4(),
                                 device_time=fields.pop("device_time", DEVICE_TIME), **fields)


def send_visit(session, user, point, visit_id=None, *, at=SITE, accuracy_m=10.0, **fields):
    """One sending of a leader's visit to ``point``, made on site unless told otherwise."""
    visited_at = fields.pop("visited_at", datetime.fromisoformat("2026-05-06T09:30:00+08:00"))
    return leader_visits.log_visit(session, receipt(user), visit_id or uuid.uuid4(), point_id=point.id,
                                   device_time=fields.pop("device_time", visited_at), visited_at=visited_at,
                                   location=GivenLocation(at[0], at[1], "wgs84", accuracy_m), **fields)


@pytest.fixture
def bearer(session):
    """The Authorization header of a fresh device token for ``user``, issued without a password
    check: these tests are about reports, and argon2 is slow on a shared machine."""
    def issue(user):
        issued = accounts.issue_token(session, user, "test phone", timedelta(days=1))
        session.commit()
        return {"Authorization": f"Bearer {issued.token}"}
    return issue


@pytest.fixture
def liaison(make_user):
    return make_user(Role.liaison, display_name="联络员 陈")


@pytest.fixture
def leader(make_user):
    return make_user(Role.leader, display_name="包保领导 刘")


@pytest.fixture
def reviewer(make_user):
    return make_user(Role.reviewer)


@pytest.fixture
def enterprise(make_enterprise):
    return make_enterprise("重庆九龙精密机械有限公司", at=SITE)


@pytest.fixture
def point(make_point, enterprise, liaison, leader):
    return make_point(enterprise, liaisons=[liaison], leader=leader)


@pytest.fixture
def bureau(make_unit):
    """A department with a section (its enforcement team) and a service window."""
    department = make_unit("区市场监督管理局", UnitKind.department)
    section = make_unit("执法稽查大队", UnitKind.section, parent_id=department.id)
    window = make_unit("登记窗口", UnitKind.window, parent_id=department.id)
    return {"department": department, "section": section, "window": window}


@pytest.fixture
def set_point(session):
    """Change a point as an admin would (frequency, dates, covert, people)."""
    def change(point, **changes):
        monitoring.update_point(session, None, point, changes)
        session.commit()
        return point
    return change


@pytest.fixture
def make_filing(session, make_user):
    """A filing of ``unit`` naming ``enterprise`` for ``start``..``end``, decided as ``state``."""
    def make(enterprise, unit, start: date, end: date | None = None, *, state=ReviewState.accepted,
             kind=FilingKind.ad_hoc):
        inspector, office = make_user(Role.inspector), make_user(Role.reviewer)

        def build():
            return InspectionFiling(jurisdiction_id=unit.jurisdiction_id, device_time=utcnow(), unit_id=unit.id,
                                    filing_kind=kind, purpose="检查食品经营许可落实情况", legal_basis="《食品安全法》",
                                    planned_start=start, planned_end=end or start,
                                    filed_on=start - timedelta(days=10), enterprises=[enterprise])

        filing = records.submit(session, InspectionFiling, uuid.uuid4(), {"filing": uuid.uuid4().hex},
                                receipt(inspector), build).record
        if state is not ReviewState.submitted:
            records.review(session, office, filing, state, "决定")
        session.commit()
        return filing
    return make
