"""Disclosures of an identity: never replayed, never cached, never stored in an answer, always in the custody chain.

An operation whose answer can hold a real identity (a field marked ``x-identity`` in the
published document) is a disclosure: it carries ``x-discloses-identity``, refuses the
``Idempotency-Key`` header, answers ``Cache-Control: no-store``, and writes a custody entry
that names who disclosed whose identity and why, never the identity itself.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
from sqlalchemy import delete, select, text

from field.custody import chain as custody
from field.core.models.records import IdempotencyKey
from field.core.models.platform import Role
from field.custody.models import DROP_APPEND_ONLY_DDL, CustodyEntry
from field.directory.models import IdentityDisclosure
from tests.integration.test_cases import admin, make_user, office  # noqa: F401  (fixtures)

REAL_NAME, PHONE = "张卫东", "13800000000"
COMPLAINANT, CONTACT = "陈美玲", "+86 139-0000-1111"
#: Every disclosure the product has today; the document walk below must find at least these.
KNOWN_DISCLOSURES = {
    ("post", "/api/v1/squads/{squad_id}/members/{user_id}/unmask"),
    ("post", "/api/v1/cases/{case_id}/complainant"),
}


def _spec(client) -> dict:
    return client.get("/openapi.json").get_json()


def _holds_identity(spec: dict, node, seen=frozenset()) -> bool:
    """Whether a schema (followed through $ref, arrays, compositions) has a property marked x-identity."""
    if isinstance(node, dict):
        if node.get("x-identity"):
            return True
        ref = node.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[-1]
            return name not in seen and _holds_identity(spec, spec["components"]["schemas"][name], seen | {name})
        return any(_holds_identity(spec, value, seen) for value in node.values())
    if isinstance(node, list):
        return any(_holds_identity(spec, value, seen) for value in node)
    return False


def _answers(spec: dict, op: dict):
    for code, response in op.get("responses", {}).items():
        if code.startswith("2"):
            if "$ref" in response:
                response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
            yield from (c.get("schema", {}) for c in response.get("content", {}).values())


def _disclosing_operations(spec: dict) -> set[tuple[str, str]]:
    return {(method, path) for path, item in spec["paths"].items() for method, op in item.items()
            if isinstance(op, dict) and any(_holds_identity(spec, s) for s in _answers(spec, op))}


@pytest.fixture
def squad_member(client, admin_headers):
    squad = client.post("/api/v1/squads", headers=admin_headers, json={"name": "第一暗访小分队", "code_prefix": "JLP"})
    squad_id = squad.get_json()["id"]
    enlisted = client.post(f"/api/v1/squads/{squad_id}/members", headers=admin_headers,
                           json={"real_name": REAL_NAME, "phone": PHONE, "password": "correct horse battery"})
    assert enlisted.status_code == 201, enlisted.get_json()
    return squad_id, enlisted.get_json()["user_id"]


@pytest.fixture
def complaint_case(client, office, login):
    headers = login(office["reviewer"])
    resp = client.post("/api/v1/cases", headers=headers, json={
        "kind": "work_style", "title": "窗口脱岗", "opened_on": "2026-09-24",
        "complaint": {"channel": "phone", "received_at": "2026-09-23T16:20:00+08:00", "text": "电话反映窗口脱岗",
                      "complainant_name": COMPLAINANT, "complainant_contact": CONTACT}})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _concrete(path: str, ids: dict) -> str:
    return re.sub(r"{(\w+)}", lambda m: str(ids.get(m.group(1), uuid.uuid4())), path)


def test_every_operation_whose_answer_can_hold_an_identity_is_marked_a_disclosure(client):
    spec = _spec(client)
    disclosing = _disclosing_operations(spec)
    assert KNOWN_DISCLOSURES <= disclosing, "the document marks no identity field of these answers"
    unmarked = sorted(f"{m.upper()} {p}" for m, p in disclosing if not spec["paths"][p][m].get("x-discloses-identity"))
    assert unmarked == []
    # …and nothing is marked that holds no identity: the mark means something.
    marked = {(m, p) for p, item in spec["paths"].items() for m, op in item.items()
              if isinstance(op, dict) and op.get("x-discloses-identity")}
    assert marked == disclosing


def test_every_disclosing_post_refuses_an_idempotency_key_and_stores_no_answer(
        client, office, login, squad_member, complaint_case, session):
    spec = _spec(client)
    admin = login(office["admin"])
    ids = {"squad_id": squad_member[0], "user_id": squad_member[1], "case_id": complaint_case["id"]}
    posts = sorted(p for m, p in _disclosing_operations(spec) if m == "post")
    assert set(posts) >= {p for _, p in KNOWN_DISCLOSURES}
    for n, path in enumerate(posts):
        url = _concrete(path, ids)
        for attempt in range(2):  # a second try would be the replay
            resp = client.post(url, headers={**admin, "Idempotency-Key": f"disclose-{n}"}, json={"reason": "核实身份"})
            assert resp.status_code == 422, (path, resp.status_code, resp.get_data(as_text=True)[:300])
            assert resp.get_json()["errors"][0]["field"] == "Idempotency-Key"
            body = resp.get_data(as_text=True)
            assert REAL_NAME not in body and COMPLAINANT not in body and "Idempotent-Replayed" not in resp.headers
    assert session.execute(select(IdempotencyKey)).scalars().all() == []
    # Refused means not disclosed: nothing was logged either.
    assert session.execute(select(IdentityDisclosure)).scalars().all() == []
    assert [e.kind for e in session.execute(select(CustodyEntry)).scalars()
            if e.kind.endswith("unmasked")] == []


def test_a_complainant_unmask_replayed_with_a_key_shows_nobody_and_the_key_table_stays_empty(
        client, office, login, complaint_case, session):
    """The reported leak: a replay showed the complainant again, unlogged, from a stored answer."""
    url = f"/api/v1/cases/{complaint_case['id']}/complainant"
    headers = {**login(office["admin"]), "Idempotency-Key": "complainant-1"}
    first = client.post(url, headers=headers, json={"reason": "回访投诉人"})
    again = client.post(url, headers=headers, json={"reason": "回访投诉人"})
    for resp in (first, again):
        assert resp.status_code == 422 and COMPLAINANT not in resp.get_data(as_text=True)
    stored = [(k.response_body or "") for k in session.execute(select(IdempotencyKey)).scalars()]
    assert not any(COMPLAINANT in body or "139" in body for body in stored)


def test_disclosures_answer_no_store(client, office, login, squad_member, complaint_case):
    admin = login(office["admin"])
    squad_id, user_id = squad_member
    member_view = client.post(f"/api/v1/squads/{squad_id}/members/{user_id}/unmask", headers=admin,
                              json={"reason": "核实暗访线索来源"})
    complainant = client.post(f"/api/v1/cases/{complaint_case['id']}/complainant", headers=admin,
                              json={"reason": "回访投诉人"})
    assert member_view.status_code == complainant.status_code == 200
    assert member_view.get_json()["real_name"] == REAL_NAME and complainant.get_json()["name"] == COMPLAINANT
    for resp in (member_view, complainant):
        assert resp.headers["Cache-Control"] == "no-store"
    # A refusal of a disclosure endpoint is not cached either (it may say whether someone is on file).
    refused = client.post(f"/api/v1/cases/{complaint_case['id']}/complainant", headers=login(office["reviewer"]),
                          json={"reason": "想知道"})
    assert refused.status_code == 403 and refused.headers["Cache-Control"] == "no-store"


def _entry_text(entry: CustodyEntry) -> str:
    return json.dumps({c.key: getattr(entry, c.key) for c in CustodyEntry.__table__.columns},
                      default=str, ensure_ascii=False)


def test_unmasking_a_monitor_stays_in_the_custody_chain_when_its_disclosure_row_is_deleted(
        client, admin, admin_headers, squad_member, session):
    squad_id, user_id = squad_member
    resp = client.post(f"/api/v1/squads/{squad_id}/members/{user_id}/unmask", headers=admin_headers,
                       json={"reason": "核实暗访线索来源"})
    assert resp.status_code == 200
    disclosure_id = resp.get_json()["disclosure_id"]
    session.execute(delete(IdentityDisclosure))  # someone wipes the audit table
    session.commit()

    entries = custody.history(session, "squad_member", user_id)
    unmasked = [e for e in entries if e.kind == "squad.member_unmasked"]
    assert len(unmasked) == 1
    entry = unmasked[0]
    assert str(entry.actor_id) == str(admin.id) and entry.device_id is not None
    assert entry.data == {"squad_id": squad_id, "code": "JLP-A01", "reason": "核实暗访线索来源",
                          "disclosure_id": disclosure_id}
    assert REAL_NAME not in _entry_text(entry) and PHONE not in _entry_text(entry)
    assert custody.verify_all_chains(session)[1] == []
    # …and that entry cannot go the same way unnoticed, even by someone who lifts the database's guard.
    for statement in DROP_APPEND_ONLY_DDL[session.get_bind().dialect.name]:
        session.execute(text(statement))
    session.execute(delete(CustodyEntry).where(CustodyEntry.jurisdiction_id == entry.jurisdiction_id,
                                               CustodyEntry.seq == entry.seq))
    session.expire_all()
    breaks = custody.verify_all_chains(session)[1]
    assert [b.seq for b in breaks] == [entry.seq]


def test_unmasking_a_complainant_is_in_the_custody_chain_without_the_complainant(
        client, office, login, complaint_case, session):
    resp = client.post(f"/api/v1/cases/{complaint_case['id']}/complainant", headers=login(office["admin"]),
                       json={"reason": "回访投诉人"})
    assert resp.status_code == 200 and resp.get_json() == {"name": COMPLAINANT, "contact": CONTACT}
    entry = [e for e in custody.history(session, "case", complaint_case["id"]) if e.kind.endswith("unmasked")][-1]
    assert entry.data["reason"] == "回访投诉人" and entry.device_id is not None
    text = _entry_text(entry)
    assert COMPLAINANT not in text and "0000" not in text and "1111" not in text


@pytest.mark.parametrize("role", [Role.reviewer, Role.inspector])
def test_a_refused_unmask_writes_no_custody_entry(client, office, login, make_user, complaint_case, session, role):
    user = office["reviewer"] if role is Role.reviewer else make_user(role)
    resp = client.post(f"/api/v1/cases/{complaint_case['id']}/complainant", headers=login(user),
                       json={"reason": "想知道"})
    assert resp.status_code in (403, 404)
    assert [e for e in session.execute(select(CustodyEntry)).scalars() if e.kind.endswith("unmasked")] == []
