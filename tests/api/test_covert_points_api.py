"""Covert points stay covert: to anyone but the office and the point's own people they do not exist, anywhere."""

import json
import uuid

import pytest

from field.directory import monitoring
from field.core.models.platform import Role
from tests.directory_fixtures import fast_passwords, make_enterprise, make_point  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_passwords")

#: Query strings tried on every GET endpoint: lists, filters, search, GeoJSON, spatial searches.
PROBES = [
    {}, {"monitoring_point": "true"}, {"covert": "true"}, {"q": "秘密"}, {"format": "geojson"},
    {"near": "106.5,29.5", "nearest": "10"}, {"bbox": "106.4,29.4,106.6,29.6"}, {"enterprise_id": "ENTERPRISE"},
]


@pytest.fixture
def world(make_user, make_enterprise, make_point):
    """A covert point with its liaison and leader; an open point with its own; people in every role."""
    people = {name: make_user(role) for name, role in [
        ("admin", Role.admin), ("reviewer", Role.reviewer), ("inspector", Role.inspector),
        ("squad_member", Role.squad_member), ("own_liaison", Role.liaison), ("own_leader", Role.leader),
        ("other_liaison", Role.liaison), ("other_leader", Role.leader)]}
    secret = make_enterprise("秘密监测企业", at=(106.5, 29.5))
    public = make_enterprise("公开监测企业", at=(106.501, 29.5))
    covert = make_point(secret, covert=True, liaisons=[people["own_liaison"]], leader=people["own_leader"])
    make_point(public, liaisons=[people["other_liaison"]], leader=people["other_leader"])
    return {"people": people, "secret": secret, "covert": covert}


def _sweep(app, client, headers, world):
    """Every GET endpoint of the API; the lists among them with every probe. Yields (url, body text),
    the request's own path cut out of the body (a 404 problem echoes it as ``instance``)."""
    ids = {"enterprise_id": world["secret"].id, "point_id": world["covert"].id}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not rule.rule.startswith("/api/"):
            continue
        url = rule.rule
        for name, value in ids.items():
            url = url.replace(f"<uuid:{name}>", str(value))
        if "<" in url:
            continue
        for probe in PROBES:
            query = {k: str(world["secret"].id) if v == "ENTERPRISE" else v for k, v in probe.items()}
            resp = client.get(url, headers=headers, query_string=query)
            yield f"{url}?{query}", resp.get_data(as_text=True).replace(url, "")
            if not probe and not _is_list(resp):
                break  # one look is enough at what is not a list


def _is_list(resp) -> bool:
    if resp.status_code != 200:
        return False
    if resp.mimetype == "text/csv":
        return True
    body = resp.get_json(silent=True)
    return isinstance(body, dict) and ("items" in body or "changes" in body)


def test_no_get_endpoint_reveals_a_covert_point_to_an_inspector_or_a_liaison_of_another_point(
        app, client, login, world):
    covert_id = str(world["covert"].id)
    for viewer in ("inspector", "other_liaison"):
        swept = 0
        for where, body in _sweep(app, client, login(world["people"][viewer]), world):
            assert covert_id not in body, (viewer, where)
            assert '"covert": true' not in body and '"covert":true' not in body, (viewer, where)
            assert ",covert" not in body, (viewer, where)  # the CSV export's monitoring_point column
            swept += 1
        assert swept > 40


def test_the_same_sweep_finds_the_point_for_its_own_liaison(app, client, login, world):
    found = [where for where, body in _sweep(app, client, login(world["people"]["own_liaison"]), world)
             if str(world["covert"].id) in body]
    assert any(w.startswith("/api/v1/monitoring-points?") for w in found)
    assert any(w.startswith(f"/api/v1/enterprises/{world['secret'].id}?") for w in found)
    assert any(w.startswith("/api/v1/sync?") for w in found)


def test_leaders_of_other_points_and_monitors_do_not_see_it_but_the_office_and_its_leader_do(client, login, world):
    covert_id = str(world["covert"].id)
    urls = ["/api/v1/monitoring-points", f"/api/v1/enterprises/{world['secret'].id}", "/api/v1/sync",
            "/api/v1/monitoring-points?format=geojson", "/api/v1/enterprises?monitoring_point=true"]
    for viewer, sees in [("other_leader", False), ("squad_member", False), ("own_leader", True),
                         ("admin", True), ("reviewer", True)]:
        headers = login(world["people"][viewer])
        bodies = [client.get(url, headers=headers).get_data(as_text=True) for url in urls]
        assert all((covert_id in body) is sees for body in bodies), viewer


def test_a_covert_points_id_answers_404_and_its_enterprise_looks_ordinary(client, login, world):
    for viewer in ("inspector", "other_liaison"):
        _check_absent_by_id(client, login, world, viewer)


def _check_absent_by_id(client, login, world, viewer):
    headers = login(world["people"][viewer])
    url = f"/api/v1/monitoring-points/{world['covert'].id}"
    assert client.get(url, headers=headers).status_code == 404
    assert client.patch(url, headers=headers, json={}).status_code in (403, 404)
    assert client.delete(url, headers=headers).status_code in (403, 404)
    enterprise = client.get(f"/api/v1/enterprises/{world['secret'].id}", headers=headers).get_json()
    assert enterprise["name"] == "秘密监测企业" and enterprise["monitoring_point"] is None
    ordinary = client.get("/api/v1/enterprises", headers=headers, query_string={"monitoring_point": "false"})
    assert str(world["secret"].id) in {e["id"] for e in ordinary.get_json()["items"]}


def test_counts_include_a_covert_point_only_for_those_who_may_know(client, login, world):
    def points(viewer):
        counts = client.get("/api/v1/directory/counts", headers=login(world["people"][viewer])).get_json()
        return counts["monitoring_points"]

    assert points("inspector") == {"open": 1, "covert": 0}
    assert points("other_liaison") == {"open": 1, "covert": 0}
    assert points("own_liaison") == {"open": 0, "covert": 1}
    assert points("reviewer") == {"open": 1, "covert": 1}


def test_the_export_marks_a_covert_point_only_for_the_office(client, login, world):
    for viewer, mark in [("inspector", ""), ("admin", "covert")]:
        text = client.get("/api/v1/enterprises/export", headers=login(world["people"][viewer])).get_data(as_text=True)
        row = next(line for line in text.splitlines() if "秘密监测企业" in line)
        assert row.rsplit(",", 1)[-1] == mark, viewer


def test_a_covert_designation_and_its_later_changes_leave_no_trace_in_an_outsiders_sync(
        client, login, world, session, make_user, make_enterprise):
    admin = world["people"]["admin"]
    outsiders = {name: login(world["people"][name]) for name in ("inspector", "other_liaison")}
    target = make_enterprise("后来的秘密企业")
    cursors = {name: client.get("/api/v1/sync", headers=h).get_json()["cursor"] for name, h in outsiders.items()}
    point = monitoring.create_point(session, admin, enterprise_id=target.id, covert=True, active_from=world[
        "covert"].active_from, liaison_ids=[world["people"]["own_liaison"].id])
    session.commit()
    monitoring.update_point(session, admin, point, {"liaison_ids": [], "visit_frequency": "weekly"})
    monitoring.delete_point(session, admin, point)
    session.commit()
    for name, headers in outsiders.items():
        answer = client.get("/api/v1/sync", headers=headers, query_string={"cursor": cursors[name]}).get_json()
        assert answer["changes"] == [], (name, json.dumps(answer, ensure_ascii=False))
        assert answer["cursor"] == cursors[name]


def test_an_open_point_turned_covert_is_withdrawn_from_outsiders(client, login, world, session):
    admin, inspector = world["people"]["admin"], login(world["people"]["inspector"])
    open_point = client.get("/api/v1/monitoring-points", headers=inspector).get_json()["items"][0]
    cursor = client.get("/api/v1/sync", headers=inspector).get_json()["cursor"]
    point = monitoring.get_point(session, admin, uuid.UUID(open_point["id"]))
    monitoring.update_point(session, admin, point, {"covert": True})
    session.commit()
    changes = client.get("/api/v1/sync", headers=inspector, query_string={"cursor": cursor}).get_json()["changes"]
    by_id = {c["id"]: c for c in changes}
    assert by_id[open_point["id"]]["op"] == "delete"
    assert by_id[str(point.enterprise_id)]["data"]["monitoring_point"] is None
    assert client.get(f"/api/v1/monitoring-points/{open_point['id']}", headers=inspector).status_code == 404
