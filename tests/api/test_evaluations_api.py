"""Evaluations over HTTP: the office sets up a campaign, a rater votes with a code, the unit answers a bad rating
without learning who gave it, the office verifies and calls back; a code votes once under 20 parallel posts."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select

from field.core.models.platform import Role
from field.directory.models import UnitKind
from field.evaluations.models import Ballot
from field.filings import inspectors
from stress.world import build
from tests.conftest import fresh_database_url
from tests.directory_fixtures import make_unit  # noqa: F401 (fixture)
from tests.evaluation_fixtures import QUESTIONS

NAME, PHONE = "王评议人", "13912345678"


@pytest.fixture
def office(login, make_user):
    return login(make_user(Role.reviewer))


def _campaign(client, headers, targets, kind="thousand"):
    q = client.post("/api/v1/questionnaires", headers=headers, json={"title": "企业评议问卷", "questions": QUESTIONS})
    assert q.status_code == 201, q.get_json()
    made = client.post("/api/v1/evaluation-campaigns", headers=headers, json={
        "kind": kind, "title": "2026年千人评", "opens_on": "2026-01-01", "closes_on": "2099-12-31",
        "questionnaire_id": q.get_json()["id"], "targets": targets})
    assert made.status_code == 201, made.get_json()
    campaign = made.get_json()
    opened = client.post(f"/api/v1/evaluation-campaigns/{campaign['id']}/open", headers=headers)
    assert opened.status_code == 200 and opened.get_json()["opened_at"]
    return campaign, q.get_json()


def test_the_bad_rating_loop_over_http_keeps_the_rater_from_the_unit(client, session, admin, office, login,
                                                                      make_user, make_unit):
    bureau = make_unit("区市场监督管理局", UnitKind.department)
    window = make_unit("登记窗口", UnitKind.window, parent_id=bureau.id)
    inspector = make_user(Role.inspector)
    inspectors.assign_unit(session, admin, inspector.id, bureau.id)
    session.commit()
    unit = login(inspector)
    campaign, questionnaire = _campaign(client, office, [{"unit_id": str(window.id)}])
    target = campaign["targets"][0]
    assert (target["kind"], target["label"]) == ("window", "区市场监督管理局/登记窗口")

    issued = client.post(f"/api/v1/evaluation-campaigns/{campaign['id']}/invitations", headers=office, json={
        "target_id": target["id"], "rater": {"kind": "citizen", "name": NAME, "phone": PHONE}})
    assert issued.status_code == 201, issued.get_json()
    invitation = issued.get_json()["items"][0]
    code = invitation["code"]
    assert invitation["url"] == f"/e/{code}" and NAME not in issued.get_data(as_text=True)
    qr = client.get(f"/api/v1/evaluation-invitations/{invitation['id']}/qr.svg", headers=office)
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml" and b"<svg" in qr.data
    listed = client.get(f"/api/v1/evaluation-campaigns/{campaign['id']}/invitations", headers=office).get_json()
    assert [i["code"] for i in listed["items"]] == [code]

    # The rater votes (no account: the code is the credential), twice with the same key.
    body = {"code": code, "answers": {"overall": 2, "attitude": 1, "comment": "窗口人员推诿，让我跑了三趟"}}
    first = client.post("/api/v1/ballots", json=body, headers={"Idempotency-Key": "page-1"})
    assert first.status_code == 201, first.get_json()
    receipt = first.get_json()
    assert receipt["rectification"] and receipt["due_on"] and receipt["target"] == "区市场监督管理局/登记窗口"
    again = client.post("/api/v1/ballots", json=body, headers={"Idempotency-Key": "page-1"})
    assert again.status_code == 200 and again.get_json() == receipt
    other = client.post("/api/v1/ballots", json={**body, "answers": {"overall": 5, "attitude": 5}},
                        headers={"Idempotency-Key": "page-2"})
    assert other.status_code == 409 and other.mimetype == "application/problem+json"
    wrong = client.post("/api/v1/ballots", json={"code": "ZZZZZZZZZZ", "answers": {}})
    assert wrong.status_code == 404
    missing = client.post("/api/v1/ballots", json={"code": "ZZZZZZZZZZ"})
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["field"] == "answers"

    # The unit sees its item: the grades and the comment, never the rater.
    page = client.get("/api/v1/rectifications", headers=unit)
    assert page.status_code == 200
    items = page.get_json()["items"]
    assert len(items) == 1 and items[0]["complaint"]["grades"] == {"overall": 2, "attitude": 1}
    for text in (NAME, PHONE, code, "citizen", "invitation", "ballot"):
        assert text not in page.get_data(as_text=True)
    item = items[0]["id"]
    assert client.post(f"/api/v1/rectifications/{item}/rater", headers=unit,
                       json={"reason": "回访"}).status_code == 403
    assert client.post(f"/api/v1/rectifications/{item}/verification", headers=unit,
                       json={"accepted": True, "reply": "x"}).status_code == 403

    answered = client.post(f"/api/v1/rectifications/{item}/answer", headers=unit,
                           json={"text": "已约谈窗口人员并推行首问负责制。"})
    assert answered.status_code == 200 and answered.get_json()["state"] == "answered"
    verified = client.post(f"/api/v1/rectifications/{item}/verification", headers=office,
                           json={"accepted": True, "note": "电话核实属实", "reply": "您反映的问题已整改，感谢您的监督。"})
    assert verified.status_code == 200 and verified.get_json()["state"] == "verified"
    assert client.post(f"/api/v1/rectifications/{item}/answer", headers=unit,
                       json={"text": "again"}).status_code == 409

    # An admin may learn who it was, for the callback; the disclosure is logged and never replayed.
    assert client.post(f"/api/v1/rectifications/{item}/rater", headers=office,
                       json={"reason": "差评回访"}).status_code == 403
    admin_h = login(admin)
    rater = client.post(f"/api/v1/rectifications/{item}/rater", headers=admin_h, json={"reason": "差评回访"})
    assert rater.status_code == 200 and (rater.get_json()["name"], rater.get_json()["phone"]) == (NAME, PHONE)
    assert rater.headers["Cache-Control"] == "no-store"
    keyed = client.post(f"/api/v1/rectifications/{item}/rater", headers={**admin_h, "Idempotency-Key": "k"},
                        json={"reason": "差评回访"})
    assert keyed.status_code == 422

    result = client.get(f"/api/v1/evaluation-campaigns/{campaign['id']}/results", headers=office)
    assert result.status_code == 200
    row = result.get_json()["targets"][0]
    assert (row["ballots"], row["score"], row["satisfaction_rate"]) == (1, 33.33, 0.0)
    sheet = client.get(f"/api/v1/evaluation-campaigns/{campaign['id']}/results?format=csv", headers=office)
    assert sheet.mimetype == "text/csv" and "33.33" in sheet.get_data(as_text=True)
    assert NAME not in sheet.get_data(as_text=True)

    # The questionnaire was locked when the campaign opened: a change is its next version.
    changed = client.put(f"/api/v1/questionnaires/{questionnaire['id']}", headers=office,
                         json={"title": "问卷二", "questions": QUESTIONS[:2]})
    assert changed.status_code == 201 and changed.get_json()["version"] == 2
    assert client.get(f"/api/v1/questionnaires/{questionnaire['id']}", headers=office).get_json()["locked"]


def test_a_questionnaire_is_imported_from_a_sheet_and_other_roles_find_no_evaluations(client, office, login,
                                                                                       make_user):
    sheet = "type,name,label::zh,label::en,required\ngrade5,overall,总体满意度,Overall,yes\ntext,note,意见,,no\n"
    made = client.post("/api/v1/questionnaires/import?title=窗口问卷", headers={**office, "Content-Type": "text/csv"},
                       data=sheet.encode())
    assert made.status_code == 201, made.get_json()
    assert [q["name"] for q in made.get_json()["questions"]] == ["overall", "note"]
    bad = client.post("/api/v1/questionnaires/import", headers={**office, "Content-Type": "text/csv"},
                      data=b"type,name,label::zh\nstars,overall,x\n")
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "rows.1.type"
    for role in (Role.liaison, Role.squad_member, Role.leader):
        headers = login(make_user(role))
        assert client.get("/api/v1/questionnaires", headers=headers).status_code == 404
        assert client.get("/api/v1/rectifications", headers=headers).status_code == 404


def test_a_code_votes_once_under_20_parallel_submissions(backend, tmp_path):
    world = build(fresh_database_url(backend, tmp_path, "_ballots"), str(tmp_path / "evidence"))
    try:
        client = world.app.test_client()
        campaign, _ = _campaign(client, world.admin_headers, [{"unit_id": str(world.unit_id)}])
        codes = client.post(f"/api/v1/evaluation-campaigns/{campaign['id']}/invitations", headers=world.admin_headers, json={
            "target_id": campaign["targets"][0]["id"], "rater": {"kind": "counter"}, "count": 2}).get_json()["items"]

        def race(code: str, same_key: bool) -> list[tuple[int, dict]]:
            barrier, answers = threading.Barrier(20), []

            def post(n: int):
                body = {"code": code, "answers": {"overall": 1 + n % 5, "attitude": 3}}
                key = "one-page" if same_key else f"page-{n}"
                if same_key:
                    body["answers"]["overall"] = 4
                barrier.wait()
                resp = world.app.test_client().post("/api/v1/ballots", json=body, headers={"Idempotency-Key": key})
                answers.append((resp.status_code, resp.get_json()))

            threads = [threading.Thread(target=post, args=(n,)) for n in range(20)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return answers

        different = race(codes[0]["code"], same_key=False)
        assert sorted(s for s, _ in different) == [201] + [409] * 19, different
        same = race(codes[1]["code"], same_key=True)
        assert sorted(s for s, _ in same) == [200] * 19 + [201], same
        assert len({body["receipt_no"] for _, body in same}) == 1
        with world.session() as s:
            assert s.execute(select(func.count()).select_from(Ballot)).scalar_one() == 2
    finally:
        world.close()


def test_an_unknown_code_answers_like_any_other_unknown_code(client):
    answers = [client.post("/api/v1/ballots", json={"code": code, "answers": {"overall": 5}})
               for code in ("ABCDEFGHJK", uuid.uuid4().hex[:10])]
    assert {a.status_code for a in answers} == {404}
    assert len({a.get_json()["detail"] for a in answers}) == 1
