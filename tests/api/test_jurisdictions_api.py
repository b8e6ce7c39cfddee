"""The jurisdiction tree through the API."""

import pytest

from field.core.models.platform import Role

SQUARE = {"type": "Polygon", "coordinates": [[[106.4, 29.4], [106.6, 29.4], [106.6, 29.6], [106.4, 29.6], [106.4, 29.4]]]}


def test_an_admin_adds_a_street_with_a_boundary_stored_as_multipolygon(client, admin_headers, tree):
    resp = client.post("/api/v1/jurisdictions", headers=admin_headers, json={
        "code": "500107002", "name": "谢家湾街道", "level": "street",
        "parent_id": str(tree["home"].id), "boundary": SQUARE})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["boundary"]["type"] == "MultiPolygon"
    assert body["boundary"]["coordinates"][0][0][0] == [106.4, 29.4]


@pytest.mark.parametrize("payload, field", [
    ({"code": "50010700", "level": "street"}, "code"),        # 8 digits
    ({"code": "500103002", "level": "street"}, "code"),       # other district's prefix
    ({"code": "500108", "level": "district"}, "level"),       # a district under a district
])
def test_codes_and_levels_must_fit_the_parent(client, admin_headers, tree, payload, field):
    resp = client.post("/api/v1/jurisdictions", headers=admin_headers, json={
        "name": "x", "parent_id": str(tree["home"].id), **payload})
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == field


@pytest.mark.parametrize("boundary", [
    {"type": "Polygon", "coordinates": [[[200, 29], [106, 29], [106, 30], [200, 29]]]},
    {"type": "Point", "coordinates": [106, 29]},
    {"type": "Polygon", "coordinates": "nope"},
])
def test_a_bad_boundary_is_refused_naming_the_field(client, admin_headers, tree, boundary):
    resp = client.post("/api/v1/jurisdictions", headers=admin_headers, json={
        "code": "500107003", "name": "x", "level": "street", "parent_id": str(tree["home"].id),
        "boundary": boundary})
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == "boundary"


def test_a_duplicate_code_is_a_409(client, admin_headers, tree):
    resp = client.post("/api/v1/jurisdictions", headers=admin_headers, json={
        "code": "500107001", "name": "x", "level": "street", "parent_id": str(tree["home"].id)})
    assert resp.status_code == 409


def test_a_reviewer_cannot_add_jurisdictions(client, make_user, login, tree):
    resp = client.post("/api/v1/jurisdictions", headers=login(make_user(Role.reviewer)), json={
        "code": "500107004", "name": "x", "level": "street", "parent_id": str(tree["home"].id)})
    assert resp.status_code == 403
