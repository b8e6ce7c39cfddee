"""Every error is RFC 9457 problem+json: never HTML, never a stack trace."""

import pytest

from field.core.models.platform import Role


def _problem(resp, status):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status and body["type"].startswith("/problems/")
    assert "Traceback" not in resp.get_data(as_text=True)
    return body


def test_an_unknown_path_is_a_404_problem(client):
    _problem(client.get("/api/v1/nothing-here"), 404)


def test_a_wrong_method_is_a_405_problem_with_allow(client):
    resp = client.delete("/api/v1/me")
    _problem(resp, 405)
    assert "GET" in resp.headers["Allow"]


def test_a_body_over_the_json_limit_is_a_413_problem(app, client, admin_headers):
    app.config["MAX_JSON_BYTES"] = 1000
    _problem(client.post("/api/v1/users", headers=admin_headers, json={"display_name": "x" * 2000}), 413)


def test_a_body_that_is_not_json_is_a_415_problem(client, admin_headers):
    _problem(client.post("/api/v1/users", headers=admin_headers, data="username=x",
                         content_type="application/x-www-form-urlencoded"), 415)


def test_malformed_json_is_a_400_problem(client, admin_headers):
    _problem(client.post("/api/v1/users", headers=admin_headers, data=b'{"username": ',
                         content_type="application/json"), 400)


@pytest.mark.parametrize("raw, field", [
    (b'{"display_name": NaN}', "_body"),
    (b'{"display_name": "x", "n": Infinity}', "_body"),
    (b'{"display_name": "a\\u0000b"}', "display_name"),
    (b'{"display_name": "\\udc00"}', "display_name"),
])
def test_values_that_cannot_be_stored_are_a_422_problem_naming_the_field(client, admin_headers, raw, field):
    body = _problem(client.post("/api/v1/users", headers=admin_headers, data=raw,
                                content_type="application/json"), 422)
    assert body["errors"][0]["field"] == field


def test_a_422_lists_every_bad_field(client, admin_headers):
    body = _problem(client.post("/api/v1/users", headers=admin_headers, json={"role": "nope"}), 422)
    assert {e["field"] for e in body["errors"]} >= {"username", "password", "role"}
    assert all(e["in"] == "json" for e in body["errors"])


def test_an_unexpected_error_is_a_500_problem_without_internals(app, client):
    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    body = _problem(client.get("/boom"), 500)
    assert "secret internals" not in body["detail"]


def test_a_403_is_a_problem(client, make_user, login):
    _problem(client.get("/api/v1/users", headers=login(make_user(Role.inspector))), 403)


def test_problem_types_are_described_at_their_uri(client):
    body = client.get("/problems/validation-failed").get_json()
    assert body["status"] == 422


def test_health_and_readiness(app, client):
    app.config["OFFICE_DATE"] = "2026-06-01"  # before 1 November: no calendar warning (docs/calendar.md)
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready", "warnings": []}


def test_readiness_is_a_503_problem_when_the_database_is_unreachable(tmp_path):
    from api import create_app

    app = create_app({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    resp = app.test_client().get("/readyz")
    app.extensions["ENGINE"].dispose()
    _problem(resp, 503)
    assert resp.headers["Retry-After"]


DEEP = b"[" * 1000 + b"]" * 1000  # 2 KB nested 1,000 arrays deep


def test_a_deeply_nested_body_to_the_login_without_a_token_is_a_400_problem(client):
    body = _problem(client.post("/api/v1/auth/login", data=DEEP, content_type="application/json"), 400)
    assert "nested" in body["detail"] and "32" in body["detail"]


def test_a_deeply_nested_body_to_a_record_endpoint_is_a_400_problem(client, make_user, login):
    headers = login(make_user(Role.squad_member))
    deep_field = b'{"id": "' + str(__import__("uuid").uuid4()).encode() + b'", "description": ' + DEEP + b"}"
    _problem(client.post("/api/v1/findings", headers=headers, data=deep_field, content_type="application/json"), 400)


def test_the_nesting_limit_is_configured_by_max_json_depth(app, client, admin_headers):
    app.config["MAX_JSON_DEPTH"] = 3
    nested = {"display_name": {"a": {"b": {"c": 1}}}}
    body = _problem(client.post("/api/v1/users", headers=admin_headers, json=nested), 400)
    assert "3" in body["detail"]
    app.config["MAX_JSON_DEPTH"] = 4
    assert client.post("/api/v1/users", headers=admin_headers, json=nested).status_code == 422
