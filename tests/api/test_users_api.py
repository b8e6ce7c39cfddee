"""Admins manage accounts in their jurisdiction; nobody else does."""

from field.core.models.platform import Role
from tests.conftest import PASSWORD


def test_an_admin_creates_an_account_that_can_log_in(client, admin_headers, tree):
    resp = client.post("/api/v1/users", headers=admin_headers, json={
        "username": "zhang.san", "password": PASSWORD, "display_name": "张三",
        "role": "inspector", "jurisdiction_id": str(tree["home_street"].id)})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["jurisdiction"]["code"] == "500107001"
    login = client.post("/api/v1/auth/login", json={"username": "zhang.san", "password": PASSWORD,
                                                    "device_name": "x"})
    assert login.status_code == 201


def test_a_taken_username_is_a_409_naming_the_field(client, admin_headers, make_user, tree):
    user = make_user()
    resp = client.post("/api/v1/users", headers=admin_headers, json={
        "username": user.username, "password": PASSWORD, "display_name": "x",
        "role": "inspector", "jurisdiction_id": str(tree["home"].id)})
    assert resp.status_code == 409
    assert resp.get_json()["errors"][0]["field"] == "username"


def test_an_account_in_another_district_cannot_be_created(client, admin_headers, tree):
    resp = client.post("/api/v1/users", headers=admin_headers, json={
        "username": "elsewhere", "password": PASSWORD, "display_name": "x",
        "role": "inspector", "jurisdiction_id": str(tree["other"].id)})
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == "jurisdiction_id"


def test_invalid_input_names_each_field_and_stores_nothing(client, admin_headers, session):
    resp = client.post("/api/v1/users", headers=admin_headers, json={
        "username": "x", "password": "short", "role": "king", "jurisdiction_id": "nope"})
    assert resp.status_code == 422
    fields = {e["field"] for e in resp.get_json()["errors"]}
    assert {"username", "password", "role", "jurisdiction_id", "display_name"} <= fields
    listing = client.get("/api/v1/users", headers=admin_headers).get_json()["items"]
    assert all(u["username"] != "x" for u in listing)


def test_unknown_fields_are_refused_rather_than_dropped(client, admin_headers, tree):
    resp = client.post("/api/v1/users", headers=admin_headers, json={
        "username": "typo.user", "password": PASSWORD, "display_name": "x", "role": "inspector",
        "jurisdiction_id": str(tree["home"].id), "rol": "admin"})
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == "rol"


def test_non_admins_get_403_on_account_management(client, make_user, login):
    headers = login(make_user(Role.reviewer))
    resp = client.get("/api/v1/users", headers=headers)
    assert resp.status_code == 403 and resp.mimetype == "application/problem+json"


def test_the_user_list_pages_with_a_cursor_and_holds_only_the_admins_scope(client, make_user, login, tree):
    admin = make_user(Role.admin)
    for _ in range(5):
        make_user()
    make_user(jurisdiction=tree["other"])
    headers = login(admin)
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/users", headers=headers,
                          query_string={"limit": 2, **({"cursor": cursor} if cursor else {})}).get_json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 6 == len({u["id"] for u in seen})
    assert {u["jurisdiction"]["code"] for u in seen} == {"500107"}


def test_a_forged_cursor_is_a_422_naming_the_cursor(client, admin_headers):
    resp = client.get("/api/v1/users", headers=admin_headers, query_string={"cursor": "garbage!"})
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == "cursor"


def test_keyset_pages_are_stable_when_rows_are_inserted_between_pages(client, make_user, login):
    admin = make_user(Role.admin)
    for _ in range(4):
        make_user()
    headers = login(admin)
    first = client.get("/api/v1/users", headers=headers, query_string={"limit": 3}).get_json()
    make_user()  # arrives between the two page requests
    second = client.get("/api/v1/users", headers=headers,
                        query_string={"limit": 10, "cursor": first["next_cursor"]}).get_json()
    ids = [u["id"] for u in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 6
