"""Declared years through the API: the 5 December case, declaring 2027, the warning on /readyz, years and figures."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest

from field.core.models.platform import Role
from tests.calendar_fixtures import (
    DECLARED_5_DEC,
    OPENED_5_DEC,
    PROVISIONAL_5_DEC,
    TEST_SCHEDULE_2027,
    require_2027_unpublished,
)
from tests.integration.test_cases import (  # noqa: F401 (fixtures)
    admin,
    make_record,
    make_user,
    member,
    office,
)


@pytest.fixture(autouse=True)
def _scenario_year():
    require_2027_unpublished()


@pytest.fixture
def on(app):
    """Set the office's day the API works on (``OFFICE_DATE``, read by api/clock.py)."""
    def set_day(day: date):
        app.config["OFFICE_DATE"] = day
    return set_day


@pytest.fixture
def reviewer_headers(office, login):
    return login(office["reviewer"])


@pytest.fixture
def admin_headers(office, login):
    return login(office["admin"])


def _open_discipline_case(client, headers, record, opened_on):
    resp = client.post("/api/v1/cases", headers=headers, json={
        "kind": "discipline", "title": "工作日脱岗", "opened_on": opened_on.isoformat(),
        "source_record_ids": [str(record.id)]})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_a_case_opened_on_5_december_gets_a_provisional_deadline_and_declaring_2027_moves_it(
        client, on, reviewer_headers, admin_headers, make_record):
    on(OPENED_5_DEC)
    case = _open_discipline_case(client, reviewer_headers, make_record(), OPENED_5_DEC)
    assert case["deadline"] == case["effective_deadline"] == PROVISIONAL_5_DEC.isoformat()
    assert case["provisional"] is True
    assert case["provisional_fields"] == ["deadline", "effective_deadline", "overdue"]
    on(date(2027, 1, 16))  # the Saturday after the provisional deadline
    assert client.get(f"/api/v1/cases/{case['id']}", headers=reviewer_headers).get_json()["overdue"] is True
    listed = client.get("/api/v1/cases?overdue=true", headers=reviewer_headers).get_json()["items"]
    assert [c["id"] for c in listed] == [case["id"]] and listed[0]["provisional"] is True

    declared = client.post("/api/v1/calendar/years", headers=admin_headers, json=TEST_SCHEDULE_2027)
    assert declared.status_code == 201, declared.get_json()
    assert declared.get_json()["recomputed_cases"] == 1

    after = client.get(f"/api/v1/cases/{case['id']}", headers=reviewer_headers).get_json()
    assert after["deadline"] == after["effective_deadline"] == DECLARED_5_DEC.isoformat()
    assert after["provisional"] is False and after["provisional_fields"] == [] and after["overdue"] is False
    assert client.get("/api/v1/cases?overdue=true", headers=reviewer_headers).get_json()["items"] == []
    timeline = client.get(f"/api/v1/cases/{case['id']}/timeline", headers=reviewer_headers).get_json()
    recomputed = [e for e in timeline if e["kind"] == "case.deadline_recomputed"]
    assert len(recomputed) == 1
    assert recomputed[0]["data"]["deadline"] == {"old": "2027-01-15", "new": "2027-01-18"}
    assert recomputed[0]["data"]["overdue"] == {"old": True, "new": False}


def test_the_case_exports_mark_a_provisional_deadline(client, on, reviewer_headers, make_record):
    on(OPENED_5_DEC)
    case = _open_discipline_case(client, reviewer_headers, make_record(), OPENED_5_DEC)
    rows = list(csv.reader(io.StringIO(client.get("/api/v1/cases/export.csv", headers=reviewer_headers)
                                       .data.decode("utf-8-sig"))))
    column = rows[0].index("按双休日临时计算")
    assert rows[1][column] == "是" and rows[1][rows[0].index("原定办结期限")] == "2027-01-15"
    features = json.loads(client.get("/api/v1/cases/export.geojson", headers=reviewer_headers).data)["features"]
    props = next(f["properties"] for f in features if f["id"] == case["id"])
    assert props["provisional"] is True and props["provisional_fields"] == ["deadline", "effective_deadline",
                                                                            "overdue"]


def test_a_schedule_is_refused_as_a_whole_with_every_field_named(client, admin_headers):
    resp = client.post("/api/v1/calendar/years", headers=admin_headers, json={
        "year": 2027, "holidays": ["2027-01-01", "2027-02-06", "2027-02-07", "2028-02-08", "2027-01-30"],
        "makeup_workdays": ["2027-01-30", "2027-02-15"]})
    assert resp.status_code == 422
    problem = resp.get_json()
    assert {e["field"] for e in problem["errors"]} == {"holidays.3", "holidays.4", "makeup_workdays.0",
                                                      "makeup_workdays.1"}
    assert resp.mimetype == "application/problem+json"
    bad_date = client.post("/api/v1/calendar/years", headers=admin_headers,
                           json={"year": 2027, "holidays": ["2027-01-01", "2027-02-30"]})
    assert bad_date.status_code == 422 and [e["field"] for e in bad_date.get_json()["errors"]] == ["holidays.1"]
    years = client.get("/api/v1/calendar/years", headers=admin_headers).get_json()
    assert years["declared"] == []  # nothing was half-written


def test_a_year_with_no_holidays_needs_weekends_only_and_is_shown_as_such(client, admin_headers):
    resp = client.post("/api/v1/calendar/years", headers=admin_headers, json={"year": 2027})
    assert resp.status_code == 422 and [e["field"] for e in resp.get_json()["errors"]] == ["holidays"]
    resp = client.post("/api/v1/calendar/years", headers=admin_headers, json={"year": 2027, "weekends_only": True})
    assert resp.status_code == 201 and resp.get_json()["weekends_only"] is True
    [declared] = client.get("/api/v1/calendar/years", headers=admin_headers).get_json()["declared"]
    assert declared["year"] == 2027 and declared["weekends_only"] is True and declared["holiday_count"] == 0


def test_only_an_admin_declares_a_year_and_a_library_year_is_a_422_on_year(client, reviewer_headers,
                                                                            admin_headers):
    assert client.post("/api/v1/calendar/years", headers=reviewer_headers,
                       json=TEST_SCHEDULE_2027).status_code == 403
    resp = client.post("/api/v1/calendar/years", headers=admin_headers,
                       json={"year": 2026, "holidays": ["2026-01-01"]})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "year"
    assert client.post("/api/v1/calendar/years", headers=admin_headers, json=TEST_SCHEDULE_2027).status_code == 201
    assert client.post("/api/v1/calendar/years", headers=admin_headers, json=TEST_SCHEDULE_2027).status_code == 409


def test_calendar_years_shows_the_library_the_declared_years_and_the_warning(client, on, admin_headers,
                                                                             reviewer_headers):
    on(date(2026, 11, 1))
    body = client.get("/api/v1/calendar/years", headers=reviewer_headers).get_json()
    assert body["library"] == {"package": "chinese-calendar", "version": "1.11.0", "first_year": 2004,
                               "last_year": 2026}
    assert body["declared"] == [] and "weekends alone" in body["provisional_rule"]
    assert [(w["code"], w["year"], w["jurisdictions"]) for w in body["warnings"]] == [
        ("calendar_year_undeclared", 2027, ["500107"])]
    client.post("/api/v1/calendar/years", headers=admin_headers, json=TEST_SCHEDULE_2027)
    body = client.get("/api/v1/calendar/years", headers=reviewer_headers).get_json()
    assert body["warnings"] == []
    [declared] = body["declared"]
    assert (declared["year"], declared["holiday_count"], declared["makeup_workday_count"]) == (2027, 10, 2)
    assert declared["weekends_only"] is False and declared["applies_here"] is True
    assert declared["jurisdiction"]["code"] == "500107" and declared["declared_by"] == "王管理"


@pytest.mark.parametrize(("day", "warned"), [(date(2026, 10, 31), False), (date(2026, 11, 1), True),
                                             (date(2026, 12, 31), True)])
def test_readyz_stays_ready_and_warns_from_1_november_while_2027_is_undeclared(client, on, office, day, warned):
    on(day)
    resp = client.get("/readyz")
    assert resp.status_code == 200 and resp.get_json()["status"] == "ready"
    warnings = resp.get_json()["warnings"]
    assert [w["year"] for w in warnings] == ([2027] if warned else [])
    if warned:
        assert "2027" in warnings[0]["message"] and "jurisdictions" not in warnings[0]


def test_readyz_stops_warning_once_2027_is_declared(client, on, admin_headers):
    on(date(2026, 11, 2))
    client.post("/api/v1/calendar/years", headers=admin_headers, json=TEST_SCHEDULE_2027)
    assert client.get("/readyz").get_json()["warnings"] == []


@pytest.mark.parametrize(("day", "warned"), [(date(2026, 10, 31), False), (date(2026, 11, 1), True)])
def test_the_figures_carry_the_warning_in_json_and_csv(client, on, reviewer_headers, day, warned):
    on(day)
    url = "/api/v1/figures?from=2026-01-01&to=2026-10-31"
    body = client.get(url, headers=reviewer_headers).get_json()
    assert [w["year"] for w in body["warnings"]] == ([2027] if warned else [])
    rows = list(csv.reader(io.StringIO(client.get(url + "&format=csv", headers=reviewer_headers)
                                       .data.decode("utf-8-sig"))))
    warning_rows = [r for r in rows if r[0] == "warnings"]
    assert len(warning_rows) == (1 if warned else 0)
    if warned:
        assert warning_rows[0][2:4] == ["2027", "calendar_year_undeclared"] and "2027" in warning_rows[0][4]


def test_an_office_with_someone_elsewhere_undeclared_still_sees_the_warning(client, on, make_user, tree, login,
                                                                            admin_headers):
    on(date(2026, 11, 1))
    make_user(Role.reviewer, jurisdiction=tree["other"])
    client.post("/api/v1/calendar/years", headers=admin_headers, json=TEST_SCHEDULE_2027)
    assert [w["year"] for w in client.get("/readyz").get_json()["warnings"]] == [2027]
    city = login(make_user(Role.admin, jurisdiction=tree["city"]))
    body = client.get("/api/v1/calendar/years", headers=city).get_json()
    assert [w["jurisdictions"] for w in body["warnings"]] == [["500100", "500103"]]
