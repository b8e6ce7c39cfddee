"""Visit tasks and visits over HTTP: the office assigns, the squad sees its own, phones send visits offline-safe."""

import random
import uuid

from field.core.models.platform import Role
from tests.visits_fixtures import world  # noqa: F401

WINDOW = {"window_start": "2026-05-11T08:30:00+08:00", "window_end": "2026-05-15T17:30:00+08:00"}


def _task(client, headers, world, **overrides):
    body = {"squad_id": str(world.squad.id), "method": "in_disguise", "target": {"unit_id": str(world.window.id)},
            "theme": "不动产登记窗口办事效率", **WINDOW, **overrides}
    return client.post("/api/v1/visit-tasks", headers=headers, json=body)


def _visit_body(**overrides):
    return {"id": str(uuid.uuid4()), "device_time": "2026-05-12T10:30:00+08:00",
            "started_at": "2026-05-12T09:40:00+08:00", "ended_at": "2026-05-12T10:10:00+08:00",
            "narrative": "三号窗口工作人员离岗约二十分钟。", **overrides}


def test_the_office_assigns_a_task_and_only_that_squads_members_see_it(client, world, login):
    office = login(world.reviewer)
    created = _task(client, office, world)
    assert created.status_code == 201, created.get_json()
    task = created.get_json()
    assert task["target"]["kind"] == "unit" and task["target"]["unit_name"] == "三号窗口"
    assert task["target"]["unit_kind"] == "window" and task["state"] == "open"
    alice, carol = login(world.alice.user), login(world.carol.user)
    assert [t["id"] for t in client.get("/api/v1/visit-tasks", headers=alice).get_json()["items"]] == [task["id"]]
    assert client.get("/api/v1/visit-tasks", headers=carol).get_json()["items"] == []
    gone = client.get(f"/api/v1/visit-tasks/{task['id']}", headers=carol)
    assert gone.status_code == 404 and gone.mimetype == "application/problem+json"
    assert client.get(f"/api/v1/visit-tasks/{task['id']}", headers=alice).status_code == 200


def test_a_squad_member_may_not_assign_or_change_tasks(client, world, login):
    task = _task(client, login(world.reviewer), world).get_json()
    alice = login(world.alice.user)
    assert _task(client, alice, world).status_code == 403
    assert client.patch(f"/api/v1/visit-tasks/{task['id']}", headers=alice, json={"state": "done"}).status_code == 403


def test_a_free_place_is_answered_in_the_map_crs_the_client_asks_for(client, world, login):
    office = login(world.reviewer)
    place = {"place_name": "杨家坪步行街", "location": {"type": "Point", "coordinates": [106.51, 29.50], "crs": "gcj02"}}
    task = _task(client, office, world, method="casual_talk", target=place).get_json()
    wgs = task["target"]["location"]
    assert wgs["crs"] == "wgs84" and abs(wgs["coordinates"][0] - 106.51) > 0.001
    gcj = client.get(f"/api/v1/visit-tasks/{task['id']}", headers=office, query_string={"crs": "gcj02"}).get_json()
    assert gcj["target"]["location"]["crs"] == "gcj02"
    assert [round(c, 6) for c in gcj["target"]["location"]["coordinates"]] == [106.51, 29.5]


def test_a_task_state_change_not_allowed_is_a_409_listing_the_allowed_ones(client, world, login):
    office = login(world.reviewer)
    task = _task(client, office, world).get_json()
    url = f"/api/v1/visit-tasks/{task['id']}"
    assert client.patch(url, headers=office, json={"state": "cancelled"}).get_json()["state"] == "cancelled"
    refused = client.patch(url, headers=office, json={"state": "open"})
    assert refused.status_code == 409 and refused.get_json()["allowed"] == []


def test_a_task_with_two_targets_or_a_bad_window_is_a_422_naming_the_field(client, world, login):
    office = login(world.reviewer)
    two = _task(client, office, world, target={"unit_id": str(world.window.id),
                                               "enterprise_id": str(world.enterprise.id)})
    assert two.status_code == 422 and two.get_json()["errors"][0]["field"] == "target"
    backwards = _task(client, office, world, window_start=WINDOW["window_end"], window_end=WINDOW["window_start"])
    assert backwards.get_json()["errors"][0]["field"] == "window_end"
    unknown = _task(client, office, world, colour="red")
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "colour"


def test_a_visit_is_created_once_a_repeat_answers_200_and_another_body_409(client, world, login):
    alice = login(world.alice.user)
    body = _visit_body(members=[world.bob.code])
    first = client.post("/api/v1/visits", headers=alice, json=body)
    assert first.status_code == 201, first.get_json()
    again = client.post("/api/v1/visits", headers=alice, json=dict(reversed(list(body.items()))))
    assert again.status_code == 200 and again.get_json() == first.get_json()
    conflict = client.post("/api/v1/visits", headers=alice, json={**body, "narrative": "别的内容"})
    assert conflict.status_code == 409 and conflict.mimetype == "application/problem+json"
    assert conflict.get_json()["errors"][0]["field"] == "id"
    visit = first.get_json()
    assert visit["kind"] == "visit" and visit["squad_id"] == str(world.squad.id)
    assert visit["members"] == sorted([world.alice.code, world.bob.code]) and visit["review_state"] == "submitted"


def test_the_phones_clock_is_kept_and_a_far_off_one_flagged(client, world, login):
    alice = login(world.alice.user)
    resp = client.post("/api/v1/visits", headers={**alice, "X-Device-Time": "2020-01-01T00:00:00+08:00"},
                       json=_visit_body())
    assert resp.status_code == 201 and resp.get_json()["flags"] == ["clock_skew"]


def test_a_visit_answered_with_needs_info_is_amended_by_put_and_keeps_both_versions(client, world, login):
    alice, office = login(world.alice.user), login(world.reviewer)
    body = _visit_body()
    visit = client.post("/api/v1/visits", headers=alice, json=body).get_json()
    review = client.post(f"/api/v1/records/{visit['id']}/review", headers=office,
                         json={"state": "needs_info", "comment": "请说明同行人员。"})
    assert review.status_code == 200
    amended = {k: v for k, v in body.items() if k != "id"} | {"members": [world.bob.code],
                                                              "amendment_note": "补充同行人"}
    put = client.put(f"/api/v1/visits/{visit['id']}", headers=alice, json=amended)
    assert put.status_code == 200 and put.get_json()["version"] == 2
    assert put.get_json()["members"] == sorted([world.alice.code, world.bob.code])
    versions = client.get(f"/api/v1/records/{visit['id']}/versions", headers=alice).get_json()
    assert [v["version"] for v in versions] == [1, 2]
    bob = login(world.bob.user)
    assert client.put(f"/api/v1/visits/{visit['id']}", headers=bob, json=amended).status_code == 404


def test_visits_are_listed_for_their_sender_and_the_office_and_as_geojson(client, world, login):
    alice = login(world.alice.user)
    located = _visit_body(location={"type": "Point", "coordinates": [106.51, 29.50], "accuracy_m": 9})
    client.post("/api/v1/visits", headers=alice, json=located)
    client.post("/api/v1/visits", headers=login(world.bob.user), json=_visit_body())
    assert len(client.get("/api/v1/visits", headers=alice).get_json()["items"]) == 1
    office = login(world.reviewer)
    collection = client.get("/api/v1/visits", headers=office, query_string={"format": "geojson"})
    assert collection.mimetype == "application/geo+json"
    features = collection.get_json()["features"]
    assert len(features) == 2
    assert [f["geometry"]["coordinates"] for f in features if f["geometry"]] == [[106.51, 29.5]]


def test_a_visit_by_someone_outside_any_squad_is_refused(client, world, login, make_user):
    office = login(world.reviewer)
    assert client.post("/api/v1/visits", headers=office, json=_visit_body()).status_code == 403
    loner = login(make_user(Role.squad_member))
    assert client.post("/api/v1/visits", headers=loner, json=_visit_body()).status_code == 403


def test_the_sync_feed_hands_a_monitor_their_squads_tasks(client, world, login):
    task = _task(client, login(world.reviewer), world).get_json()
    feed = client.get("/api/v1/sync", headers=login(world.alice.user)).get_json()
    tasks = [c for c in feed["changes"] if c["entity"] == "visit_task"]
    assert [(c["id"], c["op"], c["data"]["theme"]) for c in tasks] == [(task["id"], "upsert", task["theme"])]
    other = client.get("/api/v1/sync", headers=login(world.carol.user)).get_json()
    assert [c for c in other["changes"] if c["entity"] == "visit_task"] == []


def test_shuffled_repeats_of_many_records_store_each_once_and_altered_ones_conflict(client, world, login):
    rng = random.Random(20260512)
    alice = login(world.alice.user)
    finding = {"category": "delays", "severity": "minor", "unit_id": str(world.window.id),
               "occurred_at": "2026-05-12T09:50:00+08:00", "description": "等候超过一小时。"}
    originals = [("/api/v1/visits", _visit_body(narrative=f"第{i}次")) for i in range(12)] + [
        ("/api/v1/findings", _visit_body() | finding | {"description": f"第{i}件"}) for i in range(12)]
    for _, body in originals[12:]:
        for key in ("started_at", "ended_at", "narrative"):
            body.pop(key)
    sends = originals * 3
    rng.shuffle(sends)
    statuses: dict[str, list[int]] = {}
    for url, body in sends:
        resp = client.post(url, headers=alice, json=dict(rng.sample(list(body.items()), len(body))))
        statuses.setdefault(body["id"], []).append(resp.status_code)
    assert all(codes[0] == 201 and codes[1:] == [200, 200] for codes in statuses.values())
    for url, body in rng.sample(originals, 6):
        altered = {**body, "device_time": "2026-05-12T11:00:00+08:00"}
        assert client.post(url, headers=alice, json=altered).status_code == 409
    office = login(world.reviewer)
    stored = [r["id"] for r in client.get("/api/v1/review-queue", headers=office,
                                            query_string={"limit": 100}).get_json()["items"]]
    assert sorted(stored) == sorted(statuses)
