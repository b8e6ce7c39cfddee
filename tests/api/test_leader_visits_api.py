"""Leader visits and visit-obligation compliance through the API."""

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from field.core import crs
from field.reports.compliance import period_of
from field.core.models.platform import Role
from field.directory.models import VisitFrequency
from tests.reports_fixtures import (  # noqa: F401 (fixtures)
    SITE,
    bearer,
    enterprise,
    leader,
    liaison,
    make_enterprise,
    make_point,
    make_unit,
    point,
    reviewer,
    set_point,
)

PROBLEM = "application/problem+json"


def _visit(point, *, at=SITE, when="2026-05-06T09:30:00+08:00", **extra):
    return {"id": str(uuid.uuid4()), "device_time": when, "point_id": str(point.id), "visited_at": when,
            "location": {"type": "Point", "coordinates": list(at), "accuracy_m": 12}, "notes": "座谈", **extra}


def test_a_visit_answers_201_then_200_and_409_for_another_body(client, bearer, leader, point):
    headers = bearer(leader)
    body = _visit(point)
    first = client.post("/api/v1/leader-visits", json=body, headers=headers)
    assert first.status_code == 201, first.get_json()
    assert client.post("/api/v1/leader-visits", json=body, headers=headers).status_code == 200
    created = first.get_json()
    assert (created["kind"], created["point_id"], created["visited_at"]) == (
        "leader_visit", str(point.id), "2026-05-06T01:30:00+00:00")
    assert created["distance_m"] == pytest.approx(0, abs=0.01) and created["flags"] == []
    conflict = client.post("/api/v1/leader-visits", json={**body, "notes": "改"}, headers=headers)
    assert conflict.status_code == 409 and conflict.mimetype == PROBLEM


def test_a_visit_sent_in_gcj02_far_from_the_enterprise_is_flagged_with_its_wgs84_distance(
        client, bearer, leader, point):
    away = crs.from_wgs84(SITE[0], SITE[1] + 0.01, "gcj02")
    body = _visit(point, location={"type": "Point", "coordinates": list(away), "crs": "gcj02", "accuracy_m": 12})
    created = client.post("/api/v1/leader-visits", json=body, headers=bearer(leader)).get_json()
    assert created["flags"] == ["far_from_target"] and created["distance_m"] == pytest.approx(1112, rel=0.01)


def test_the_far_threshold_comes_from_the_configuration(app, client, bearer, leader, point):
    app.config["FAR_FROM_TARGET_M"] = 5000
    body = _visit(point, at=(SITE[0], SITE[1] + 0.01))
    assert client.post("/api/v1/leader-visits", json=body, headers=bearer(leader)).get_json()["flags"] == []


@pytest.mark.parametrize("change, field", [
    ({"location": None}, "location"),
    ({"visited_at": "2026-05-06T09:30:00"}, "visited_at"),
    ({"point_id": str(uuid.uuid4())}, "point_id"),
    ({"visited_at": "2024-12-31T09:30:00+08:00"}, "visited_at"),  # before the point
])
def test_a_visit_that_does_not_fit_is_a_422_naming_the_field(client, bearer, leader, point, change, field):
    resp = client.post("/api/v1/leader-visits", json={**_visit(point), **change}, headers=bearer(leader))
    assert resp.status_code == 422 and resp.mimetype == PROBLEM
    assert field in {e["field"] for e in resp.get_json()["errors"]}


def test_only_leaders_log_visits_and_others_cannot_see_them(client, bearer, leader, point, liaison, make_user):
    assert client.post("/api/v1/leader-visits", json=_visit(point), headers=bearer(liaison)).status_code == 403
    vid = client.post("/api/v1/leader-visits", json=_visit(point), headers=bearer(leader)).get_json()["id"]
    for role in (Role.liaison, Role.inspector, Role.leader):
        assert client.get(f"/api/v1/leader-visits/{vid}", headers=bearer(make_user(role))).status_code == 404
    assert client.get("/api/v1/leader-visits", headers=bearer(make_user(Role.inspector))).status_code == 403


def test_the_office_lists_visits_latest_first_filtered_by_point(client, bearer, leader, point, reviewer,
                                                                make_point):
    headers = bearer(leader)
    other = make_point(leader=leader)
    ids = [client.post("/api/v1/leader-visits", json=_visit(p, when=when), headers=headers).get_json()["id"]
           for p, when in ((point, "2026-05-04T10:00:00+08:00"), (point, "2026-05-06T10:00:00+08:00"),
                           (other, "2026-05-05T10:00:00+08:00"))]
    office = bearer(reviewer)
    listed = client.get("/api/v1/leader-visits", headers=office).get_json()["items"]
    assert [v["id"] for v in listed] == [ids[1], ids[2], ids[0]]
    only = client.get(f"/api/v1/leader-visits?point_id={point.id}", headers=office).get_json()["items"]
    assert [v["id"] for v in only] == [ids[1], ids[0]]
    geo = client.get("/api/v1/leader-visits", headers={**office, "Accept": "application/geo+json"})
    assert geo.mimetype == "application/geo+json" and len(geo.get_json()["features"]) == 3


def test_the_leader_amends_a_visit_the_office_asked_about(client, bearer, leader, point, reviewer):
    headers = bearer(leader)
    body = _visit(point, at=(SITE[0], SITE[1] + 0.01))
    vid = client.post("/api/v1/leader-visits", json=body, headers=headers).get_json()["id"]
    client.post(f"/api/v1/records/{vid}/review", json={"state": "needs_info", "comment": "位置偏远"},
                headers=bearer(reviewer))
    amended = {**{k: v for k, v in body.items() if k != "id"}, "location": _visit(point)["location"],
               "amendment_note": "重新定位"}
    resp = client.put(f"/api/v1/leader-visits/{vid}", json=amended, headers=headers)
    assert resp.status_code == 200 and resp.get_json()["version"] == 2 and resp.get_json()["flags"] == []


def _this_week_visit(point):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    return _visit(point, when=now.isoformat())


def test_compliance_shows_who_is_behind_this_period(client, bearer, leader, point, reviewer, make_point,
                                                    make_user, set_point):
    other_leader = make_user(Role.leader, display_name="包保领导 赵")
    idle = make_point(leader=other_leader)
    set_point(point, visit_frequency="weekly")
    set_point(idle, visit_frequency="weekly")
    today = datetime.now(timezone(timedelta(hours=8))).date()
    last_week = period_of(VisitFrequency.weekly, today).start - timedelta(days=3)
    headers = bearer(leader)
    for body in (_this_week_visit(point), _visit(point, when=f"{last_week.isoformat()}T10:00:00+08:00")):
        assert client.post("/api/v1/leader-visits", json=body, headers=headers).status_code == 201
    rows = client.get("/api/v1/leader-compliance", headers=bearer(reviewer)).get_json()["items"]
    by_point = {r["point_id"]: r for r in rows}
    assert set(by_point) == {str(point.id), str(idle.id)}
    assert by_point[str(point.id)]["behind"] is False and by_point[str(idle.id)]["behind"] is True
    mine = by_point[str(point.id)]
    assert (mine["leader"]["display_name"], mine["obligation"]) == ("包保领导 刘", "weekly")
    assert mine["range"] == {"start": f"{today.year}-01-01", "end": f"{today.year}-12-31"}
    assert mine["current_period"]["visited"] and mine["last_completed_period"]["visited"]
    assert mine["periods_visited"] == 2 and mine["enterprise"]["name"] == "重庆九龙精密机械有限公司"
    own = client.get("/api/v1/leader-compliance", headers=headers).get_json()["items"]
    assert [r["point_id"] for r in own] == [str(point.id)]


def test_compliance_over_an_asked_period_and_who_may_ask(client, bearer, leader, point, reviewer, make_user):
    resp = client.get("/api/v1/leader-compliance?period=2025-Q1", headers=bearer(reviewer))
    [row] = resp.get_json()["items"]
    assert row["range"] == {"start": "2025-01-01", "end": "2025-03-31"}
    assert (row["periods_due"], row["periods_visited"], row["periods_missed"]) == (3, 0, 3)
    assert [m["start"] for m in row["missed"]] == ["2025-01-01", "2025-02-01", "2025-03-01"]
    bad = client.get("/api/v1/leader-compliance?period=2025-Q5", headers=bearer(reviewer))
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "period"
    for role in (Role.inspector, Role.liaison, Role.squad_member):
        assert client.get("/api/v1/leader-compliance", headers=bearer(make_user(role))).status_code == 403


def test_compliance_pages_by_cursor(client, bearer, leader, make_point, reviewer):
    for _ in range(3):
        make_point(leader=leader)
    first = client.get("/api/v1/leader-compliance?limit=2", headers=bearer(reviewer)).get_json()
    rest = client.get(f"/api/v1/leader-compliance?limit=2&cursor={first['next_cursor']}",
                      headers=bearer(reviewer)).get_json()
    ids = [r["point_id"] for r in first["items"] + rest["items"]]
    assert len(ids) == len(set(ids)) == 3 and rest["next_cursor"] is None


def test_a_point_designated_for_the_future_owes_nothing_yet(client, bearer, leader, point, reviewer, set_point):
    set_point(point, active_from=date(2099, 1, 1))
    [row] = client.get("/api/v1/leader-compliance?period=2099", headers=bearer(reviewer)).get_json()["items"]
    assert (row["periods_due"], row["behind"], row["current_period"]) == (0, False, None)
