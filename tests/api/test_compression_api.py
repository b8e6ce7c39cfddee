"""JSON answers over 1 KiB are gzip-encoded for clients that accept gzip; everything else goes as it is."""

import gzip
import json

import pytest

from field.core.models.platform import Role
from tests.directory_fixtures import credit_code, fast_passwords, make_enterprise  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture
def phone(make_user, login):
    return login(make_user(Role.inspector))


@pytest.fixture
def directory(make_enterprise):
    return [make_enterprise(f"重庆九龙精密机械有限公司{i}", at=(106.5 + i / 1000, 29.5), address="九龙坡区杨家坪正街 1 号")
            for i in range(8)]


def test_a_sync_page_is_gzipped_for_a_phone_that_accepts_gzip_and_decodes_to_the_plain_answer(
        client, phone, directory):
    plain = client.get("/api/v1/sync", headers=phone)
    packed = client.get("/api/v1/sync", headers={**phone, "Accept-Encoding": "gzip, deflate"})
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers and len(plain.data) > 1024
    assert packed.headers["Content-Encoding"] == "gzip"
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data) / 2
    assert json.loads(gzip.decompress(packed.data)) == plain.get_json()
    assert "Accept-Encoding" in packed.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]


def test_gzip_refused_with_q_0_gets_the_plain_answer(client, phone, directory):
    resp = client.get("/api/v1/sync", headers={**phone, "Accept-Encoding": "gzip;q=0, identity"})
    assert resp.status_code == 200 and "Content-Encoding" not in resp.headers
    assert len(resp.get_json()["changes"]) == len(directory)


def test_an_answer_under_1_kib_is_sent_as_it_is(client, phone, directory):
    resp = client.get(f"/api/v1/enterprises/{directory[0].id}", headers={**phone, "Accept-Encoding": "gzip"})
    assert resp.status_code == 200 and len(resp.data) < 1024
    assert "Content-Encoding" not in resp.headers
    assert resp.get_json()["name"] == directory[0].name


def test_a_large_problem_document_is_gzipped_too(client, admin_headers):
    body = {f"unknown_{i}": "x" for i in range(60)}
    resp = client.post("/api/v1/enterprises", json=body, headers={**admin_headers, "Accept-Encoding": "gzip"})
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert resp.headers["Content-Encoding"] == "gzip"
    fields = {e["field"] for e in json.loads(gzip.decompress(resp.data))["errors"]}
    assert {"unknown_0", "unknown_59", "name", "credit_code"} <= fields


def test_an_idempotent_replay_is_stored_plain_and_encoded_per_request(client, admin_headers):
    body = {"name": "重庆" + "九龙坡区精密机械制造" * 19 + "有限公司", "credit_code": credit_code(),
            "address": "重庆市九龙坡区杨家坪正街" + "一" * 280}
    headers = {**admin_headers, "Idempotency-Key": "gzip-1"}
    first = client.post("/api/v1/enterprises", json=body, headers={**headers, "Accept-Encoding": "gzip"})
    assert first.status_code == 201 and first.headers["Content-Encoding"] == "gzip"
    created = json.loads(gzip.decompress(first.data))
    plain = client.post("/api/v1/enterprises", json=body, headers=headers)
    assert plain.headers["Idempotent-Replayed"] == "true" and "Content-Encoding" not in plain.headers
    assert plain.get_json() == created
    packed = client.post("/api/v1/enterprises", json=body, headers={**headers, "Accept-Encoding": "gzip"})
    assert packed.headers["Idempotent-Replayed"] == "true" and packed.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(packed.data)) == created


# -- gzipped request bodies ------------------------------------------------------------------------


def _gzipped(body: dict) -> bytes:
    return gzip.compress(json.dumps(body, ensure_ascii=False).encode())


def _enterprise_body(name: str) -> dict:
    return {"name": name, "credit_code": credit_code(), "address": "九龙坡区杨家坪正街 1 号"}


def test_a_gzipped_json_body_is_read_as_the_plain_one(client, admin_headers):
    body = _enterprise_body("重庆九龙压缩机械有限公司")
    resp = client.post("/api/v1/enterprises", data=_gzipped(body), content_type="application/json",
                       headers={**admin_headers, "Content-Encoding": "gzip"})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["name"] == body["name"] and resp.get_json()["credit_code"] == body["credit_code"]


def test_a_gzipped_body_that_is_not_gzip_or_another_encoding_is_refused_and_nothing_is_stored(
        client, admin_headers):
    body = _enterprise_body("重庆九龙坏包机械有限公司")
    cut = client.post("/api/v1/enterprises", data=_gzipped(body)[:-9], content_type="application/json",
                      headers={**admin_headers, "Content-Encoding": "gzip"})
    assert cut.status_code == 400 and cut.mimetype == "application/problem+json"
    assert "gzip" in cut.get_json()["detail"]
    plain = client.post("/api/v1/enterprises", json=body, headers={**admin_headers, "Content-Encoding": "gzip"})
    assert plain.status_code == 400
    brotli = client.post("/api/v1/enterprises", json=body, headers={**admin_headers, "Content-Encoding": "br"})
    assert brotli.status_code == 415 and "br" in brotli.get_json()["detail"]
    listed = client.get("/api/v1/enterprises", headers=admin_headers, query_string={"q": "坏包"}).get_json()
    assert listed["items"] == []


def test_a_small_gzip_that_inflates_past_the_limits_is_refused_without_inflating_it_all(client, admin_headers, app):
    bomb = gzip.compress(b'{"name": "' + b" " * 40_000_000 + b'"}')
    assert len(bomb) < 100_000
    resp = client.post("/api/v1/enterprises", data=bomb, content_type="application/json",
                       headers={**admin_headers, "Content-Encoding": "gzip"})
    assert resp.status_code == 413 and resp.mimetype == "application/problem+json"
    # Under the inflation bound but over the endpoint's own JSON limit: the guard's 413.
    app.config["MAX_JSON_BYTES"] = 1_000
    big = _enterprise_body("重庆九龙" + "大" * 600 + "有限公司")
    resp = client.post("/api/v1/enterprises", data=_gzipped(big), content_type="application/json",
                       headers={**admin_headers, "Content-Encoding": "gzip"})
    assert resp.status_code == 413 and "1000 bytes" in resp.get_json()["detail"]
