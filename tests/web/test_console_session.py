"""Console sign-in: the same accounts, limits and revocation as the API's tokens, with a cookie session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from field.core.models.platform import DeviceToken, Role
from tests.conftest import PASSWORD
from tests.web_fixtures import console, sign_in_with  # noqa: F401
from web.session import COOKIE, DEVICE_NAME


def _session_cookie(resp) -> str:
    return next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith(f"{COOKIE}="))


def test_signing_in_sets_an_httponly_lax_cookie_for_the_console_only_and_opens_the_queue(app, make_user, session):
    reviewer = make_user(Role.reviewer)
    client = app.test_client()
    resp = sign_in_with(client, reviewer.username)
    assert resp.status_code == 303 and resp.headers["Location"] == "/console/"
    cookie = _session_cookie(resp)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain http here; see the TLS test
    queue = client.get("/console/")
    assert queue.status_code == 200 and reviewer.display_name in queue.get_data(as_text=True)
    rows = session.execute(select(DeviceToken).where(DeviceToken.user_id == reviewer.id)).scalars().all()
    assert [(r.device_name, r.revoked_at) for r in rows] == [(DEVICE_NAME, None)]
    assert rows[0].expires_at - rows[0].created_at == timedelta(hours=app.config["CONSOLE_SESSION_HOURS"])


def test_behind_tls_the_session_cookie_is_secure(db_url, session_factory, tmp_path, make_user):
    from api import create_app

    app = create_app({"DATABASE_URL": db_url, "EVIDENCE_DIR": str(tmp_path), "SECRET_KEY": "t", "TRUSTED_PROXIES": 1},
                     session_factory=session_factory)
    reviewer = make_user(Role.reviewer)
    client = app.test_client()
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    form = client.get("/console/sign-in", headers=proxied)
    assert "Secure" in form.headers["Set-Cookie"]  # the pre-session cookie too
    from tests.web_fixtures import csrf_of

    resp = client.post("/console/sign-in", headers=proxied, data={
        "username": reviewer.username, "password": PASSWORD, "csrf_token": csrf_of(form.get_data(as_text=True))})
    assert resp.status_code == 303 and "; Secure" in _session_cookie(resp)


def test_a_wrong_password_shows_the_error_on_the_form_and_opens_no_session(app, make_user, session):
    reviewer = make_user(Role.reviewer)
    client = app.test_client()
    resp = sign_in_with(client, reviewer.username, "not the password")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 401 and 'data-test="sign-in-error"' in page
    assert not any(c.startswith(f"{COOKIE}=") for c in resp.headers.getlist("Set-Cookie"))
    assert client.get("/console/").status_code == 303
    assert session.execute(select(DeviceToken).where(DeviceToken.user_id == reviewer.id)).first() is None


@pytest.mark.parametrize("role", [Role.inspector, Role.squad_member, Role.liaison, Role.leader])
def test_a_field_account_with_the_right_password_gets_a_clear_page_and_no_session(app, make_user, session, role):
    user = make_user(role)
    resp = sign_in_with(app.test_client(), user.username)
    assert resp.status_code == 403 and 'data-test="not-for-you"' in resp.get_data(as_text=True)
    assert not any(c.startswith(f"{COOKIE}=") for c in resp.headers.getlist("Set-Cookie"))
    assert session.execute(select(DeviceToken).where(DeviceToken.user_id == user.id)).first() is None


def test_failed_sign_ins_on_the_api_and_the_console_count_against_one_limit(app, client, make_user):
    reviewer = make_user(Role.reviewer)
    for _ in range(5):  # LOGIN_LIMIT_PER_ACCOUNT: 5 per minute
        assert client.post("/api/v1/auth/login", json={"username": reviewer.username, "password": "wrong one!",
                                                       "device_name": "x"}).status_code == 401
    resp = sign_in_with(app.test_client(), reviewer.username)  # even the right password
    assert resp.status_code == 429
    assert resp.mimetype == "text/html"


def test_the_console_counts_its_own_failures_per_account_like_the_api(app, make_user):
    reviewer = make_user(Role.reviewer)
    for _ in range(5):
        assert sign_in_with(app.test_client(), reviewer.username, "wrong one!").status_code == 401
    assert sign_in_with(app.test_client(), reviewer.username).status_code == 429


def test_the_session_is_a_device_of_the_account_as_the_api_lists_them(app, client, make_user, console, login):
    reviewer = make_user(Role.reviewer)
    console(reviewer)
    devices = client.get("/api/v1/me/devices", headers=login(reviewer)).get_json()
    assert sorted(d["device_name"] for d in devices) == sorted([DEVICE_NAME, "test phone"])


def _ended(signed_in) -> bool:
    """The console answers the browser with the sign-in page: its session is over."""
    resp = signed_in.get("/console/")
    return resp.status_code == 303 and resp.headers["Location"].startswith("/console/sign-in")


def test_signing_out_ends_the_session_on_the_next_request(console, make_user, session):
    reviewer = make_user(Role.reviewer)
    signed_in = console(reviewer)
    resp = signed_in.post_form("/console/sign-out", {})
    assert resp.status_code == 303 and f"{COOKIE}=;" in resp.headers["Set-Cookie"]
    row = session.execute(select(DeviceToken).where(DeviceToken.user_id == reviewer.id)).scalar_one()
    session.refresh(row)
    assert row.revoked_reason == "logout"
    # Even with the old cookie sent again (a copy kept by someone), the row is dead.
    signed_in.client.set_cookie(COOKIE, "x", path="/console")
    assert _ended(signed_in)


def test_a_copied_session_cookie_is_dead_after_sign_out(app, console, make_user):
    reviewer = make_user(Role.reviewer)
    signed_in = console(reviewer)
    token = signed_in.client.get_cookie(COOKIE, path="/console").value
    signed_in.post_form("/console/sign-out", {})
    thief = app.test_client()
    thief.set_cookie(COOKIE, token, path="/console")
    assert _ended(thief)


@pytest.mark.parametrize("change", [
    "revoke", {"disabled": True}, {"role": "inspector"}, {"jurisdiction_id": "other"},
    {"password": "a brand new password"},
], ids=["admin-revokes", "disabled", "role-changed", "jurisdiction-changed", "password-changed"])
def test_an_admin_action_on_the_account_ends_the_console_session_on_the_next_request(
        client, console, make_user, admin_headers, tree, change):
    reviewer = make_user(Role.reviewer)
    signed_in = console(reviewer)
    assert signed_in.get("/console/").status_code == 200
    if change == "revoke":
        assert client.delete(f"/api/v1/users/{reviewer.id}/devices", headers=admin_headers).status_code == 204
    else:
        if change.get("jurisdiction_id") == "other":
            change = {"jurisdiction_id": str(tree["home_street"].id)}
        resp = client.patch(f"/api/v1/users/{reviewer.id}", json=change, headers=admin_headers)
        assert resp.status_code == 200, resp.get_json()
    assert _ended(signed_in)


def test_a_session_unused_past_the_idle_limit_ends_and_says_so(app, console, make_user, session):
    reviewer = make_user(Role.reviewer)
    signed_in = console(reviewer)
    row = session.execute(select(DeviceToken).where(DeviceToken.user_id == reviewer.id)).scalar_one()
    row.last_used_at = row.created_at = row.created_at - timedelta(minutes=app.config["CONSOLE_IDLE_MINUTES"] + 1)
    session.commit()
    resp = signed_in.get("/console/")
    assert resp.status_code == 303 and "ended=idle" in resp.headers["Location"]
    session.refresh(row)
    assert row.revoked_reason == "idle"


def test_after_sign_in_the_browser_goes_back_to_the_page_it_asked_for_but_never_off_site(app, make_user):
    reviewer = make_user(Role.reviewer)
    client = app.test_client()
    asked = client.get("/console/?kind=finding")
    assert asked.status_code == 303
    form = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert 'name="next" value="/console/?kind=finding"' in form
    from tests.web_fixtures import csrf_of

    for target, expected in (("/console/?kind=finding", "/console/?kind=finding"),
                             ("//evil.example/", "/console/"), ("https://evil.example/", "/console/")):
        fresh = app.test_client()
        page = fresh.get("/console/sign-in").get_data(as_text=True)
        resp = fresh.post("/console/sign-in", data={"username": reviewer.username, "password": PASSWORD,
                                                    "next": target, "csrf_token": csrf_of(page)})
        assert resp.headers["Location"] == expected, target
