"""Idempotency-Key on POSTs: the first answer replayed, a reused key refused."""

from api import idempotency_store as idempotency
from tests.conftest import PASSWORD


def _new_user(tree, name="idem.user"):
    return {"username": name, "password": PASSWORD, "display_name": "x", "role": "inspector",
            "jurisdiction_id": str(tree["home"].id)}


def test_a_repeated_post_with_the_same_key_replays_the_first_answer(client, admin_headers, tree):
    headers = {**admin_headers, "Idempotency-Key": "k-1"}
    first = client.post("/api/v1/users", headers=headers, json=_new_user(tree))
    second = client.post("/api/v1/users", headers=headers, json=_new_user(tree))
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    users = client.get("/api/v1/users", headers=admin_headers).get_json()["items"]
    assert [u["username"] for u in users].count("idem.user") == 1


def test_the_same_key_with_another_body_is_a_422(client, admin_headers, tree):
    headers = {**admin_headers, "Idempotency-Key": "k-2"}
    client.post("/api/v1/users", headers=headers, json=_new_user(tree))
    resp = client.post("/api/v1/users", headers=headers, json=_new_user(tree, "someone.else"))
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert resp.get_json()["errors"][0]["field"] == "Idempotency-Key"


def test_a_key_still_in_flight_is_a_409(client, admin, admin_headers, tree, session_factory):
    with session_factory() as s:
        assert idempotency.claim(s, admin, "k-3", "another request's fingerprint") is None
        s.commit()  # the store never commits: its caller (here, a request elsewhere) does
    resp = client.post("/api/v1/users", headers={**admin_headers, "Idempotency-Key": "k-3"}, json=_new_user(tree))
    # the fingerprint differs, so this is a reuse: 422; with the same request it would be 409
    assert resp.status_code == 422


def test_an_identical_request_while_the_first_runs_is_a_409(client, admin, admin_headers, tree, session_factory):
    from api.idempotency import _fingerprint

    body = _new_user(tree, "racing.user")
    with client.application.test_request_context("/api/v1/users", method="POST", json=body):
        fp = _fingerprint()
    with session_factory() as s:
        idempotency.claim(s, admin, "k-4", fp)
        s.commit()
    resp = client.post("/api/v1/users", headers={**admin_headers, "Idempotency-Key": "k-4"}, json=body)
    assert resp.status_code == 409 and "still being processed" in resp.get_json()["detail"]


def test_keys_belong_to_their_user(client, admin_headers, make_user, login, tree):
    from field.core.models.platform import Role

    other_admin = login(make_user(Role.admin))
    a = client.post("/api/v1/users", headers={**admin_headers, "Idempotency-Key": "shared"},
                    json=_new_user(tree, "from.a"))
    b = client.post("/api/v1/users", headers={**other_admin, "Idempotency-Key": "shared"},
                    json=_new_user(tree, "from.b"))
    assert a.status_code == b.status_code == 201 and "Idempotent-Replayed" not in b.headers


def test_a_failed_request_releases_its_key_so_a_retry_runs(app, client, admin, login):
    calls = []

    @app.route("/flaky", methods=["POST"])
    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("transient")
        return {"ok": True}, 201

    headers = {**login(admin), "Idempotency-Key": "k-5"}
    assert client.post("/flaky", headers=headers, json={}).status_code == 500
    assert client.post("/flaky", headers=headers, json={}).status_code == 201
    assert len(calls) == 2


def test_a_refused_request_stores_its_answer_for_the_repeat(client, admin_headers, tree):
    # The key is taken in the request's transaction, which a refusal rolls back: the answer is
    # stored on its own then.
    headers = {**admin_headers, "Idempotency-Key": "k-refused"}
    body = {**_new_user(tree, "refused.user"), "role": "no such role"}
    first = client.post("/api/v1/users", headers=headers, json=body)
    second = client.post("/api/v1/users", headers=headers, json=body)
    assert first.status_code == second.status_code == 422
    assert second.headers["Idempotent-Replayed"] == "true" and second.get_json() == first.get_json()


def test_a_request_that_fails_after_its_commit_releases_its_key(app, client, admin, login):
    from api.db import commit

    calls = []

    @app.route("/commits-then-fails", methods=["POST"])
    def commits_then_fails():
        calls.append(1)
        commit()  # the key is committed with the (empty) work
        if len(calls) == 1:
            raise RuntimeError("transient, after the commit")
        return {"ok": True}, 201

    headers = {**login(admin), "Idempotency-Key": "k-after-commit"}
    assert client.post("/commits-then-fails", headers=headers, json={}).status_code == 500
    assert client.post("/commits-then-fails", headers=headers, json={}).status_code == 201
    assert len(calls) == 2


def test_what_a_refused_view_wrote_is_not_committed_with_its_answer(app, client, admin, login, session_factory):
    # Issue 13: the wrapper commits a view that returns (api/db.py), so "left uncommitted" is
    # now "refused": what the view wrote goes with the rollback, its answer is stored alone.
    from api.db import db
    from field.core.errors import InvalidInput
    from field.core.models.platform import User

    @app.route("/writes-then-refuses", methods=["POST"])
    def writes_then_refuses():
        db().get(User, admin.id).display_name = "never committed"
        db().flush()
        raise InvalidInput("display_name", "refused after writing")

    headers = {**login(admin), "Idempotency-Key": "k-uncommitted"}
    assert client.post("/writes-then-refuses", headers=headers, json={}).status_code == 422
    replay = client.post("/writes-then-refuses", headers=headers, json={})
    assert replay.status_code == 422 and replay.headers["Idempotent-Replayed"] == "true"
    with session_factory() as s:
        assert s.get(User, admin.id).display_name != "never committed"


def test_what_a_view_writes_is_committed_with_its_answer(app, client, admin, login, session_factory):
    from api.db import db
    from field.core.models.platform import User

    @app.route("/writes-without-commit", methods=["POST"])
    def writes_without_commit():
        db().get(User, admin.id).display_name = "committed by the wrapper"
        return {"ok": True}, 201

    headers = {**login(admin), "Idempotency-Key": "k-written"}
    assert client.post("/writes-without-commit", headers=headers, json={}).status_code == 201
    replay = client.post("/writes-without-commit", headers=headers, json={})
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    with session_factory() as s:
        assert s.get(User, admin.id, populate_existing=True).display_name == "committed by the wrapper"


def test_a_write_with_a_key_commits_the_token_touch_with_its_work(client, admin, login, tree, session_factory):
    from datetime import timedelta

    from sqlalchemy import select

    from field.core.models.platform import DeviceToken
    from field.core.models.base import utcnow

    headers = login(admin, device="touched phone")
    long_ago = utcnow() - timedelta(days=1)
    with session_factory() as s:
        device = s.execute(select(DeviceToken).where(DeviceToken.user_id == admin.id,
                                                     DeviceToken.device_name == "touched phone")).scalar_one()
        device.last_used_at = long_ago
        s.commit()
        device_id = device.id
    resp = client.post("/api/v1/users", headers={**headers, "Idempotency-Key": "k-touch"},
                       json=_new_user(tree, "touch.user"))
    assert resp.status_code == 201
    with session_factory() as s:
        assert s.get(DeviceToken, device_id, populate_existing=True).last_used_at > long_ago
