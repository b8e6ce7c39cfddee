"""Monitoring points over HTTP: designation, liaisons and leader, the visit obligation, who sees which."""

from datetime import date

import pytest

from field.core.models.platform import Role
from tests.directory_fixtures import fast_passwords, make_enterprise, make_point  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_passwords")


def _designate(client, headers, enterprise, **body):
    body = {"enterprise_id": str(enterprise.id), "active_from": "2025-01-01", **body}
    return client.post("/api/v1/monitoring-points", headers=headers, json=body)


def test_an_admin_designates_a_point_with_liaisons_a_leader_and_a_visit_obligation(
        client, admin_headers, make_enterprise, make_user):
    enterprise = make_enterprise("长安配件厂", at=(106.5, 29.5))
    liaisons = [make_user(Role.liaison), make_user(Role.liaison)]
    leader = make_user(Role.leader)
    resp = _designate(client, admin_headers, enterprise, covert=True, liaison_ids=[str(u.id) for u in liaisons],
                      leader_id=str(leader.id), visit_frequency="quarterly", active_to="2025-12-31")
    assert resp.status_code == 201, resp.get_json()
    point = resp.get_json()
    assert point["covert"] is True and point["visit_frequency"] == "quarterly"
    assert point["enterprise"]["name"] == "长安配件厂"
    assert point["location"]["coordinates"] == [106.5, 29.5]
    assert {u["id"] for u in point["liaisons"]} == {str(u.id) for u in liaisons}
    assert point["leader"]["id"] == str(leader.id)
    shown = client.get(f"/api/v1/enterprises/{enterprise.id}", headers=admin_headers).get_json()
    assert shown["monitoring_point"] == {"id": point["id"], "covert": True}


def test_liaisons_and_leaders_must_hold_those_roles_and_see_the_enterprise(
        client, admin_headers, make_enterprise, make_user, tree):
    enterprise = make_enterprise()
    inspector, liaison = make_user(Role.inspector), make_user(Role.liaison)
    elsewhere = make_user(Role.liaison, jurisdiction=tree["home_street"])
    cases = [
        ({"liaison_ids": [str(liaison.id), str(inspector.id)]}, "liaison_ids.1"),
        ({"leader_id": str(liaison.id), "visit_frequency": "weekly"}, "leader_id"),
        ({"liaison_ids": [str(elsewhere.id)]}, "liaison_ids.0"),  # a street liaison cannot see a district point
        ({"leader_id": str(make_user(Role.leader).id)}, "visit_frequency"),
        ({"active_to": "2024-12-31"}, "active_to"),
    ]
    for body, field in cases:
        resp = _designate(client, admin_headers, enterprise, **body)
        assert resp.status_code == 422, body
        assert resp.get_json()["errors"][0]["field"] == field, body


def test_an_enterprise_is_at_most_one_live_point(client, admin_headers, make_point):
    point = make_point()
    again = _designate(client, admin_headers, point.enterprise)
    assert again.status_code == 409 and again.get_json()["errors"][0]["field"] == "enterprise_id"
    assert client.delete(f"/api/v1/monitoring-points/{point.id}", headers=admin_headers).status_code == 204
    assert _designate(client, admin_headers, point.enterprise).status_code == 201


def test_a_liaison_sees_only_their_own_points_open_or_covert(client, make_user, login, make_point):
    liaison = make_user(Role.liaison)
    own_open, own_covert = make_point(liaisons=[liaison]), make_point(covert=True, liaisons=[liaison])
    make_point()  # open, someone else's
    headers = login(liaison)
    items = client.get("/api/v1/monitoring-points", headers=headers).get_json()["items"]
    assert {p["id"] for p in items} == {str(own_open.id), str(own_covert.id)}


def test_a_leader_sees_the_points_they_lead(client, make_user, login, make_point):
    leader = make_user(Role.leader)
    led = make_point(covert=True, leader=leader)
    make_point()
    items = client.get("/api/v1/monitoring-points", headers=login(leader)).get_json()["items"]
    assert [p["id"] for p in items] == [str(led.id)]


def test_inspectors_see_open_points_and_the_office_sees_all(client, make_user, login, make_point):
    open_point, covert_point = make_point(), make_point(covert=True)
    inspector = client.get("/api/v1/monitoring-points", headers=login(make_user(Role.inspector))).get_json()
    assert [p["id"] for p in inspector["items"]] == [str(open_point.id)]
    for role in (Role.admin, Role.reviewer):
        items = client.get("/api/v1/monitoring-points", headers=login(make_user(role))).get_json()["items"]
        assert {p["id"] for p in items} == {str(open_point.id), str(covert_point.id)}


def test_patching_liaisons_replaces_the_list(client, admin_headers, make_user, login, make_point):
    first, second = make_user(Role.liaison), make_user(Role.liaison)
    point = make_point(liaisons=[first])
    resp = client.patch(f"/api/v1/monitoring-points/{point.id}", headers=admin_headers,
                        json={"liaison_ids": [str(second.id)]})
    assert [u["id"] for u in resp.get_json()["liaisons"]] == [str(second.id)]
    assert client.get(f"/api/v1/monitoring-points/{point.id}", headers=login(first)).status_code == 404
    assert client.get(f"/api/v1/monitoring-points/{point.id}", headers=login(second)).status_code == 200


def test_filters_by_covert_liaison_and_activity_date(client, admin_headers, make_user, make_point):
    liaison = make_user(Role.liaison)
    old = make_point(active_from=date(2024, 1, 1), active_to=date(2024, 6, 30))
    mine = make_point(covert=True, liaisons=[liaison])

    def ids(**query):
        return [p["id"] for p in client.get("/api/v1/monitoring-points", headers=admin_headers,
                                            query_string=query).get_json()["items"]]

    assert ids(covert="true") == [str(mine.id)]
    assert ids(liaison_id=str(liaison.id)) == [str(mine.id)]
    assert ids(active_on="2024-03-01") == [str(old.id)]
    assert ids(active_on="2025-03-01") == [str(mine.id)]


def test_only_admins_designate_change_or_end_points(client, make_user, login, make_enterprise, make_point):
    point = make_point()
    headers = login(make_user(Role.reviewer))
    assert _designate(client, headers, make_enterprise()).status_code == 403
    assert client.patch(f"/api/v1/monitoring-points/{point.id}", headers=headers, json={}).status_code == 403
    assert client.delete(f"/api/v1/monitoring-points/{point.id}", headers=headers).status_code == 403
