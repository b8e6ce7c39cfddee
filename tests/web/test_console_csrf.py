"""CSRF: every state-changing form of the pages needs the token bound to the session (or pre-session)."""

from __future__ import annotations

from field.core.models.records import ReviewState
from field.core.models.platform import Role
from tests.conftest import PASSWORD
from tests.web_fixtures import console, csrf_of, photo_finding, world  # noqa: F401


def test_a_review_post_without_the_token_is_refused_and_changes_nothing(console, world, photo_finding, session):
    finding, _sha = photo_finding
    signed_in = console(world.reviewer)
    resp = signed_in.client.post(f"/console/records/{finding.id}/review",
                                 data={"state": "needs_info", "comment": "请补充"})
    assert resp.status_code == 400 and "text/html" in resp.content_type
    session.refresh(finding)
    assert finding.review_state is ReviewState.submitted


def test_another_sessions_token_does_not_pass(console, world, photo_finding, make_user, session):
    finding, _sha = photo_finding
    mine, theirs = console(world.reviewer), console(make_user(Role.reviewer))
    their_token = csrf_of(theirs.get(f"/console/records/{finding.id}").get_data(as_text=True))
    resp = mine.client.post(f"/console/records/{finding.id}/review",
                            data={"state": "accepted", "csrf_token": their_token})
    assert resp.status_code == 400
    session.refresh(finding)
    assert finding.review_state is ReviewState.submitted


def test_the_right_token_from_another_site_is_refused_by_origin(console, world, photo_finding, session):
    finding, _sha = photo_finding
    signed_in = console(world.reviewer)
    token = csrf_of(signed_in.get(f"/console/records/{finding.id}").get_data(as_text=True))
    resp = signed_in.client.post(f"/console/records/{finding.id}/review", headers={"Origin": "https://evil.example"},
                                 data={"state": "accepted", "csrf_token": token})
    assert resp.status_code == 400
    same = signed_in.client.post(f"/console/records/{finding.id}/review", headers={"Origin": "http://localhost"},
                                 data={"state": "accepted", "csrf_token": token})
    assert same.status_code == 303
    session.refresh(finding)
    assert finding.review_state is ReviewState.accepted


def test_sign_out_without_the_token_leaves_the_session_alive(console, make_user):
    signed_in = console(make_user(Role.reviewer))
    assert signed_in.client.post("/console/sign-out").status_code == 400
    assert signed_in.get("/console/").status_code == 200


def test_signing_in_needs_the_pre_session_token_against_login_csrf(app, make_user):
    reviewer = make_user(Role.reviewer)
    client = app.test_client()
    resp = client.post("/console/sign-in", data={"username": reviewer.username, "password": PASSWORD})
    assert resp.status_code == 400 and "fw_console=" not in resp.headers.get("Set-Cookie", "")
    # A token made for another browser's pre-session cookie does not pass either.
    other = app.test_client()
    foreign = csrf_of(other.get("/console/sign-in").get_data(as_text=True))
    client.get("/console/sign-in")
    resp = client.post("/console/sign-in", data={"username": reviewer.username, "password": PASSWORD,
                                                 "csrf_token": foreign})
    assert resp.status_code == 400


def test_the_language_switch_needs_its_token_too(app):
    client = app.test_client()
    assert client.post("/lang", data={"lang": "en", "next": "/"}).status_code == 400
    token = csrf_of(client.get("/").get_data(as_text=True))
    resp = client.post("/lang", data={"lang": "en", "next": "/console/", "csrf_token": token})
    assert resp.status_code == 303 and resp.headers["Location"] == "/console/"
    assert "fw_lang=en" in resp.headers["Set-Cookie"]
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page and "Tell the supervision office" in page
