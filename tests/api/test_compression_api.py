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
