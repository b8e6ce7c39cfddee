"""Findings and their categories over HTTP: recorded by monitors, reviewed by the office, filtered in its queue."""

import uuid

from tests.visits_fixtures import world  # noqa: F401


def _finding_body(world, **overrides):
    return {"id": str(uuid.uuid4()), "device_time": "2026-05-12T10:40:00+08:00", "category": "buck_passing",
            "severity": "moderate", "unit_id": str(world.window.id), "occurred_at": "2026-05-12T09:50:00+08:00",
            "description": "窗口让群众去找科室，科室又让回窗口。", **overrides}


def test_the_categories_of_the_brief_are_listed_with_both_labels(client, world, login):
    alice = login(world.alice.user)
    page = client.get("/api/v1/finding-categories", headers=alice, query_string={"limit": 100}).get_json()
    by_code = {c["code"]: c for c in page["items"]}
    assert by_code["collusion"]["label_zh"] == "勾兑" and by_code["collusion"]["label_en"] == "Collusion"
    assert by_code["collusion"]["jurisdiction_id"] is None and by_code["collusion"]["group_code"] == "five_poisons"
    found = client.get("/api/v1/finding-categories", headers=alice, query_string={"q": "培训"}).get_json()["items"]
    assert [c["code"] for c in found] == ["sponsorship_or_paid_training"]


def test_an_admin_adds_a_category_a_reviewer_may_not_and_the_seeded_ones_are_fixed(client, world, login):
    admin, office = login(world.admin), login(world.reviewer)
    body = {"code": "parking_fees", "label_zh": "违规收取停车费", "label_en": "Irregular parking fees"}
    assert client.post("/api/v1/finding-categories", headers=office, json=body).status_code == 403
    created = client.post("/api/v1/finding-categories", headers=admin, json=body)
    assert created.status_code == 201 and created.get_json()["jurisdiction_id"] == str(world.admin.jurisdiction_id)
    assert client.post("/api/v1/finding-categories", headers=admin, json=body).status_code == 409
    bad = client.post("/api/v1/finding-categories", headers=admin, json={**body, "code": "Parking Fees"})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "code"
    seeded = next(c for c in client.get("/api/v1/finding-categories", headers=admin,
                                         query_string={"limit": 100}).get_json()["items"] if c["code"] == "delays")
    assert client.patch(f"/api/v1/finding-categories/{seeded['id']}", headers=admin,
                        json={"active": False}).status_code == 403
    own = created.get_json()["id"]
    retired = client.patch(f"/api/v1/finding-categories/{own}", headers=admin, json={"active": False})
    assert retired.status_code == 200 and retired.get_json()["active"] is False
    refused = client.post("/api/v1/findings", headers=login(world.alice.user),
                          json=_finding_body(world, category="parking_fees"))
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "category"


def test_a_finding_goes_from_the_phone_through_the_queue_to_an_amended_version(client, world, login):
    alice, office = login(world.alice.user), login(world.reviewer)
    body = _finding_body(world, person_id=str(world.clerk.id),
                         declared_attachments=[{"sha256": "a" * 64, "media": "photo"}],
                         location={"type": "Point", "coordinates": [106.51, 29.50], "crs": "gcj02",
                                   "accuracy_m": 10})
    created = client.post("/api/v1/findings", headers=alice, json=body)
    assert created.status_code == 201, created.get_json()
    finding = created.get_json()
    assert finding["category"] == {"code": "buck_passing", "label_zh": "踢球", "label_en": "Buck-passing"}
    assert finding["person_name"] == "李科员" and finding["squad_id"] == str(world.squad.id)
    assert finding["declared_attachments"] == [{"sha256": "a" * 64, "media": "photo"}]
    assert finding["location"]["crs"] == "wgs84" and finding["location"]["accuracy_m"] == 10
    assert client.post("/api/v1/findings", headers=alice, json=body).status_code == 200
    queue = client.get("/api/v1/review-queue", headers=office,
                       query_string={"kind": "finding", "category": "buck_passing", "squad_id": str(world.squad.id)})
    assert [r["id"] for r in queue.get_json()["items"]] == [finding["id"]]
    client.post(f"/api/v1/records/{finding['id']}/review", headers=office,
                json={"state": "needs_info", "comment": "属于哪类问题再核实。"})
    amended = {k: v for k, v in body.items() if k != "id"} | {"category": "harassing", "amendment_note": "改"}
    put = client.put(f"/api/v1/findings/{finding['id']}", headers=alice, json=amended)
    assert put.status_code == 200 and put.get_json()["category"]["code"] == "harassing"
    assert put.get_json()["version"] == 2 and put.get_json()["review_state"] == "submitted"


def test_a_finding_about_something_the_sender_may_not_name_is_a_422_naming_it(client, world, login):
    alice = login(world.alice.user)
    for change, field in (({"unit_id": str(uuid.uuid4())}, "unit_id"),
                          ({"person_id": str(world.stranger.id)}, "person_id"),
                          ({"severity": "catastrophic"}, "severity"),
                          ({"category": "nope"}, "category")):
        resp = client.post("/api/v1/findings", headers=alice, json=_finding_body(world, **change))
        assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == field, change


def test_the_office_lists_findings_by_severity_and_a_monitor_only_their_own(client, world, login):
    alice, bob, office = login(world.alice.user), login(world.bob.user), login(world.reviewer)
    client.post("/api/v1/findings", headers=alice, json=_finding_body(world, severity="serious"))
    client.post("/api/v1/findings", headers=bob, json=_finding_body(world))
    serious = client.get("/api/v1/findings", headers=office, query_string={"severity": "serious"}).get_json()
    assert [f["severity"] for f in serious["items"]] == ["serious"]
    assert len(client.get("/api/v1/findings", headers=office).get_json()["items"]) == 2
    assert len(client.get("/api/v1/findings", headers=bob).get_json()["items"]) == 1


def test_the_office_finds_findings_near_a_point_in_a_box_and_inside_a_boundary_newest_first(client, world, login,
                                                                                             session, tree):
    from field.core import geo
    from shapely.geometry import box

    alice, office = login(world.alice.user), login(world.reviewer)
    made = {}
    for name, lon, lat in (("near", 106.5000, 29.5000), ("close", 106.5030, 29.5000), ("far", 106.6000, 29.6000),
                           ("nowhere", None, None)):
        location = None if lon is None else {"type": "Point", "coordinates": [lon, lat], "crs": "wgs84"}
        resp = client.post("/api/v1/findings", headers=alice, json=_finding_body(world, location=location))
        assert resp.status_code == 201, resp.get_json()
        made[resp.get_json()["id"]] = name

    def names(**query):
        resp = client.get("/api/v1/findings", headers=office, query_string=query)
        assert resp.status_code == 200, resp.get_json()
        return [made[f["id"]] for f in resp.get_json()["items"]], resp.get_json()["items"]

    within, items = names(near="106.5,29.5", radius_m=500)
    assert within == ["close", "near"]  # newest first
    assert items[1]["distance_m"] < 1 and 280 < items[0]["distance_m"] < 300
    assert names(bbox="106.49,29.49,106.502,29.51")[0] == ["near"]
    tree["home_street"].boundary = geo.to_db(geo.as_multipolygon(box(106.55, 29.55, 106.65, 29.65)))
    session.commit()
    assert names(within_jurisdiction=str(tree["home_street"].id))[0] == ["far"]
    assert names(near="106.5,29.5", nearest=2)[0] == ["near", "close"]
    bad = client.get("/api/v1/findings", headers=office, query_string={"radius_m": 500})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "near"


def test_a_repeat_answers_the_stored_finding_even_after_its_category_was_retired(client, world, login):
    """A new finding is inserted without looking first; a repeat still answers 200, never today's 422."""
    admin, alice = login(world.admin), login(world.alice.user)
    own = client.post("/api/v1/finding-categories", headers=admin,
                      json={"code": "parking_fees", "label_zh": "违规收取停车费", "label_en": "Parking fees"})
    body = _finding_body(world, category="parking_fees")
    assert client.post("/api/v1/findings", headers=alice, json=body).status_code == 201
    client.patch(f"/api/v1/finding-categories/{own.get_json()['id']}", headers=admin, json={"active": False})
    again = client.post("/api/v1/findings", headers=alice, json=body)
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]
    other = client.post("/api/v1/findings", headers=alice, json={**body, "description": "另一个内容"})
    assert other.status_code == 409 and other.get_json()["errors"][0]["field"] == "id"
    fresh = client.post("/api/v1/findings", headers=alice, json={**body, "id": str(uuid.uuid4())})
    assert fresh.status_code == 422 and fresh.get_json()["errors"][0]["field"] == "category"
