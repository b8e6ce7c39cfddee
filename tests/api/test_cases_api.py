"""Accountability cases through the API: a case's walk to closure, refusals, confidentiality, exports."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from evidence.storage import make_blob_store
from field.cases import lifecycle as cases
from field.core.office import office_today
from field.core import crs
from field.core.models.platform import Role
from tests.integration.test_cases import (  # noqa: F401  (fixtures)
    add_evidence,
    admin,
    directory,
    make_record,
    make_user,
    member,
    monitor,
    office,
    sha_of,
)

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "cases.md"
OPENED = "2026-09-24"


@pytest.fixture
def reviewer_headers(office, login):
    return login(office["reviewer"])


@pytest.fixture
def open_case(client, reviewer_headers, make_record):
    """POST /cases with a fresh source record unless told otherwise; returns the created case."""
    def do(headers=None, **body):
        if "source_record_ids" not in body and "complaint" not in body:
            body["source_record_ids"] = [str(make_record().id)]
        body = {"kind": "efficiency_complaint", "title": "登记窗口推诿", "opened_on": OPENED, **body}
        resp = client.post("/api/v1/cases", json=body, headers=headers or reviewer_headers)
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()
    return do


def _move(client, headers, case_id, to, **body):
    return client.post(f"/api/v1/cases/{case_id}/transitions", json={"to": to, **body}, headers=headers)


def test_a_case_walks_from_opened_to_closed_only_once_all_four_gates_are_recorded(
        client, reviewer_headers, open_case, make_record, add_evidence, directory):
    record = make_record()
    photo = add_evidence(record, b"photo of the empty window")
    case = open_case(source_record_ids=[str(record.id)], subjects=[{"person_id": str(directory["chief"].id)}])
    cid = case["id"]
    assert re.fullmatch(r"2026-500107-\d{4}", case["number"])
    assert (case["state"], case["deadline"], case["effective_deadline"]) == ("opened", "2026-10-22", "2026-10-22")
    assert case["missing_gates"] == [g.value for g in cases.Gate]
    assert [e["sha256"] for e in case["evidence"]] == [photo]
    for step in ("investigating", "deciding"):
        assert _move(client, reviewer_headers, cid, step).status_code == 200
    resp = client.post(f"/api/v1/cases/{cid}/dispositions", headers=reviewer_headers, json={
        "kind": "disciplinary_sanction", "person_id": str(directory["chief"].id), "sanction_system": "administrative",
        "grade": "demerit", "decided_on": "2026-10-09", "authority": "区监委"})
    assert resp.status_code == 201 and resp.get_json()["rank_at_decision"] == "section"
    assert _move(client, reviewer_headers, cid, "rectifying").status_code == 200

    gates = ["facts_established", "problem_corrected", "responsible_dealt_with", "rectification_done"]
    for n, gate in enumerate(gates):
        refused = _move(client, reviewer_headers, cid, "closed")
        problem = refused.get_json()
        assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
        assert problem["type"] == "/problems/invalid-transition" and problem["allowed"] == ["dismissed"]
        assert problem["missing_gates"] == gates[n:] and "missing" in problem["detail"]
        resp = client.post(f"/api/v1/cases/{cid}/gates", headers=reviewer_headers,
                           json={"gate": gate, "note": "已核实", "evidence": [photo]})
        assert resp.status_code == 201 and resp.get_json()["recorded_by"]["display_name"] == "李审核"
    closed = _move(client, reviewer_headers, cid, "closed")
    assert closed.status_code == 200, closed.get_json()
    body = closed.get_json()
    assert body["state"] == "closed" and body["closed_on"] and body["allowed_transitions"] == []
    assert body["handling_working_days"] > 15 and body["ended_late"] is True
    kinds = [e["kind"] for e in client.get(f"/api/v1/cases/{cid}/timeline", headers=reviewer_headers).get_json()]
    assert kinds == ["case.opened"] + ["case.state_changed"] * 2 + ["case.disposition_recorded",
                                                                    "case.state_changed"] + \
        ["case.gate_recorded"] * 4 + ["case.state_changed"]


def test_every_refused_step_says_why(client, reviewer_headers, open_case):
    cid = open_case()["id"]
    skip = _move(client, reviewer_headers, cid, "deciding").get_json()
    assert skip["status"] == 409 and skip["allowed"] == ["investigating", "dismissed"]
    assert "'opened'" in skip["detail"] and "'deciding'" in skip["detail"]
    no_reason = _move(client, reviewer_headers, cid, "dismissed")
    assert no_reason.status_code == 422 and no_reason.get_json()["errors"][0]["field"] == "reason"
    gate = client.post(f"/api/v1/cases/{cid}/gates", headers=reviewer_headers,
                       json={"gate": "facts_established", "note": "x", "evidence": ["0" * 64]})
    assert gate.status_code == 422 and gate.get_json()["errors"][0]["field"] == "evidence.0"
    dismissed = _move(client, reviewer_headers, cid, "dismissed", reason="经核查不属实")
    assert dismissed.status_code == 200 and dismissed.get_json()["dismissed_reason"] == "经核查不属实"
    after = client.patch(f"/api/v1/cases/{cid}", json={"title": "新标题"}, headers=reviewer_headers)
    assert after.status_code == 409 and "dismissed" in after.get_json()["detail"]


def test_every_case_endpoint_answers_404_to_anyone_outside_the_office(app, client, open_case, make_user, login):
    cid = open_case()["id"]
    checked = 0
    for role in (Role.inspector, Role.squad_member):  # every role, at domain level: tests/integration
        headers = login(make_user(role))
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith(("/api/v1/cases", "/api/v1/case-kinds")):
                continue
            url = (rule.rule.replace("<uuid:case_id>", cid).replace("<uuid:subject_id>", str(uuid.uuid4()))
                   .replace("<string:kind>", "discipline"))
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                resp = client.open(url, method=method, headers=headers, json={} if method != "GET" else None)
                assert resp.status_code == 404, f"{role.value} {method} {rule.rule}: {resp.status_code}"
                checked += 1
    assert checked >= 2 * 20


def test_the_overdue_list_holds_running_cases_past_their_effective_deadline(client, reviewer_headers, open_case):
    late = open_case()["id"]
    delayed = open_case()["id"]
    open_case(complaint={"channel": "visit", "received_at": "2026-09-20T10:00:00+08:00", "text": "来访反映"})
    _move(client, reviewer_headers, open_case()["id"], "dismissed", reason="重复投诉")
    today = office_today()
    resp = client.post(f"/api/v1/cases/{delayed}/delay-notices", headers=reviewer_headers,
                       json={"reason": "需调取市级数据", "new_deadline": (today + timedelta(days=60)).isoformat()})
    notice = resp.get_json()
    assert resp.status_code == 201 and notice["previous_deadline"] == "2026-10-22" and notice["late"] is True
    overdue = client.get("/api/v1/cases?overdue=true", headers=reviewer_headers).get_json()["items"]
    assert len(overdue) == 2 and late in {c["id"] for c in overdue} and all(c["overdue"] for c in overdue)
    in_time = client.get("/api/v1/cases?overdue=false", headers=reviewer_headers).get_json()["items"]
    assert delayed in {c["id"] for c in in_time} and not any(c["overdue"] for c in in_time)
    view = client.get(f"/api/v1/cases/{delayed}", headers=reviewer_headers).get_json()
    assert view["effective_deadline"] == notice["new_deadline"] and len(view["delay_notices"]) == 1


def test_the_complainant_stays_out_of_the_case_and_its_exports_and_only_an_admin_unmasks(
        client, reviewer_headers, open_case, office, login):
    case = open_case(kind="work_style", complaint={
        "channel": "phone", "received_at": "2026-09-23T16:20:00+08:00", "text": "电话反映窗口工作人员脱岗",
        "complainant_name": "陈美玲", "complainant_contact": "13900001111"})
    cid = case["id"]
    assert case["complainant_on_file"] is True and case["complaint"]["channel"] == "phone"
    for url in (f"/api/v1/cases/{cid}", f"/api/v1/cases/{cid}/timeline", "/api/v1/cases",
                "/api/v1/cases/export.csv", "/api/v1/cases/export.geojson"):
        text = client.get(url, headers=reviewer_headers).get_data(as_text=True)
        assert "陈美玲" not in text and "13900001111" not in text, url
    refused = client.post(f"/api/v1/cases/{cid}/complainant", json={"reason": "核实"}, headers=reviewer_headers)
    assert refused.status_code == 403
    admin_headers = login(office["admin"])
    shown = client.post(f"/api/v1/cases/{cid}/complainant", json={"reason": "回访投诉人"}, headers=admin_headers)
    assert shown.status_code == 200 and shown.get_json() == {"name": "陈美玲", "contact": "13900001111"}
    last = client.get(f"/api/v1/cases/{cid}/timeline", headers=reviewer_headers).get_json()[-1]
    assert last["kind"] == "case.complainant_unmasked" and last["actor"] == "王管理"
    assert last["data"] == {"reason": "回访投诉人"}


def test_a_notice_naming_a_monitor_is_refused_on_text_without_repeating_the_name(
        client, reviewer_headers, open_case, monitor):
    cid = open_case()["id"]
    _move(client, reviewer_headers, cid, "investigating")
    _move(client, reviewer_headers, cid, "deciding")
    resp = client.post(f"/api/v1/cases/{cid}/notices", headers=reviewer_headers,
                       json={"text": "暗访员张卫东（电话13812345678）发现该窗口脱岗。", "issued_on": "2026-10-09"})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "text"
    assert "张卫东" not in resp.get_data(as_text=True) and "13812345678" not in resp.get_data(as_text=True)
    ok = client.post(f"/api/v1/cases/{cid}/notices", headers=reviewer_headers,
                     json={"text": "某窗口工作人员上班时间脱岗，给予通报批评。", "issued_on": "2026-10-09"})
    assert ok.status_code == 201


def test_opening_refuses_ids_out_of_scope_naming_the_field(client, reviewer_headers, make_record, make_user, tree):
    foreign = make_record(by=make_user(Role.squad_member, jurisdiction=tree["other"]))
    resp = client.post("/api/v1/cases", headers=reviewer_headers, json={
        "kind": "work_style", "title": "x", "source_record_ids": [str(foreign.id)], "opened_on": OPENED})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "source_record_ids.0"
    resp = client.post("/api/v1/cases", headers=reviewer_headers, json={
        "kind": "work_style", "title": "x", "source_record_ids": [str(make_record().id)], "opened_on": OPENED,
        "subjects": [{"unit_id": str(uuid.uuid4())}]})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "subjects.0.unit_id"


def test_case_kinds_show_their_limits_and_only_an_admin_changes_them(client, reviewer_headers, office, login):
    kinds = {k["kind"]: k for k in client.get("/api/v1/case-kinds", headers=reviewer_headers).get_json()}
    assert kinds["efficiency_complaint"]["working_days"] == 15 and kinds["discipline"]["working_days"] == 30
    assert client.put("/api/v1/case-kinds/discipline", json={"working_days": 20},
                      headers=reviewer_headers).status_code == 403
    admin_headers = login(office["admin"])
    changed = client.put("/api/v1/case-kinds/discipline", json={"working_days": 20}, headers=admin_headers)
    assert changed.status_code == 200 and changed.get_json()["working_days"] == 20
    assert changed.get_json()["set_in"] == str(office["admin"].jurisdiction_id)
    assert client.put("/api/v1/case-kinds/nonsense", json={"working_days": 20}, headers=admin_headers).status_code == 404
    back = client.delete("/api/v1/case-kinds/discipline", headers=admin_headers).get_json()
    assert back["working_days"] == 30 and back["set_in"] is None


# -- exports --------------------------------------------------------------------------------


def test_cases_export_as_a_streamed_csv_with_a_bom_and_a_header_row(client, reviewer_headers, open_case, directory):
    first = open_case(title="=HYPERLINK(\"http://x\")", subjects=[{"person_id": str(directory["chief"].id)}])
    second = open_case(kind="discipline")
    resp = client.get("/api/v1/cases/export.csv", headers=reviewer_headers)
    assert resp.status_code == 200 and resp.is_streamed and resp.mimetype == "text/csv"
    raw = resp.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["案件编号", "案件类别", "状态", "标题"]
    by_number = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert set(by_number) == {first["number"], second["number"]}
    one = by_number[first["number"]]
    assert one["标题"].startswith("'=") and one["案件类别"] == "效能投诉" and one["是否超期"] == "是"
    assert one["涉及人员"] == "王建国(登记注册科)" and by_number[second["number"]]["办理时限(工作日)"] == "30"
    only = client.get("/api/v1/cases/export.csv?kind=discipline", headers=reviewer_headers).get_data().decode("utf-8-sig")
    assert [r[0] for r in csv.reader(io.StringIO(only))][1:] == [second["number"]]


def test_cases_export_as_geojson_placed_at_their_first_located_source(client, reviewer_headers, open_case,
                                                                     make_record):
    where = (106.5286, 29.5026)
    located = open_case(source_record_ids=[str(make_record().id), str(make_record(at=where).id),
                                           str(make_record(at=(106.6, 29.6)).id)])
    complaint = open_case(complaint={"channel": "letter", "received_at": "2026-09-20T10:00:00+08:00", "text": "来信"})
    resp = client.get("/api/v1/cases/export.geojson", headers=reviewer_headers)
    assert resp.status_code == 200 and resp.mimetype == "application/geo+json" and resp.is_streamed
    features = {f["properties"]["number"]: f for f in json.loads(resp.get_data())["features"]}
    assert features[located["number"]]["geometry"]["coordinates"] == list(where)
    assert features[complaint["number"]]["geometry"] is None
    gcj = json.loads(client.get("/api/v1/cases/export.geojson?crs=gcj02", headers=reviewer_headers).get_data())
    moved = next(f for f in gcj["features"] if f["properties"]["number"] == located["number"])
    assert moved["geometry"]["coordinates"] == pytest.approx(list(crs.from_wgs84(*where, "gcj02")), abs=1e-6)
    assert moved["properties"]["location_crs"] == "gcj02"


def _verify_script(tmp_path) -> Path:
    """The verification script printed in docs/cases.md, as a third party would copy it."""
    text = DOCS.read_text(encoding="utf-8")
    script = re.search(r"```python\n(# verify_custody\.py.*?)```", text, re.S).group(1)
    assert len(script.strip().splitlines()) <= 25
    path = tmp_path / "verify_custody.py"
    path.write_text(script, encoding="utf-8")
    return path


def test_an_evidence_zip_verifies_with_sha256sum_and_its_custody_with_the_documented_script(
        app, client, reviewer_headers, open_case, make_record, add_evidence, tmp_path):
    store = make_blob_store(app.config)
    never_sent = sha_of(b"declared, never uploaded")
    first, second = make_record(declared=[never_sent]), make_record()
    shas = [add_evidence(first, b"\xff\xd8 photo one" * 1000, store=store),
            add_evidence(second, b"\xff\xd8 photo two" * 3000, store=store)]
    case = open_case(source_record_ids=[str(first.id), str(second.id)])
    resp = client.get(f"/api/v1/cases/{case['id']}/evidence.zip", headers=reviewer_headers)
    assert resp.status_code == 200 and resp.is_streamed and resp.mimetype == "application/zip"
    assert "attachment" in resp.headers["Content-Disposition"]
    jurisdiction, seq, head = resp.headers["X-Custody-Head"].split(":")

    out = tmp_path / "export"
    with zipfile.ZipFile(io.BytesIO(resp.get_data())) as zf:
        zf.extractall(out)
    assert sorted(p.name for p in (out / "evidence").iterdir()) == sorted(f"{s}.jpg" for s in shas)
    check = subprocess.run(["sha256sum", "-c", "MANIFEST.sha256"], cwd=out, capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.count(": OK") == 2, check.stdout + check.stderr

    script = _verify_script(tmp_path)
    verified = subprocess.run([sys.executable, str(script), "custody.json"], cwd=out, capture_output=True, text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert head in verified.stdout
    summary = json.loads((out / "case.json").read_text(encoding="utf-8"))
    assert summary["missing"] == [never_sent] and summary["number"] == case["number"]
    custody_doc = json.loads((out / "custody.json").read_text(encoding="utf-8"))
    full = [e for chain in custody_doc["chains"] for e in chain["entries"] if "kind" in e]
    assert {e["subject_id"] for e in full if e["kind"] == "evidence.exported"} == set(shas)
    assert full[-1]["kind"] == "case.evidence_exported" and (str(full[-1]["seq"]), full[-1]["hash"]) == (seq, head)

    # A third party notices a changed file and a changed log entry.
    victim = out / "evidence" / f"{shas[0]}.jpg"
    victim.chmod(0o644)
    victim.write_bytes(b"edited")
    assert subprocess.run(["sha256sum", "-c", "MANIFEST.sha256"], cwd=out, capture_output=True).returncode != 0
    entry = next(e for e in full if e["kind"] == "case.opened")
    (out / "custody.json").write_text(
        (out / "custody.json").read_text(encoding="utf-8").replace(entry["data"]["title"], "另一个标题"),
        encoding="utf-8")
    tampered = subprocess.run([sys.executable, str(script), "custody.json"], cwd=out, capture_output=True, text=True)
    assert tampered.returncode == 1 and "was changed" in tampered.stdout
    timeline = client.get(f"/api/v1/cases/{case['id']}/timeline", headers=reviewer_headers).get_json()
    assert timeline[-1]["kind"] == "case.evidence_exported" and timeline[-1]["data"]["missing"] == [never_sent]
