"""Unit heads' commitment letters through the API: entered, published, checked item by item (40 items over four
units, figures counted by hand), a broken one opening a case, the yearly report assessed."""

from __future__ import annotations

from datetime import date

import pytest

from field.core.models.platform import Role
from field.core.office import fixed_day


@pytest.fixture
def office(client, make_user, login):
    h = login(make_user(Role.admin))
    heads = []
    for k in range(4):
        unit = client.post("/api/v1/units", headers=h, json={"name": f"区局{k}", "kind": "department"}).get_json()
        person = client.post("/api/v1/persons", headers=h, json={"unit_id": unit["id"], "name": f"局长{k}"}).get_json()
        heads.append((unit, person))
    return {"h": h, "heads": heads, "reviewer": login(make_user(Role.reviewer))}


def _letter(client, h, person, n):
    resp = client.post("/api/v1/commitment-letters", headers=h, json={
        "person_id": person["id"], "year": 2026, "title": "2026年度服务承诺书",
        "items": [{"promise": f"承诺{i}", "target": "≤ 1 个工作日", "target_value": 1, "target_unit": "工作日",
                   "due_on": "2026-12-31"} for i in range(n)]})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_forty_commitments_checked_give_the_items_kept_per_unit(client, office):
    h = office["reviewer"]
    # unit k: 10 items; checked as kept, partly, not kept in turn, the last (k + 1) left unchecked
    expected = {}
    with fixed_day(date(2026, 12, 20)):
        for k, (unit, person) in enumerate(office["heads"]):
            letter = _letter(client, h, person, 10)
            published = client.post(f"/api/v1/commitment-letters/{letter['id']}/publication", headers=h,
                                     json={"published_on": "2026-02-20", "channel": "television"})
            assert published.status_code == 200, published.get_json()
            verdicts = ["kept", "partly", "not_kept"]
            counted = {"kept": 0, "partly": 0, "not_kept": 0}
            for i, item in enumerate(letter["items"][: 10 - (k + 1)]):
                verdict = verdicts[(i + k) % 3]
                resp = client.post(f"/api/v1/commitment-items/{item['id']}/checks", headers=h, json={
                    "verdict": verdict, "note": "抽查", "checked_on": "2026-12-15"})
                assert resp.status_code == 201, resp.get_json()
                counted[verdict] += 1
            checked = 10 - (k + 1)
            expected[unit["id"]] = {"unit_id": unit["id"], "unit": unit["name"], "items": 10, "checked": checked,
                                    **counted, "kept_rate": round(counted["kept"] * 100 / checked, 1)}
        got = client.get("/api/v1/commitment-figures?year=2026", headers=h).get_json()
    assert {row["unit_id"]: row for row in got} == expected
    assert sum(row["items"] for row in got) == 40


def test_a_broken_commitment_opens_a_case_and_the_report_is_assessed(client, office):
    h = office["reviewer"]
    unit, person = office["heads"][0]
    letter = _letter(client, h, person, 2)
    item = letter["items"][0]
    early = client.post(f"/api/v1/commitment-items/{item['id']}/checks", headers=h, json={
        "verdict": "not_kept", "note": "未兑现", "checked_on": "2026-06-01"})
    assert early.status_code == 409  # a draft is not checked
    with fixed_day(date(2026, 12, 20)):
        client.post(f"/api/v1/commitment-letters/{letter['id']}/publication", headers=h,
                    json={"published_on": "2026-02-20", "channel": "newspaper"})
        kept = client.post(f"/api/v1/commitment-items/{letter['items'][1]['id']}/checks", headers=h, json={
            "verdict": "kept", "note": "已兑现", "checked_on": "2026-12-01"})
        refused = client.post(f"/api/v1/commitment-items/{letter['items'][1]['id']}/case", headers=h, json={})
        assert kept.status_code == 201 and refused.status_code == 409
        client.post(f"/api/v1/commitment-items/{item['id']}/checks", headers=h, json={
            "verdict": "not_kept", "note": "企业开办平均 3 个工作日", "checked_on": "2026-12-01"})
        opened = client.post(f"/api/v1/commitment-items/{item['id']}/case", headers=h, json={})
        assert opened.status_code == 201, opened.get_json()
        case = client.get(f"/api/v1/cases/{opened.get_json()['case_id']}", headers=h).get_json()
        assert case["kind"] == "work_style" and case["subjects"][0]["person"]["id"] == person["id"]
        premature = client.put(f"/api/v1/commitment-letters/{letter['id']}/report", headers=h,
                               json={"assessment": "fair"})
        assert premature.status_code == 422 and premature.get_json()["errors"][0]["field"] == "assessment"
        reported = client.put(f"/api/v1/commitment-letters/{letter['id']}/report", headers=h, json={
            "text": "全年兑现承诺一项，未兑现一项。", "reported_on": "2026-12-18", "assessment": "fair",
            "assessment_note": "企业开办承诺未兑现"})
    assert reported.status_code == 200 and reported.get_json()["assessment"] == "fair"
    shown = client.get(f"/api/v1/commitment-letters/{letter['id']}", headers=h).get_json()
    assert [i["verdict"] for i in shown["items"]] == ["not_kept", "kept"]
    assert shown["items"][0]["case_id"] == opened.get_json()["case_id"]


def test_commitments_are_the_offices(client, office, make_user, login):
    liaison = login(make_user(Role.liaison))
    assert client.get("/api/v1/commitment-letters", headers=liaison).status_code == 403
    twice = client.post("/api/v1/commitment-letters", headers=office["h"], json={
        "person_id": office["heads"][0][1]["id"], "year": 2026, "title": "承诺书"})
    again = client.post("/api/v1/commitment-letters", headers=office["h"], json={
        "person_id": office["heads"][0][1]["id"], "year": 2026, "title": "承诺书"})
    assert twice.status_code == 201 and again.status_code == 422 and again.get_json()["errors"][0]["field"] == "year"
