"""POST /api/v1/batches: a phone's outbox in one request, each record answered as its own POST would be."""

import io
import json
import uuid

from sqlalchemy import func, select

from field.core.models.records import FieldRecord
from field.custody.models import CustodyEntry
from field.visits.models import Finding
from tests.visits_fixtures import world  # noqa: F401


def _finding(world, **overrides):
    return {"id": str(uuid.uuid4()), "device_time": "2026-05-12T10:40:00+08:00", "category": "buck_passing",
            "severity": "moderate", "unit_id": str(world.window.id), "occurred_at": "2026-05-12T09:50:00+08:00",
            "description": "窗口让群众去找科室，科室又让回窗口。", **overrides}


def _visit(**overrides):
    return {"id": str(uuid.uuid4()), "device_time": "2026-05-12T10:30:00+08:00",
            "started_at": "2026-05-12T09:40:00+08:00", "ended_at": "2026-05-12T10:10:00+08:00",
            "narrative": "三号窗口工作人员离岗约二十分钟。", **overrides}


def _stored(session, *ids) -> set[str]:
    session.expire_all()
    found = session.execute(select(FieldRecord.id).where(FieldRecord.id.in_([uuid.UUID(i) for i in ids])))
    return {str(i) for i in found.scalars()}


def test_one_bad_item_blocks_no_other_and_each_refusal_names_its_field(client, world, login, session):
    alice = login(world.alice.user)
    good = [_finding(world), _visit(), _finding(world, severity="minor")]
    bad_category = _finding(world, category="nope")
    bad_severity = _finding(world, severity="catastrophic")
    items = [{"kind": "finding", "body": good[0]}, {"kind": "finding", "body": bad_category},
             {"kind": "visit", "body": good[1]}, {"kind": "finding", "body": bad_severity},
             {"kind": "spaceship", "body": {"id": str(uuid.uuid4())}}, {"kind": "finding", "body": good[2]},
             "not an object", {"kind": "finding", "body": good[2], "extra": 1}]
    resp = client.post("/api/v1/batches", headers=alice, json={"items": items})
    assert resp.status_code == 207, resp.get_json()
    answer = resp.get_json()
    assert [i["status"] for i in answer["items"]] == [201, 422, 201, 422, 422, 201, 422, 422]
    assert [i["index"] for i in answer["items"]] == list(range(8))
    assert answer["counts"] == {"201": 3, "422": 5}
    fields = {i["index"]: [e["field"] for e in i["problem"]["errors"]] for i in answer["items"] if "problem" in i}
    assert fields == {1: ["items.1.body.category"], 3: ["items.3.body.severity"], 4: ["items.4.kind"],
                      6: ["items.6._item"], 7: ["items.7.extra"]}
    assert answer["items"][1]["problem"]["type"] == "/problems/validation-failed"
    assert answer["items"][0] == {"index": 0, "kind": "finding", "id": good[0]["id"], "status": 201,
                                  "version": 1, "review_state": "submitted"}
    assert answer["items"][1]["id"] == bad_category["id"]
    assert _stored(session, *(b["id"] for b in good + [bad_category, bad_severity])) == {b["id"] for b in good}


def test_each_item_answers_what_its_own_post_answers(client, world, login):
    """The same refusals sent one by one and in a batch: the same status, problem type and fields."""
    alice, office = login(world.alice.user), login(world.reviewer)
    cases = [(alice, "findings", "finding", _finding(world, unit_id=str(uuid.uuid4()))),
             (alice, "findings", "finding", _finding(world, person_id=str(world.stranger.id))),
             (alice, "findings", "finding", _finding(world, category="nope")),
             (office, "findings", "finding", _finding(world)),
             (alice, "visits", "visit", _visit(ended_at="2026-05-12T09:00:00+08:00"))]
    for headers, path, kind, body in cases:
        alone = client.post(f"/api/v1/{path}", headers=headers, json=body)
        assert alone.status_code >= 400, (kind, body)
        batch = client.post("/api/v1/batches", headers=headers, json={"items": [{"kind": kind, "body": body}]})
        item = batch.get_json()["items"][0]
        assert item["status"] == alone.status_code, (body, alone.get_json(), item)
        assert item["problem"]["type"] == alone.get_json()["type"]
        assert [e["field"].removeprefix("items.0.body.") for e in item["problem"].get("errors", [])] == \
            [e["field"] for e in alone.get_json().get("errors", [])]


def test_a_batch_sent_again_answers_200_for_what_it_created_and_409_for_a_reused_id(client, world, login, session):
    alice = login(world.alice.user)
    first, second = _finding(world), _visit()
    items = [{"kind": "finding", "body": first}, {"kind": "visit", "body": second}]
    assert [i["status"] for i in client.post("/api/v1/batches", headers=alice,
                                             json={"items": items}).get_json()["items"]] == [201, 201]
    again = client.post("/api/v1/batches", headers=alice, json={"items": items + [
        {"kind": "finding", "body": {**first, "description": "另一个内容"}}]}).get_json()
    assert [i["status"] for i in again["items"]] == [200, 200, 409]
    assert again["items"][2]["problem"]["errors"][0]["field"] == "items.2.body.id"
    session.expire_all()
    assert session.get(Finding, uuid.UUID(first["id"])).description == first["description"]
    assert session.scalar(select(func.count()).select_from(CustodyEntry).where(
        CustodyEntry.subject_id.in_([first["id"], second["id"]]), CustodyEntry.kind == "record.created")) == 2


def test_the_same_id_twice_in_one_batch_is_a_repeat_or_a_conflict(client, world, login, session):
    alice = login(world.alice.user)
    body = _finding(world)
    resp = client.post("/api/v1/batches", headers=alice, json={"items": [
        {"kind": "finding", "body": body}, {"kind": "finding", "body": body},
        {"kind": "finding", "body": {**body, "severity": "minor"}}]})
    assert [i["status"] for i in resp.get_json()["items"]] == [201, 200, 409]
    assert _stored(session, body["id"]) == {body["id"]}


def test_with_an_idempotency_key_the_first_answer_is_replayed_as_it_was(client, world, login):
    alice = login(world.alice.user)
    items = [{"kind": "finding", "body": _finding(world)}, {"kind": "finding", "body": _finding(world, category="x")}]
    headers = {**alice, "Idempotency-Key": "outbox-2026-05-12-1"}
    first = client.post("/api/v1/batches", headers=headers, json={"items": items})
    replay = client.post("/api/v1/batches", headers=headers, json={"items": items})
    assert first.status_code == replay.status_code == 207
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.get_json() == first.get_json()
    assert [i["status"] for i in replay.get_json()["items"]] == [201, 422]
    other = client.post("/api/v1/batches", headers=headers, json={"items": items[:1]})
    assert other.status_code == 422 and other.get_json()["errors"][0]["field"] == "Idempotency-Key"


def test_an_envelope_that_is_not_a_batch_is_refused_whole_and_nothing_is_stored(client, world, login, session, app):
    alice = login(world.alice.user)
    body = _finding(world)
    for envelope, field in (({"items": []}, "items"), ({}, "items"), ({"items": {"kind": "finding"}}, "items"),
                            ({"items": [{"kind": "finding", "body": body}], "device": "x"}, "device")):
        resp = client.post("/api/v1/batches", headers=alice, json=envelope)
        assert resp.status_code == 422, envelope
        assert resp.headers["Content-Type"] == "application/problem+json"
        assert [e["field"] for e in resp.get_json()["errors"]] == [field], resp.get_json()
    app.config["BATCH_MAX_ITEMS"] = 3
    too_many = [{"kind": "finding", "body": _finding(world)} for _ in range(4)]
    resp = client.post("/api/v1/batches", headers=alice, json={"items": too_many})
    assert resp.status_code == 422 and "At most 3 records" in resp.get_json()["errors"][0]["message"]
    assert _stored(session, body["id"], *(i["body"]["id"] for i in too_many)) == set()


def test_a_batch_may_be_larger_than_one_record_but_not_than_its_own_limit(client, world, login, app):
    alice = login(world.alice.user)
    app.config["MAX_JSON_BYTES"] = 2_000
    items = [{"kind": "finding", "body": _finding(world)} for _ in range(10)]
    size = len(json.dumps({"items": items}, separators=(",", ":"), ensure_ascii=False).encode())
    assert size > 2_000
    assert client.post("/api/v1/batches", headers=alice, json={"items": items}).status_code == 207
    app.config["BATCH_MAX_BYTES"] = size // 2
    again = [{"kind": "finding", "body": _finding(world)} for _ in range(10)]
    resp = client.post("/api/v1/batches", headers=alice, json={"items": again})
    assert resp.status_code == 413 and resp.headers["Content-Type"] == "application/problem+json"


def test_a_batch_needs_a_token_and_lists_the_kinds_it_takes(client, world, login):
    assert client.post("/api/v1/batches", json={"items": [{"kind": "finding", "body": {}}]}).status_code == 401
    kinds = client.get("/api/v1/batches/kinds", headers=login(world.alice.user)).get_json()
    assert {"finding", "visit", "callback"} <= set(kinds["kinds"]) and kinds["max_items"] >= 200


def test_a_finding_may_name_a_visit_sent_earlier_in_the_same_batch(client, world, login, session):
    alice = login(world.alice.user)
    visit = _visit()
    finding = _finding(world, visit_id=visit["id"])
    resp = client.post("/api/v1/batches", headers=alice, json={"items": [
        {"kind": "visit", "body": visit}, {"kind": "finding", "body": finding},
        {"kind": "finding", "body": _finding(world, visit_id=str(uuid.uuid4()))}]})
    assert [i["status"] for i in resp.get_json()["items"]] == [201, 201, 422]
    assert resp.get_json()["items"][2]["problem"]["errors"][0]["field"] == "items.2.body.visit_id"
    session.expire_all()
    assert str(session.get(Finding, uuid.UUID(finding["id"])).visit_id) == visit["id"]


def test_photos_that_came_before_their_records_are_judged_when_the_batch_stores_them(client, world, login, session):
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    from tests.upload_fixtures import NO_EXIF_PHOTO, photo_bytes

    alice = login(world.alice.user)
    early, plain = _finding(world), _finding(world)
    boundary, body = encode_multipart({"record_id": early["id"], "kind": "photo",
                                       "file": FileStorage(io.BytesIO(photo_bytes(NO_EXIF_PHOTO)), "IMG_1.jpg")})
    uploaded = client.post("/api/v1/evidence", headers=alice, data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert uploaded.status_code == 201, uploaded.get_json()
    resp = client.post("/api/v1/batches", headers=alice, json={"items": [
        {"kind": "finding", "body": plain}, {"kind": "finding", "body": early}]})
    assert [i["status"] for i in resp.get_json()["items"]] == [201, 201]
    session.expire_all()
    assert session.get(Finding, uuid.UUID(early["id"])).flag_implausible_evidence is True
    assert session.get(Finding, uuid.UUID(plain["id"])).flag_implausible_evidence is False


def test_a_batch_links_one_custody_entry_per_record_and_the_chain_verifies(client, world, login, session):
    from field.custody import chain as custody

    alice = login(world.alice.user)
    items = [{"kind": "finding", "body": _finding(world)} for _ in range(30)] + [
        {"kind": "finding", "body": _finding(world, category="nope")}]
    assert client.post("/api/v1/batches", headers=alice, json={"items": items}).get_json()["counts"] == \
        {"201": 30, "422": 1}
    ids = [i["body"]["id"] for i in items]
    created = session.scalar(select(func.count()).select_from(CustodyEntry).where(
        CustodyEntry.subject_id.in_(ids), CustodyEntry.kind == "record.created"))
    assert created == 30
    assert custody.verify_all_chains(session)[1] == []


def test_a_phone_on_a_poor_network_sends_its_outbox_gzipped(client, world, login, session):
    import gzip

    alice = login(world.alice.user)
    items = [{"kind": "finding", "body": _finding(world)} for _ in range(200)]
    plain = json.dumps({"items": items}, ensure_ascii=False).encode()
    packed = gzip.compress(plain)
    assert len(packed) < len(plain) / 5
    resp = client.post("/api/v1/batches", data=packed, content_type="application/json",
                       headers={**alice, "Content-Encoding": "gzip", "Idempotency-Key": "outbox-gz"})
    assert resp.status_code == 207 and resp.get_json()["counts"] == {"201": 200}
    assert _stored(session, *(i["body"]["id"] for i in items)) == {i["body"]["id"] for i in items}
    # The same batch sent plain under the same key is the same request: its answer is replayed.
    again = client.post("/api/v1/batches", data=plain, content_type="application/json",
                        headers={**alice, "Idempotency-Key": "outbox-gz"})
    assert again.headers.get("Idempotent-Replayed") == "true" and again.get_json() == resp.get_json()
