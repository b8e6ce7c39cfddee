"""Contact-point reports through the API: offline-safe sending, 422s naming fields, who sees what, CRS out."""

import uuid
from datetime import date

import pytest

from field.core import crs
from field.core.models.platform import Role
from tests.reports_fixtures import (  # noqa: F401 (fixtures)
    SITE,
    bearer,
    bureau,
    enterprise,
    leader,
    liaison,
    make_enterprise,
    make_filing,
    make_point,
    make_unit,
    point,
    reviewer,
)

PROBLEM = "application/problem+json"


def _suggestion(**extra):
    return {"id": str(uuid.uuid4()), "device_time": "2026-05-06T10:15:00+08:00", "report_type": "suggestion",
            "text": "希望窗口午间不休", **extra}


def _visit(unit, **extra):
    return {"id": str(uuid.uuid4()), "device_time": "2026-05-06T18:00:00+08:00",
            "report_type": "enforcement_visit", "unit_id": str(unit.id), "visited_on": "2026-05-06",
            "officers": "两名执法人员，未出示证件", "filing_shown": False, **extra}


def test_a_report_answers_201_then_200_for_every_repeat_and_409_for_another_body(client, bearer, liaison, point):
    headers = bearer(liaison)
    body = _suggestion()
    first = client.post("/api/v1/reports", json=body, headers=headers)
    again = client.post("/api/v1/reports", json=dict(reversed(list(body.items()))), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    stored = first.get_json()
    assert (stored["kind"], stored["report_type"], stored["point_id"], stored["text"]) == (
        "report", "suggestion", str(point.id), "希望窗口午间不休")
    assert stored["submitted_by"]["display_name"] == "联络员 陈"
    conflict = client.post("/api/v1/reports", json={**body, "text": "另一条建议"}, headers=headers)
    assert conflict.status_code == 409 and conflict.mimetype == PROBLEM
    assert conflict.get_json()["errors"][0]["field"] == "id"


def test_the_same_moment_written_in_another_offset_is_the_same_report(client, bearer, liaison, point):
    headers = bearer(liaison)
    body = _suggestion()
    assert client.post("/api/v1/reports", json=body, headers=headers).status_code == 201
    utc = {**body, "device_time": "2026-05-06T02:15:00Z"}
    assert client.post("/api/v1/reports", json=utc, headers=headers).status_code == 200


def test_only_a_liaison_sends_reports(client, bearer, leader, point):
    assert client.post("/api/v1/reports", json=_suggestion(), headers=bearer(leader)).status_code == 403


@pytest.mark.parametrize("extra, fields", [
    ({"score": 3}, {"score"}),
    ({"report_type": "rating", "rating_target": "window"}, {"score", "unit_id", "text"}),
    ({"report_type": "problem", "text": None}, {"problem_area", "unit_id", "description"}),
    ({"point_id": str(uuid.uuid4())}, {"point_id"}),
    ({"colour": "red"}, {"colour"}),
    ({"report_type": "rating", "rating_target": "unit", "text": None, "score": 6}, {"score"}),
])
def test_a_body_that_does_not_fit_is_a_422_naming_each_field(client, bearer, liaison, point, extra, fields):
    resp = client.post("/api/v1/reports", json=_suggestion(**extra), headers=bearer(liaison))
    assert resp.status_code == 422 and resp.mimetype == PROBLEM
    assert {e["field"] for e in resp.get_json()["errors"]} == fields


def test_an_unfiled_enforcement_visit_waits_in_the_queue_under_the_unfiled_flag(
        client, bearer, liaison, point, bureau, reviewer):
    sent = client.post("/api/v1/reports", json=_visit(bureau["department"]), headers=bearer(liaison))
    assert sent.status_code == 201 and sent.get_json()["flags"] == ["unfiled"]
    queue = client.get("/api/v1/review-queue?flag=unfiled", headers=bearer(reviewer)).get_json()["items"]
    assert [r["id"] for r in queue] == [sent.get_json()["id"]]


def test_an_unfiled_enforcement_visit_appears_in_the_offices_unfiled_inspections(
        client, bearer, liaison, point, bureau, reviewer, enterprise, make_filing):
    make_filing(enterprise, bureau["department"], date(2026, 5, 6))
    covered = client.post("/api/v1/reports", json=_visit(bureau["department"]), headers=bearer(liaison)).get_json()
    unfiled = client.post("/api/v1/reports", json=_visit(bureau["department"], visited_on="2026-05-05"),
                          headers=bearer(liaison)).get_json()
    assert covered["filing_id"] is not None and covered["flags"] == []
    listed = client.get("/api/v1/unfiled-inspections", headers=bearer(reviewer))
    assert listed.status_code == 200
    ids = [r["id"] for r in listed.get_json()["items"]]
    assert unfiled["id"] in ids and covered["id"] not in ids


def test_locations_are_taken_in_any_crs_stored_in_wgs84_and_answered_in_the_asked_one(
        client, bearer, liaison, point):
    headers = bearer(liaison)
    gcj = crs.from_wgs84(*SITE, "gcj02")
    body = _suggestion(location={"type": "Point", "coordinates": list(gcj), "crs": "gcj02", "accuracy_m": 15})
    created = client.post("/api/v1/reports", json=body, headers=headers).get_json()
    assert created["location"]["crs"] == "wgs84"
    assert created["location"]["coordinates"] == pytest.approx(list(SITE), abs=1e-6)
    assert created["location"]["accuracy_m"] == 15
    on_amap = client.get(f"/api/v1/reports/{created['id']}?crs=gcj02", headers=headers).get_json()["location"]
    assert on_amap["coordinates"] == pytest.approx(list(gcj), abs=1e-6) and on_amap["crs"] == "gcj02"


def test_the_list_is_newest_first_and_also_a_feature_collection(client, bearer, liaison, point):
    headers = bearer(liaison)
    ids = [client.post("/api/v1/reports", json=_suggestion(location={"type": "Point", "coordinates": list(SITE)}),
                       headers=headers).get_json()["id"] for _ in range(3)]
    page = client.get("/api/v1/reports?limit=2", headers=headers).get_json()
    rest = client.get(f"/api/v1/reports?limit=2&cursor={page['next_cursor']}", headers=headers).get_json()
    assert [r["id"] for r in page["items"] + rest["items"]] == ids[::-1]
    geo = client.get("/api/v1/reports?format=geojson", headers=headers)
    assert geo.mimetype == "application/geo+json"
    assert [f["geometry"]["type"] for f in geo.get_json()["features"]] == ["Point"] * 3


def test_a_covert_points_report_is_404_to_everyone_outside_its_circle(client, bearer, liaison, leader, make_point,
                                                                     make_user, reviewer):
    make_point(covert=True, liaisons=[liaison], leader=leader)
    report = client.post("/api/v1/reports", json=_suggestion(), headers=bearer(liaison)).get_json()
    url = f"/api/v1/reports/{report['id']}"
    for insider in (liaison, leader, reviewer):
        assert client.get(url, headers=bearer(insider)).status_code == 200
    for role in (Role.inspector, Role.squad_member, Role.leader, Role.liaison):
        resp = client.get(url, headers=bearer(make_user(role)))
        assert resp.status_code == 404 and resp.mimetype == PROBLEM
    assert client.get("/api/v1/reports", headers=bearer(make_user(Role.inspector))).status_code == 403
    assert client.get("/api/v1/reports", headers=bearer(make_user(Role.liaison))).get_json()["items"] == []


def test_the_submitter_answers_needs_info_with_an_amended_version(client, bearer, liaison, point, reviewer):
    headers = bearer(liaison)
    body = _suggestion()
    rid = client.post("/api/v1/reports", json=body, headers=headers).get_json()["id"]
    asked = client.post(f"/api/v1/records/{rid}/review", json={"state": "needs_info", "comment": "请具体说明"},
                        headers=bearer(reviewer))
    assert asked.status_code == 200
    amended = {k: v for k, v in body.items() if k != "id"}
    amended.update(text="希望窗口午间12:00-14:00不休", amendment_note="已补充时间")
    put = client.put(f"/api/v1/reports/{rid}", json=amended, headers=headers)
    assert put.status_code == 200
    assert (put.get_json()["version"], put.get_json()["review_state"]) == (2, "submitted")
    assert client.put(f"/api/v1/reports/{rid}", json=amended, headers=headers).get_json()["version"] == 2
    versions = client.get(f"/api/v1/records/{rid}/versions", headers=headers).get_json()
    assert [v["body"]["text"] for v in versions] == ["希望窗口午间不休", "希望窗口午间12:00-14:00不休"]
    assert client.put(f"/api/v1/reports/{rid}", json=amended, headers=bearer(reviewer)).status_code == 404


def test_amending_a_report_that_is_not_waiting_for_information_is_a_409(client, bearer, liaison, point):
    headers = bearer(liaison)
    body = _suggestion()
    rid = client.post("/api/v1/reports", json=body, headers=headers).get_json()["id"]
    resp = client.put(f"/api/v1/reports/{rid}", json={**{k: v for k, v in body.items() if k != "id"},
                                                       "text": "改"}, headers=headers)
    assert resp.status_code == 409 and resp.get_json()["type"] == "/problems/invalid-transition"
