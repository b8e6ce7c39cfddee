"""Logging in from a phone, and tokens that die at once when revoked."""

import pytest

from field.core.models.platform import Role
from tests.conftest import PASSWORD


def _problem(resp, status):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    return body


def test_login_returns_a_bearer_token_bound_to_the_named_device(client, make_user):
    user = make_user()
    resp = client.post("/api/v1/auth/login",
                       json={"username": user.username, "password": PASSWORD, "device_name": "Mate 60"})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["token"].startswith("fw_") and body["token_type"] == "Bearer"
    assert body["device"]["device_name"] == "Mate 60"
    assert body["user"]["role"] == "inspector"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.get_json()["username"] == user.username


def test_me_without_a_token_is_a_401_problem(client):
    _problem(client.get("/api/v1/me"), 401)


def test_a_made_up_token_is_a_401_problem(client):
    _problem(client.get("/api/v1/me", headers={"Authorization": "Bearer fw_madeup"}), 401)


def test_a_wrong_password_is_a_401_problem(client, make_user):
    user = make_user()
    body = _problem(client.post("/api/v1/auth/login", json={
        "username": user.username, "password": "wrong wrong", "device_name": "x"}), 401)
    assert "password" in body["detail"]


def test_logout_kills_the_token_on_the_very_next_request(client, make_user, login):
    headers = login(make_user())
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    _problem(client.get("/api/v1/me", headers=headers), 401)


def test_logout_of_one_device_leaves_the_others_working(client, make_user, login):
    user = make_user()
    phone, tablet = login(user, device="phone"), login(user, device="tablet")
    client.post("/api/v1/auth/logout", headers=phone)
    assert client.get("/api/v1/me", headers=tablet).status_code == 200


def test_a_user_lists_their_devices_and_revokes_a_lost_one(client, make_user, login):
    user = make_user()
    phone, tablet = login(user, device="phone"), login(user, device="tablet")
    devices = client.get("/api/v1/me/devices", headers=phone).get_json()
    assert sorted(d["device_name"] for d in devices) == ["phone", "tablet"]
    assert [d["device_name"] for d in devices if d["current"]] == ["phone"]
    tablet_id = next(d["id"] for d in devices if d["device_name"] == "tablet")
    assert client.delete(f"/api/v1/me/devices/{tablet_id}", headers=phone).status_code == 204
    _problem(client.get("/api/v1/me", headers=tablet), 401)
    assert client.get("/api/v1/me", headers=phone).status_code == 200


def test_a_user_cannot_revoke_someone_elses_device(client, make_user, login):
    mine, theirs = login(make_user()), login(make_user())
    their_device = client.get("/api/v1/me/devices", headers=theirs).get_json()[0]["id"]
    _problem(client.delete(f"/api/v1/me/devices/{their_device}", headers=mine), 404)
    assert client.get("/api/v1/me", headers=theirs).status_code == 200


def test_an_admin_revoking_a_users_devices_kills_their_token_at_once(client, make_user, login, admin_headers):
    user = make_user()
    headers = login(user)
    assert client.delete(f"/api/v1/users/{user.id}/devices", headers=admin_headers).status_code == 204
    _problem(client.get("/api/v1/me", headers=headers), 401)


@pytest.mark.parametrize("change", [{"disabled": True}, {"role": "reviewer"}])
def test_disabling_or_changing_the_role_kills_the_token_at_once(client, make_user, login, admin_headers, change):
    user = make_user()
    headers = login(user)
    resp = client.patch(f"/api/v1/users/{user.id}", json=change, headers=admin_headers)
    assert resp.status_code == 200, resp.get_json()
    _problem(client.get("/api/v1/me", headers=headers), 401)


def test_moving_a_user_to_another_jurisdiction_kills_the_token(client, make_user, login, tree):
    admin = make_user(Role.admin, jurisdiction=tree["city"])
    user = make_user()
    headers, admin_headers = login(user), login(admin)
    resp = client.patch(f"/api/v1/users/{user.id}", json={"jurisdiction_id": str(tree["other"].id)},
                        headers=admin_headers)
    assert resp.status_code == 200
    _problem(client.get("/api/v1/me", headers=headers), 401)


def test_a_disabled_account_cannot_log_in(client, make_user, admin_headers):
    user = make_user()
    client.patch(f"/api/v1/users/{user.id}", json={"disabled": True}, headers=admin_headers)
    body = _problem(client.post("/api/v1/auth/login", json={
        "username": user.username, "password": PASSWORD, "device_name": "x"}), 401)
    assert "disabled" in body["detail"]


def test_failed_logins_are_limited_per_account_with_the_wait_in_the_problem(app, client, make_user):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "3 per minute"
    user = make_user()
    for _ in range(3):
        _problem(client.post("/api/v1/auth/login", json={
            "username": user.username, "password": "wrong wrong", "device_name": "x"}), 401)
    body = _problem(client.post("/api/v1/auth/login", json={
        "username": user.username, "password": PASSWORD, "device_name": "x"}), 429)
    assert body["limit"] == "3 per 1 minute"
    assert 1 <= body["retry_after"] <= 61  # the window ends at the next whole second
    # Another account from the same address is not blocked by this account's limit.
    other = make_user()
    assert client.post("/api/v1/auth/login", json={
        "username": other.username, "password": PASSWORD, "device_name": "x"}).status_code == 201


def test_failed_logins_are_limited_per_address(app, client, make_user):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "4 per minute"
    for i in range(4):
        client.post("/api/v1/auth/login", json={"username": f"ghost{i}", "password": "x", "device_name": "x"})
    _problem(client.post("/api/v1/auth/login", json={
        "username": "ghost9", "password": "x", "device_name": "x"}), 429)


def test_successful_logins_do_not_count_against_the_limit(app, client, make_user):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "2 per minute"
    user = make_user()
    for _ in range(4):
        assert client.post("/api/v1/auth/login", json={
            "username": user.username, "password": PASSWORD, "device_name": "x"}).status_code == 201
