"""The approvals' HTTP doors: the push (batch, replay, a bad event refuses the batch naming it), the CSV
import, the case view, the office's queue and a red alert turned into a case, notices, figures, the export."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from field.core.models.platform import Role
from field.core.office import fixed_day
from tests.approvals_fixtures import Case, as_json, at


@pytest.fixture
def office(client, make_user, login):
    admin = make_user(Role.admin)
    h = login(admin)
    unit = client.post("/api/v1/units", headers=h, json={"name": "区规划自然资源局", "kind": "department"}).get_json()
    matter = client.post("/api/v1/approval-matters", headers=h, json={
        "code": "QX-001", "name": "建设工程规划许可", "unit_id": unit["id"], "legal_limit_days": 20,
        "promised_limit_days": 5, "deemed_approval": True})
    assert matter.status_code == 201, matter.get_json()
    return {"admin": h, "reviewer": login(make_user(Role.reviewer)), "unit": unit, "matter": matter.get_json()}


def _events():
    a = (Case("A").accepted(at(4, 28, 9), "QX-001").step("plan", at(4, 28, 10), at(4, 30), group=1)
         .step("fire", at(4, 28, 10), at(4, 29), group=1).suspended(at(4, 29), at(5, 6)).completed(at(5, 11)))
    late = Case("L").accepted(at(4, 28, 9), "QX-001")
    return as_json(a.events + late.events)


def _push(client, headers, events):
    return client.post("/api/v1/approvals/events", headers=headers, json={"source_system": "qx", "events": events})


def test_a_batch_is_applied_once_and_its_replay_changes_nothing(client, office):
    with fixed_day(date(2026, 5, 8)):
        first = _push(client, office["admin"], _events())
        again = _push(client, office["admin"], _events())
    assert first.status_code == again.status_code == 200, first.get_json()
    assert first.get_json() | {"conflicts": []} == {"received": 9, "applied": 9, "duplicates": 0, "conflicts": [],
                                                    "cases_created": 2, "cases_updated": 2, "alerts_raised": 1}
    assert again.get_json() == {"received": 9, "applied": 0, "duplicates": 9, "conflicts": [], "cases_created": 0,
                                "cases_updated": 0, "alerts_raised": 0}
    page = client.get("/api/v1/approval-cases", headers=office["reviewer"]).get_json()["items"]
    a = next(c for c in page if c["source_number"] == "A")
    assert (a["working_days"], a["suspended_days"], a["within_limit"], a["deadline"]) == (5, 2, True, "2026-05-11")
    detail = client.get(f"/api/v1/approval-cases/{a['id']}", headers=office["reviewer"]).get_json()
    assert [(s["key"], s["parallel_group"], s["working_days"]) for s in detail["steps"]] == [
        ("fire", 1, 1), ("plan", 1, 2)]
    assert detail["matter"]["code"] == "QX-001" and len(detail["suspensions"]) == 1


def test_one_bad_event_refuses_the_batch_naming_it_and_nothing_is_stored(client, office):
    events = _events()
    events[3] = dict(events[3], at="2026-04-28T10:00:00")  # no time zone
    refused = _push(client, office["admin"], events)
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"].startswith("events.3")
    unknown = _push(client, office["admin"], as_json(Case("Z").accepted(at(4, 28), "NOPE").events))
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "events.0.matter_code"
    assert client.get("/api/v1/approval-cases", headers=office["reviewer"]).get_json()["items"] == []
    assert _push(client, office["reviewer"], _events()).status_code == 403


def test_the_csv_import_takes_the_same_events(client, office):
    buffer = io.StringIO()
    columns = ["case_number", "seq", "type", "at", "matter_code", "step", "parallel_group", "outcome", "reason"]
    writer = csv.DictWriter(buffer, columns, extrasaction="ignore")
    writer.writeheader()
    for e in _events():
        writer.writerow(e)
    data = ("\ufeff" + buffer.getvalue()).encode()
    with fixed_day(date(2026, 5, 8)):
        resp = client.post("/api/v1/approvals/import?source_system=qx", headers=office["admin"], data=data,
                           content_type="text/csv")
        again = client.post("/api/v1/approvals/import?source_system=qx", headers=office["admin"], data=data,
                            content_type="text/csv")
    assert resp.status_code == 200, resp.get_json()
    assert (resp.get_json()["applied"], again.get_json()["duplicates"]) == (9, 9)
    bad = data.replace(b",accepted,2026-04-28T09:00:00+08:00,", b",accepted,yesterday,", 1)
    refused = client.post("/api/v1/approvals/import?source_system=qx", headers=office["admin"], data=bad,
                          content_type="text/csv")
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "rows.0.at"


def test_an_overdue_approval_raises_a_red_alert_that_becomes_a_case(client, office):
    with fixed_day(date(2026, 5, 8)):
        _push(client, office["admin"], _events())
    with fixed_day(date(2026, 5, 11)):  # L: 29, 30 Apr, 6, 7, 8, 9 (make-up), 11 May = 7 of 5
        scan = client.post("/api/v1/approval-alerts/scan", headers=office["reviewer"])
        assert scan.get_json() == {"cases_folded": 1, "alerts_raised": 2}
        queue = client.get("/api/v1/approval-alerts?level=red", headers=office["reviewer"]).get_json()["items"]
        assert len(queue) == 1 and queue[0]["working_days"] == 7 and queue[0]["limit_days"] == 5
        opened = client.post(f"/api/v1/approval-alerts/{queue[0]['id']}/case", headers=office["reviewer"], json={})
        assert opened.status_code == 201, opened.get_json()
        again = client.post(f"/api/v1/approval-alerts/{queue[0]['id']}/case", headers=office["reviewer"], json={})
    assert again.status_code == 409
    case = client.get(f"/api/v1/cases/{opened.get_json()['case_id']}", headers=office["reviewer"]).get_json()
    assert case["number"] == opened.get_json()["number"] and "建设工程规划许可" in case["title"]
    assert case["subjects"][0]["unit"]["id"] == office["unit"]["id"]
    late = client.get("/api/v1/approval-cases?overdue=true", headers=office["reviewer"]).get_json()["items"]
    assert [c["source_number"] for c in late] == ["L"] and late[0]["deemed_approved"]
    converted = client.get("/api/v1/approval-alerts?state=converted", headers=office["reviewer"]).get_json()
    assert converted["items"][0]["case_id"] == case["id"]


def test_a_refusal_needs_its_notice_and_the_notice_joins_the_complaint(client, office):
    refused = as_json(Case("R").accepted(at(4, 28, 9), "QX-001").completed(at(4, 30), outcome="refused").events)
    _push(client, office["admin"], refused)
    flagged = client.get("/api/v1/approval-cases?needs_notice=true", headers=office["reviewer"]).get_json()["items"]
    assert [c["source_number"] for c in flagged] == ["R"]
    notice = client.post(f"/api/v1/approval-cases/{flagged[0]['id']}/notices", headers=office["reviewer"], json={
        "kind": "refusal", "reason": "材料不全", "handler_name": "王经办", "issued_on": "2026-04-30"})
    assert notice.status_code == 201, notice.get_json()
    assert client.get("/api/v1/approval-cases?needs_notice=true", headers=office["reviewer"]).get_json()["items"] == []
    complaint = client.post("/api/v1/cases", headers=office["reviewer"], json={
        "kind": "efficiency_complaint", "title": "审批不予许可投诉", "complaint": {
            "channel": "phone", "received_at": "2026-05-06T09:00:00+08:00", "text": "不予许可理由不清"}})
    attached = client.post(f"/api/v1/approval-notices/{notice.get_json()['id']}/complaint",
                           headers=office["reviewer"], json={"case_id": complaint.get_json()["id"]})
    assert attached.status_code == 200 and attached.get_json()["complaint_case_id"] == complaint.get_json()["id"]


def test_figures_and_the_export(client, office):
    with fixed_day(date(2026, 5, 8)):
        _push(client, office["admin"], _events())
    got = client.get("/api/v1/approval-figures?from=2026-04-01&to=2026-06-30&by=unit", headers=office["reviewer"])
    assert got.status_code == 200, got.get_json()
    row = got.get_json()["rows"][0]
    assert row["unit"] == office["unit"]["id"]
    assert row["current"] | {} == {"accepted": 2, "completed": 1, "within_limit": 1, "within_limit_rate": 100.0,
                                   "average_working_days": 5.0, "median_working_days": 5.0, "provisional": False}
    assert got.get_json()["previous_period"] == {"from": "2025-12-31", "to": "2026-03-31"}
    export = client.get("/api/v1/approval-cases/export.csv", headers=office["reviewer"])
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert {r["source_number"]: r["working_days"] for r in rows} == {"A": "5", "L": "5"}


def test_a_source_system_with_a_nul_or_a_control_character_is_a_422_naming_it(client, office):
    """Found by the fuzz: a NUL in the import's query string answered 500."""
    garbage = "\u00db\x00\U000ad2aa\r\x18".encode("utf-8", "surrogatepass")
    for source in ("%00", "qx%00", "q%1Bx"):
        resp = client.post(f"/api/v1/approvals/import?source_system={source}", headers=office["admin"],
                           data=garbage, content_type="text/csv")
        assert resp.status_code == 422, (source, resp.status_code, resp.get_data(as_text=True)[:300])
        assert resp.get_json()["errors"][0]["field"] == "source_system"
