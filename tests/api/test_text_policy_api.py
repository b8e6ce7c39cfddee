"""The text policy at every door: each text field of each request body refuses what field/core/text.py refuses.

The table of (operation, field) is the published document itself: every string property of every
request body is either marked ``x-text: line|text`` (loaded through the policy) or listed in
``NOT_TEXT`` with the reason. Each marked field is then sent, alone, the characters the policy
refuses; the answer must be a 422 problem naming that field. A few end-to-end stories follow
(a blank unit name, a title with an RTL override on its way to the CSV export).
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid

import pytest

from api import create_app
from field.core.models.platform import Role

#: Strings of request bodies that are not text for people to read, and why.
NOT_TEXT = {
    "password": "a secret: any character may be in it, it is hashed and never shown",
    "username": "login only: looked up, never stored (accounts are made with a letters-and-digits pattern)",
    "fine_amount": "an amount in yuan, checked by the Yuan field against its own decimal form",
}


def _document() -> dict:
    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "spec", "EVIDENCE_DIR": "/nonexistent"})
    return app.test_client().get("/openapi.json").get_json()


DOCUMENT = _document()


def _strings(node, path=(), seen=frozenset()):
    """(dotted path, property schema) of each string a request body may hold."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        node, seen = DOCUMENT["components"]["schemas"][name], seen | {name}
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(key, []):
            yield from _strings(sub, path, seen)
    types = node.get("type")
    types = types if isinstance(types, list) else [types]
    if "object" in types or "properties" in node:
        for name, prop in node.get("properties", {}).items():
            if not prop.get("readOnly"):
                yield from _strings(prop, (*path, name), seen)
    elif "array" in types:
        yield from _strings(node.get("items", {}), (*path, "0"), seen)
    elif "string" in types and "enum" not in node and "pattern" not in node and "format" not in node:
        yield ".".join(path), node


def _fields():
    for url, item in DOCUMENT["paths"].items():
        for method, op in item.items():
            content = op.get("requestBody", {}).get("content", {}) if isinstance(op, dict) else {}
            schema = content.get("application/json", {}).get("schema")
            if schema:
                for field, prop in _strings(schema):
                    yield method, url, field, prop


FIELDS = list(_fields())
#: (method, url) → [(field, kind, may be blank)] for every field under the policy.
TABLE: dict[tuple[str, str], list[tuple[str, str, bool]]] = {}
for _method, _url, _field, _prop in FIELDS:
    if _prop.get("x-text"):
        TABLE.setdefault((_method, _url), []).append((_field, _prop["x-text"], _prop.get("minLength", 0) == 0))

#: What each kind must refuse: (value, what the message must say). The policy's messages name the character
#: (U+…) or say blank; NUL and lone surrogates are refused before, by the JSON body guard (api/bodies.py).
REFUSED_IN_LINES = {"blank": ("   ", "blank"), "only a zero-width space": ("\u200b", "U+200B"),
                    "RTL override": ("名\u202e称", "U+202E"), "LTR isolate": ("名\u2066称\u2069", "U+2066"),
                    "zero-width joiner": ("名\u200d称", "U+200D"), "BOM": ("\ufeff名称", "U+FEFF"),
                    "newline": ("名\n称", "U+000A"), "tab": ("名\t称", "U+0009"), "escape": ("名\x1b称", "U+001B"),
                    "NUL": ("名\x00称", ""), "lone surrogate": ("名\ud800称", "")}
REFUSED_IN_TEXTS = {"blank": (" \n\t ", "blank"), "escape": ("说明\x1b[31m文字", "U+001B"),
                    "RTL override": ("付款\u202e000,1\u202c元", "U+202E"), "RTL isolate": ("说明\u2067文字\u2069", "U+2067"),
                    "NUL": ("说明\x00文字", ""), "lone surrogate": ("说明\ud800文字", "")}


def test_every_string_of_every_request_body_is_under_the_text_policy_or_said_why_not():
    loose = sorted(f"{m.upper()} {u} {f}" for m, u, f, p in FIELDS
                   if not p.get("x-text") and f.rsplit(".", 1)[-1] not in NOT_TEXT)
    assert loose == []
    assert sum(len(fields) for fields in TABLE.values()) >= 100  # the walk saw the whole document


def _body(field: str, value: str) -> dict:
    """{"a": {"b": [value]}} for "a.b.0": the value alone where the field lives."""
    parts = field.split(".")
    node: object = value
    for part in reversed(parts):
        node = [node] if part == "0" else {part: node}
    return node


def _role_for(url: str) -> Role:
    """The role that gets past the door of each kind of operation to the body's parsing."""
    for prefix, role in (("/api/v1/visits", Role.squad_member), ("/api/v1/findings", Role.squad_member),
                         ("/api/v1/callbacks", Role.squad_member), ("/api/v1/reports", Role.liaison),
                         ("/api/v1/leader-visits", Role.leader), ("/api/v1/inspection-", Role.inspector),
                         ("/api/v1/compulsory-measures", Role.inspector), ("/api/v1/records", Role.reviewer)):
        if url.startswith(prefix) and not url.endswith("/decision"):
            return role
    return Role.admin


@pytest.mark.parametrize("operation", sorted(TABLE), ids=lambda op: f"{op[0].upper()} {op[1]}")
def test_each_text_field_refuses_what_the_policy_refuses_naming_the_field(app, client, make_user, login, operation):
    method, url = operation
    # The public complaint door's per-address budget (5 a minute) would answer 429 long before the table ends.
    app.config["PUBLIC_COMPLAINT_LIMIT_PER_ADDRESS"] = "1000 per minute"
    headers = {**login(make_user(_role_for(url))), "Content-Type": "application/json"}
    concrete = re.sub(r"{\w+}", lambda _: str(uuid.uuid4()), url)
    missed = []
    for field, kind, may_be_blank in TABLE[operation]:
        refused = REFUSED_IN_LINES if kind == "line" else REFUSED_IN_TEXTS
        for what, (value, said) in refused.items():
            if what == "blank" and may_be_blank:
                continue
            # ensure_ascii: a lone surrogate travels as \ud800, as a phone's JSON library would send it
            resp = client.open(concrete, method=method.upper(), headers=headers,
                               data=json.dumps(_body(field, value), ensure_ascii=True))
            named = resp.status_code == 422 and resp.mimetype == "application/problem+json" and any(
                e["field"] == field and said in e["message"] for e in resp.get_json().get("errors", []))
            if not named:
                missed.append(f"{field} ({kind}) {what}: {resp.status_code} {resp.get_data(as_text=True)[:200]}")
    assert missed == []


def test_text_passing_the_policy_is_stored_nfc_and_trimmed(client, admin_headers):
    made = client.post("/api/v1/units", headers=admin_headers, json={"name": "  Cafe\u0301 管理所\u3000",
                                                                       "kind": "department"})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["name"] == "Café 管理所"


@pytest.mark.parametrize("name", ["   ", "\u200b", " \u200b ", "\u3000"])
def test_a_unit_name_of_only_spaces_or_a_zero_width_space_is_refused_and_nothing_is_stored(
        client, admin_headers, name):
    resp = client.post("/api/v1/units", headers=admin_headers, json={"name": name, "kind": "department"})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "name"
    assert client.get("/api/v1/units", headers=admin_headers).get_json()["items"] == []


def test_a_case_title_with_a_right_to_left_override_never_reaches_the_csv_export(client, login, make_user):
    reviewer = login(make_user(Role.reviewer))
    title = "登记窗口\u202e案诿推\u202c"
    resp = client.post("/api/v1/cases", headers=reviewer, json={
        "kind": "work_style", "title": title, "opened_on": "2026-09-24",
        "complaint": {"channel": "phone", "received_at": "2026-09-23T16:20:00+08:00", "text": "电话反映"}})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "title"
    assert "U+202E" in resp.get_json()["errors"][0]["message"]
    exported = client.get("/api/v1/cases/export.csv", headers=reviewer).get_data(as_text=True)
    assert "\u202e" not in exported
    assert len(list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))) == 1  # the header alone


def test_a_callback_batch_row_with_an_invisible_or_bidi_character_is_rejected_alone(client, make_user, login):
    office = {**login(make_user(Role.reviewer)), "Content-Type": "text/csv"}
    raw = ("case_no,unit,service,completed_on,applicant_name,applicant_contact\n"
           "JLP-1,区市场监督管理局,营业执照变更,2026-04-15,王女士,13800000001\n"
           "JLP-2,区市场监督管理局,营业执照变更,2026-04-15,李\u202e女士,13800000002\n"
           "JLP-3,区市场监督管理局,营业执照变更,2026-04-15,赵女士,138\u200b00000003\n").encode()
    resp = client.post("/api/v1/callback-batches", headers=office, data=raw)
    assert resp.status_code == 201, resp.get_json()
    batch = resp.get_json()
    assert batch["case_count"] == 1
    assert [(r["row"], r["reason"].split(":")[0]) for r in batch["rejected"]] == [
        (3, "applicant_name"), (4, "applicant_contact")]
    assert "李" not in json.dumps(batch, ensure_ascii=False)  # the reason names the character, not the value
