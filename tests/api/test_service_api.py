"""Key projects through the API: a problem raised by the serving secretary goes from raised to solved with the
enterprise's confirmation; an overdue one becomes a case; figures per campaign; the project's approvals are
seen by its secretary; the GeoJSON export."""

from __future__ import annotations

from datetime import date

import pytest

from field.core.models.platform import Role
from field.core.office import fixed_day
from tests.approvals_fixtures import Case, as_json, at
from tests.directory_fixtures import credit_code


@pytest.fixture
def world(client, make_user, login):
    admin = make_user(Role.admin)
    secretary = make_user(Role.leader)
    h = login(admin)
    unit = client.post("/api/v1/units", headers=h, json={"name": "区住建委", "kind": "department"}).get_json()
    ent = client.post("/api/v1/enterprises", headers=h, json={"name": "重庆某物流公司",
                                                               "credit_code": credit_code()}).get_json()
    project = client.post("/api/v1/key-projects", headers=h, json={
        "name": "西部物流园二期", "investment_10k": "150000", "stage": "landed", "enterprise_id": ent["id"],
        "location": {"type": "Point", "coordinates": [106.52, 29.51]}})
    assert project.status_code == 201, project.get_json()
    assigned = client.post("/api/v1/service-assignments", headers=h, json={
        "official_id": str(secretary.id), "role": "secretary", "campaign": "double_hundred",
        "starts_on": "2026-01-01", "project_id": project.get_json()["id"]})
    assert assigned.status_code == 201, assigned.get_json()
    return {"h": h, "sec": login(secretary), "unit": unit, "project": project.get_json(),
            "reviewer": login(make_user(Role.reviewer)), "other": login(make_user(Role.leader))}


def _raise(client, w, **extra):
    body = {"category": "procedures", "source": "official", "description": "施工许可卡在消防审验",
            "unit_ids": [w["unit"]["id"]], "limit_days": 5, **extra}
    return client.post(f"/api/v1/key-projects/{w['project']['id']}/problems", headers=w["sec"], json=body)


def test_a_problem_goes_from_raised_to_solved_with_the_enterprises_confirmation(client, world):
    with fixed_day(date(2026, 4, 28)):
        raised = _raise(client, world, raised_on="2026-04-28")
    assert raised.status_code == 201, raised.get_json()
    problem = raised.get_json()
    # 5 working days after Tuesday 28 April: 29, 30 April, 6, 7, 8 May (1-5 May off)
    assert problem["deadline"] == "2026-05-08" and problem["state"] == "open"
    assert client.post(f"/api/v1/key-projects/{world['project']['id']}/problems", headers=world["other"],
                       json={}).status_code in (404, 422)
    with fixed_day(date(2026, 5, 7)):
        noted = client.post(f"/api/v1/service-problems/{problem['id']}/progress", headers=world["sec"],
                            json={"note": "已协调消防审验现场办公"})
        assert noted.status_code == 200 and len(noted.get_json()["progress"]) == 1
        by_secretary = client.post(f"/api/v1/service-problems/{problem['id']}/closure", headers=world["sec"], json={
            "solved": True, "confirmed_by": "项目经理 刘某", "confirmation": "施工许可证已领取"})
        assert by_secretary.status_code == 403
        unconfirmed = client.post(f"/api/v1/service-problems/{problem['id']}/closure", headers=world["reviewer"],
                                  json={"solved": True, "confirmed_by": " ", "confirmation": "已解决"})
        assert unconfirmed.status_code == 422
        solved = client.post(f"/api/v1/service-problems/{problem['id']}/closure", headers=world["reviewer"], json={
            "solved": True, "confirmed_by": "项目经理 刘某", "confirmation": "施工许可证已领取"})
    assert solved.status_code == 200, solved.get_json()
    assert (solved.get_json()["state"], solved.get_json()["days_to_close"]) == ("solved", 4)  # 29, 30 Apr, 6, 7 May
    with fixed_day(date(2026, 5, 31)):
        figures = client.get("/api/v1/service-figures?from=2026-04-01&to=2026-05-31", headers=world["reviewer"])
    rows = {r["campaign"]: r for r in figures.get_json()}
    # The secretary owes a visit a week and made none: the 9 weeks from 30 March to 31 May, the last ending today.
    numbers = {"raised": 1, "solved": 1, "unsolved": 0, "overdue": 0, "median_days_to_solve": 4.0,
               "visit_periods_due": 9, "visit_periods_met": 0, "visit_periods_missed": 8, "visit_compliance": 0.0}
    assert rows["double_hundred"] == {"campaign": "double_hundred", **numbers}
    assert rows["all"] == {"campaign": "all", **numbers}


def test_an_overdue_problem_becomes_a_case_naming_the_units(client, world):
    with fixed_day(date(2026, 4, 28)):
        problem = _raise(client, world).get_json()
        early = client.post(f"/api/v1/service-problems/{problem['id']}/case", headers=world["reviewer"], json={})
    assert early.status_code == 409
    with fixed_day(date(2026, 5, 11)):
        late = client.get("/api/v1/service-problems?overdue=true", headers=world["reviewer"]).get_json()["items"]
        assert [p["id"] for p in late] == [problem["id"]]
        opened = client.post(f"/api/v1/service-problems/{problem['id']}/case", headers=world["reviewer"], json={})
    assert opened.status_code == 201, opened.get_json()
    case = client.get(f"/api/v1/cases/{opened.get_json()['case_id']}", headers=world["reviewer"]).get_json()
    assert case["subjects"][0]["unit"]["id"] == world["unit"]["id"] and "西部物流园二期" in case["title"]


def test_the_secretary_sees_the_projects_approvals_and_others_do_not(client, world):
    h = world["h"]
    client.post("/api/v1/approval-matters", headers=h, json={"code": "QX-001", "name": "施工许可",
                                                              "legal_limit_days": 15})
    linked = Case("K-1").accepted(at(4, 28), "QX-001", key_project_id=world["project"]["id"])
    plain = Case("P-1").accepted(at(4, 28), "QX-001")
    pushed = client.post("/api/v1/approvals/events", headers=h, json={
        "source_system": "qx", "events": as_json(linked.events + plain.events)})
    assert pushed.status_code == 200, pushed.get_json()
    seen = client.get("/api/v1/approval-cases", headers=world["sec"]).get_json()["items"]
    assert [c["source_number"] for c in seen] == ["K-1"]
    assert client.get("/api/v1/approval-cases", headers=world["other"]).get_json()["items"] == []
    assert client.get("/api/v1/key-projects", headers=world["other"]).get_json()["items"] == []
    assert [p["name"] for p in client.get("/api/v1/key-projects", headers=world["sec"]).get_json()["items"]] == [
        "西部物流园二期"]


def test_the_stage_moves_forward_and_the_geojson_export(client, world):
    url = f"/api/v1/key-projects/{world['project']['id']}"
    assert client.patch(url, headers=world["h"], json={"stage": "under_construction"}).status_code == 200
    assert client.patch(url, headers=world["h"], json={"stage": "planned"}).status_code == 409
    export = client.get("/api/v1/key-projects/export.geojson", headers=world["reviewer"])
    feature = export.get_json()["features"][0]
    assert export.mimetype == "application/geo+json"
    assert feature["geometry"] == {"type": "Point", "coordinates": [106.52, 29.51]}
    assert feature["properties"]["stage"] == "under_construction"


def test_the_four_ones_ledger_is_each_officials_and_outcomes_are_the_offices(client, world):
    touch = client.post("/api/v1/four-ones", headers=world["sec"], json={
        "year": 2026, "kind": "touch", "enterprise_id": world["project"]["enterprise_id"], "note": "走访企业"})
    serve = client.post("/api/v1/four-ones", headers=world["sec"], json={
        "year": 2026, "kind": "serve", "project_id": world["project"]["id"], "note": "协调施工许可"})
    wrong = client.post("/api/v1/four-ones", headers=world["sec"], json={"year": 2026, "kind": "plan", "note": "x"})
    assert touch.status_code == serve.status_code == 201 and wrong.status_code == 422
    assert wrong.get_json()["errors"][0]["field"] == "project_id"
    own = client.get("/api/v1/four-ones?year=2026", headers=world["sec"]).get_json()["items"]
    assert sorted(e["kind"] for e in own) == ["serve", "touch"]
    assert client.get("/api/v1/four-ones", headers=world["other"]).get_json()["items"] == []
    assert len(client.get("/api/v1/four-ones", headers=world["reviewer"]).get_json()["items"]) == 2
    outcome = client.post("/api/v1/enterprise-outcomes", headers=world["reviewer"], json={
        "enterprise_id": world["project"]["enterprise_id"], "period_start": "2026-01-01", "period_end": "2026-06-30",
        "output_growth_pct": 12.5, "loss_reduced_10k": 300})
    assert outcome.status_code == 201, outcome.get_json()
    assert client.post("/api/v1/enterprise-outcomes", headers=world["sec"], json={
        "enterprise_id": world["project"]["enterprise_id"], "period_start": "2026-01-01",
        "period_end": "2026-06-30", "output_growth_pct": 1}).status_code == 403
    listed = client.get("/api/v1/enterprise-outcomes", headers=world["reviewer"]).get_json()["items"]
    assert [(o["output_growth_pct"], o["loss_reduced_10k"]) for o in listed] == [(12.5, 300.0)]
