"""Service visits from the phone with a photo, visit obligations, compliance and an enterprise's own problem,
through the API: every bad input a problem+json naming its field, nothing stored."""

from __future__ import annotations

import io
import uuid
from datetime import date

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from field.core.models.platform import Role
from field.core.office import fixed_day
from tests import corpus
from tests.directory_fixtures import credit_code

SITE = {"type": "Point", "coordinates": [106.52, 29.51], "accuracy_m": 10}


@pytest.fixture
def world(client, make_user, login):
    admin, secretary, head = make_user(Role.admin), make_user(Role.leader), make_user(Role.leader)
    h = login(admin)
    unit = client.post("/api/v1/units", headers=h, json={"name": "区发改委", "kind": "department"}).get_json()
    ent = client.post("/api/v1/enterprises", headers=h, json={
        "name": "重庆某物流公司", "credit_code": credit_code(),
        "location": {"type": "Point", "coordinates": [106.52, 29.51]}}).get_json()
    ent2 = client.post("/api/v1/enterprises", headers=h, json={"name": "规上企业", "credit_code": credit_code()}
                       ).get_json()
    project = client.post("/api/v1/key-projects", headers=h, json={
        "name": "西部物流园二期", "investment_10k": "150000", "enterprise_id": ent["id"],
        "location": {"type": "Point", "coordinates": [106.52, 29.51]}}).get_json()
    for body in ({"official_id": str(secretary.id), "role": "secretary", "campaign": "365",
                  "starts_on": "2026-01-01", "project_id": project["id"]},
                 {"official_id": str(head.id), "role": "department_head", "campaign": "double_hundred",
                  "starts_on": "2026-01-01", "enterprise_id": ent2["id"]}):
        assert client.post("/api/v1/service-assignments", headers=h, json=body).status_code == 201
    return {"h": h, "sec": login(secretary), "head": login(head), "unit": unit, "project": project, "ent2": ent2,
            "reviewer": login(make_user(Role.reviewer)), "other": login(make_user(Role.leader))}


def _visit(w, **extra):
    return {"id": str(uuid.uuid4()), "device_time": "2026-05-06T10:00:00+08:00", "project_id": w["project"]["id"],
            "visited_at": "2026-05-06T09:30:00+08:00", "location": SITE, "notes": "现场协调施工用电", **extra}


def _field(resp) -> str:
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json", resp.get_json()
    return resp.get_json()["errors"][0]["field"]


def test_a_secretary_logs_a_site_visit_with_a_photo_once_and_a_far_one_is_flagged(client, world):
    body = _visit(world)
    first = client.post("/api/v1/service-visits", headers=world["sec"], json=body)
    assert first.status_code == 201, first.get_json()
    again = client.post("/api/v1/service-visits", headers=world["sec"], json=body)
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]
    other = client.post("/api/v1/service-visits", headers=world["sec"], json={**body, "notes": "改了"})
    assert other.status_code == 409
    visit = first.get_json()
    assert visit["kind"] == "service_visit" and visit["distance_m"] < 1 and "far_from_target" not in visit["flags"]

    photo = sorted((corpus.PHOTOS / "orientation").glob("*.jpg"))[0].read_bytes()
    boundary, data = encode_multipart({"record_id": visit["id"], "kind": "photo",
                                       "file": FileStorage(io.BytesIO(photo), "IMG_0001.jpg")})
    sent = client.post("/api/v1/evidence", headers=world["sec"], data=data,
                       content_type=f"multipart/form-data; boundary={boundary}")
    assert sent.status_code == 201, sent.get_json()
    attached = client.get(f"/api/v1/records/{visit['id']}/attachments", headers=world["reviewer"]).get_json()
    assert [a["sha256"] for a in attached] == [sent.get_json()["sha256"]]

    far = client.post("/api/v1/service-visits", headers=world["sec"], json=_visit(
        world, location={"type": "Point", "coordinates": [106.60, 29.60], "accuracy_m": 10}))
    assert far.status_code == 201 and "far_from_target" in far.get_json()["flags"]
    listed = client.get("/api/v1/service-visits", headers=world["reviewer"]).get_json()["items"]
    assert {v["id"] for v in listed} == {visit["id"], far.get_json()["id"]}
    assert client.get("/api/v1/service-visits", headers=world["other"]).get_json()["items"] == []
    assert client.get(f"/api/v1/service-visits/{visit['id']}", headers=world["other"]).status_code == 404


def test_bad_visits_are_refused_naming_the_field_and_nothing_is_stored(client, world):
    sec = world["sec"]
    assert _field(client.post("/api/v1/service-visits", headers=sec, json=_visit(world, project_id=None))) \
        == "project_id"
    assert _field(client.post("/api/v1/service-visits", headers=sec, json=_visit(
        world, enterprise_id=world["ent2"]["id"]))) == "project_id"  # both named
    assert _field(client.post("/api/v1/service-visits", headers=world["other"], json=_visit(world))) == "project_id"
    assert _field(client.post("/api/v1/service-visits", headers=sec, json=_visit(
        world, project_id=None, enterprise_id=world["ent2"]["id"]))) == "enterprise_id"  # not the secretary's
    assert _field(client.post("/api/v1/service-visits", headers=sec, json=_visit(
        world, visited_at="2099-01-01T09:00:00+08:00"))) == "visited_at"
    assert _field(client.post("/api/v1/service-visits", headers=sec, json=_visit(
        world, visited_at="2025-12-31T09:00:00+08:00"))) == "project_id"  # before the assignment began
    no_place = _visit(world)
    del no_place["location"]
    assert _field(client.post("/api/v1/service-visits", headers=sec, json=no_place)) == "location"
    assert client.get("/api/v1/service-visits", headers=world["reviewer"]).get_json()["items"] == []


def test_obligations_are_set_by_admins_and_checked(client, world):
    assert {o["role"]: (o["visits"], o["per"]) for o in client.get(
        "/api/v1/visit-obligations", headers=world["sec"]).get_json()} == {
        "chief": (1, "week"), "secretary": (1, "week"), "department_head": (2, "month")}
    body = {"role": "department_head", "visits": 3, "per": "month"}
    assert client.put("/api/v1/visit-obligations", headers=world["reviewer"], json=body).status_code == 403
    assert _field(client.put("/api/v1/visit-obligations", headers=world["h"], json={**body, "visits": 8,
                                                                                      "per": "week"})) == "visits"
    assert _field(client.put("/api/v1/visit-obligations", headers=world["h"], json={**body, "per": "day"})) == "per"
    assert _field(client.put("/api/v1/visit-obligations", headers=world["h"], json={**body, "visits": 0})) \
        == "visits"
    done = client.put("/api/v1/visit-obligations", headers=world["h"], json=body)
    assert done.status_code == 200 and done.get_json()["visits"] == 3 and done.get_json()["jurisdiction_id"]


def test_compliance_and_figures_count_the_department_heads_visits(client, world):
    for day in ("05", "20"):
        sent = client.post("/api/v1/service-visits", headers=world["head"], json=_visit(
            world, project_id=None, enterprise_id=world["ent2"]["id"], visited_at=f"2026-05-{day}T10:00:00+08:00"))
        assert sent.status_code == 201, sent.get_json()
    with fixed_day(date(2026, 6, 10)):
        own = client.get("/api/v1/service-compliance?period=2026-05", headers=world["head"]).get_json()["items"]
        assert [(c["role"], c["periods_due"], c["periods_met"], c["visits"]) for c in own] == [
            ("department_head", 1, 1, 2)]
        assert _field(client.get("/api/v1/service-compliance?period=2026-13", headers=world["head"])) == "period"
        rows = {r["campaign"]: r for r in client.get("/api/v1/service-figures?from=2026-05-01&to=2026-05-31",
                                                     headers=world["reviewer"]).get_json()}
    # 双百: May met; 365: the secretary's five weeks of May (27 Apr - 31 May), all ended without a visit.
    assert (rows["double_hundred"]["visit_periods_met"], rows["double_hundred"]["visit_compliance"]) == (1, 1.0)
    assert (rows["365"]["visit_periods_due"], rows["365"]["visit_periods_missed"]) == (5, 5)
    assert rows["all"]["visit_compliance"] == round(1 / 6, 4)


def test_an_enterprise_raises_a_problem_without_a_project(client, world):
    body = {"category": "funding", "source": "liaison", "description": "流动资金贷款未落实",
            "unit_ids": [world["unit"]["id"]], "limit_days": 10, "raised_on": "2026-05-06"}
    url = f"/api/v1/enterprises/{world['ent2']['id']}/problems"
    with fixed_day(date(2026, 5, 6)):
        raised = client.post(url, headers=world["head"], json=body)
        assert client.post(url, headers=world["other"], json=body).status_code == 403
        assert client.post(f"/api/v1/enterprises/{uuid.uuid4()}/problems", headers=world["h"],
                           json=body).status_code == 404
        assert _field(client.post(url, headers=world["h"], json={**body, "limit_days": 0})) == "limit_days"
        assert _field(client.post(url, headers=world["h"], json={**body, "unit_ids": [str(uuid.uuid4())]})) \
            == "unit_ids.0"
    assert raised.status_code == 201, raised.get_json()
    problem = raised.get_json()
    assert problem["project_id"] is None and problem["enterprise_id"] == world["ent2"]["id"]
    seen = client.get("/api/v1/service-problems", headers=world["head"]).get_json()["items"]
    assert [p["id"] for p in seen] == [problem["id"]]
    with fixed_day(date(2026, 5, 31)):
        rows = {r["campaign"]: r for r in client.get("/api/v1/service-figures?from=2026-05-01&to=2026-05-31",
                                                     headers=world["reviewer"]).get_json()}
    assert rows["double_hundred"]["raised"] == 1 and rows["all"]["raised"] == 1


def _synced(client, headers) -> dict[str, set[str]]:
    changes = client.get("/api/v1/sync", headers=headers).get_json()["changes"]
    out: dict[str, set[str]] = {}
    for c in changes:
        if c["op"] == "upsert":
            out.setdefault(c["entity"], set()).add(c["id"])
    return out


def test_the_sync_feed_brings_projects_assignments_and_problems_to_the_officials_serving_them(client, world):
    with fixed_day(date(2026, 5, 6)):
        problem = client.post(f"/api/v1/key-projects/{world['project']['id']}/problems", headers=world["sec"], json={
            "category": "procedures", "source": "official", "description": "施工许可卡在消防审验",
            "unit_ids": [world["unit"]["id"]], "limit_days": 5}).get_json()
        own = client.post(f"/api/v1/enterprises/{world['ent2']['id']}/problems", headers=world["head"], json={
            "category": "funding", "source": "liaison", "description": "贷款未落实",
            "unit_ids": [world["unit"]["id"]], "limit_days": 10}).get_json()
        sec, head = _synced(client, world["sec"]), _synced(client, world["head"])
        other = _synced(client, world["other"])
    assert sec["key_project"] == {world["project"]["id"]} and sec["service_problem"] == {problem["id"]}
    assert len(sec["service_assignment"]) == 1
    assert "key_project" not in head and head["service_problem"] == {own["id"]}
    assert not {"key_project", "service_problem", "service_assignment"} & set(other)
    office = _synced(client, world["reviewer"])
    assert office["service_problem"] == {problem["id"], own["id"]} and len(office["service_assignment"]) == 2
