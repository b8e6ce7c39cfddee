"""Complaints through the API: the hotline and the mailbox walk the whole work order; identities stay apart."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from field.complaints import handling
from field.complaints.models import Complaint, ComplaintContact
from field.core.models.platform import Role
from tests.authz_kinds import KindAuthz
from tests.directory_fixtures import fast_passwords, make_unit  # noqa: F401  (fixtures)

PROBLEM = "application/problem+json"
NAME, PHONE = "王投诉人", "13912345678"


@pytest.fixture
def office(app, tree, make_user, login, make_unit, session):
    """An operator, a reviewer, an admin, a unit with its handler and another unit's handler."""
    app.config["COMPLAINTS_JURISDICTION"] = tree["home"].code
    app.config["OFFICE_DATE"] = date(2026, 5, 11)  # a Monday
    admin, reviewer, operator = make_user(Role.admin), make_user(Role.reviewer), make_user(Role.operator)
    handler, stranger = make_user(Role.handler), make_user(Role.handler)
    unit, other_unit = make_unit("区市场监督管理局"), make_unit("区住建委")
    handling.assign_handler(session, admin, handler.id, unit.id)
    handling.assign_handler(session, admin, stranger.id, other_unit.id)
    session.commit()
    return {"admin": login(admin), "reviewer": login(reviewer), "operator": login(operator),
            "handler": login(handler), "stranger": login(stranger), "inspector": login(make_user(Role.inspector)),
            "unit": unit, "other_unit": other_unit}


def _call(**extra):
    return {"category": "obstruction", "text": "办理营业执照时窗口工作人员推诿，让跑三次。", "caller_name": NAME,
            "callback_number": PHONE, "anonymous": True,
            "location": {"type": "Point", "coordinates": [106.52, 29.51]}, **extra}


def _post(client, url, headers, body=None, expect=200):
    resp = client.post(url, json=body or {}, headers=headers)
    assert resp.status_code == expect, resp.get_json()
    return resp.get_json()


def test_a_hotline_call_walks_triage_dispatch_answer_callback_and_rating(client, office, app):
    receipt = _post(client, "/api/v1/complaints", office["operator"], _call(), 201)
    assert receipt["tracking_number"].startswith("TS20260511-") and len(receipt["secret"]) >= 20
    cid = receipt["id"]
    url = f"/api/v1/complaints/{cid}"
    assert client.get(url, headers=office["operator"]).get_json()["state"] == "received"

    accepted = _post(client, f"{url}/triage", office["reviewer"], {"decision": "accept"})
    assert accepted["state"] == "accepted"
    dispatched = _post(client, f"{url}/dispatch", office["reviewer"], {"unit_id": str(office["unit"].id)})
    # obstruction: response within 1 working day, answer within 5 (Mon 11 May → Tue 12, Mon 18).
    assert (dispatched["state"], dispatched["response_due"], dispatched["answer_due"]) == (
        "dispatched", "2026-05-12", "2026-05-18")

    app.config["OFFICE_DATE"] = date(2026, 5, 12)
    seen = client.get(url, headers=office["handler"])
    assert seen.status_code == 200 and seen.get_json()["text"].startswith("办理营业执照")
    responded = _post(client, f"{url}/respond", office["handler"])
    assert responded["responded_on"] == "2026-05-12" and "channel" not in responded
    app.config["OFFICE_DATE"] = date(2026, 5, 14)
    answered = _post(client, f"{url}/answer", office["handler"], {"text": "已约谈窗口人员并当场办结。", "resolved": True})
    assert answered["state"] == "answered" and [a["text"] for a in answered["answers"]] == ["已约谈窗口人员并当场办结。"]

    called = _post(client, f"{url}/callbacks", office["operator"],
                   {"reached": True, "resolved": True, "rating": "basically_satisfied", "text": "基本满意"})
    assert (called["state"], called["rating"], called["resolved"], called["closed_on"]) == (
        "closed", "basically_satisfied", True, "2026-05-14")
    assert called["handling_working_days"] == 3


def test_the_mailbox_walks_the_same_and_a_dissatisfied_rating_reopens_it(client, office, app):
    receipt = _post(client, "/api/v1/public/complaints", {}, {
        "category": "rude_service", "text": "窗口态度恶劣", "contact": PHONE, "unit_id": str(office["unit"].id)}, 201)
    number, secret = receipt["tracking_number"], receipt["secret"]
    cid = client.get("/api/v1/complaints", headers=office["reviewer"]).get_json()["items"][0]["id"]
    url = f"/api/v1/complaints/{cid}"
    _post(client, f"{url}/triage", office["reviewer"], {"decision": "accept"})
    _post(client, f"{url}/dispatch", office["reviewer"], {"unit_id": str(office["unit"].id)})
    _post(client, f"{url}/answer", office["handler"], {"text": "已批评教育。", "resolved": True})

    follow = {"tracking_number": number, "secret": secret}
    status = _post(client, "/api/v1/public/complaints/follow", {}, follow)
    assert (status["state"], status["answers"], status["may_rate"]) == ("answered", ["已批评教育。"], True)
    wrong = client.post("/api/v1/public/complaints/follow", json={**follow, "secret": "x" * 24})
    assert wrong.status_code == 404 and wrong.mimetype == PROBLEM

    reopened = _post(client, "/api/v1/public/complaints/rate", {}, {**follow, "rating": "dissatisfied",
                                                                     "resolved": False, "text": "没有解决"})
    assert (reopened["state"], reopened["may_rate"]) == ("dispatched", False)
    again = client.get(url, headers=office["reviewer"]).get_json()
    assert (again["round"], again["state"], again["rating"]) == (2, "dispatched", "dissatisfied")
    _post(client, f"{url}/answer", office["handler"], {"text": "已退还费用并道歉。", "resolved": True})
    rated = _post(client, "/api/v1/public/complaints/rate", {}, {**follow, "rating": "satisfied", "resolved": True})
    assert rated["state"] == "closed" and rated["answers"] == ["已批评教育。", "已退还费用并道歉。"]


def test_one_call_escalates_a_complaint_to_a_case_that_keeps_it_as_its_source(client, office, session):
    cid = _post(client, "/api/v1/complaints", office["operator"], _call(unit_id=str(office["unit"].id)), 201)["id"]
    case = _post(client, f"/api/v1/complaints/{cid}/escalate", office["reviewer"], {"kind": "work_style"}, 201)
    detail = client.get(f"/api/v1/cases/{case['id']}", headers=office["reviewer"]).get_json()
    assert detail["complaint"]["channel"] == "phone" and detail["complainant_on_file"] is True
    assert [s["unit"]["id"] for s in detail["subjects"]] == [str(office["unit"].id)]
    assert client.get(f"/api/v1/complaints/{cid}", headers=office["reviewer"]).get_json()["case_id"] == case["id"]
    twice = client.post(f"/api/v1/complaints/{cid}/escalate", json={}, headers=office["reviewer"])
    assert twice.status_code == 409 and twice.mimetype == PROBLEM


def test_the_handler_never_sees_who_complained_nor_another_units_complaints(client, office):
    cid = _post(client, "/api/v1/complaints", office["operator"], _call(), 201)["id"]
    url = f"/api/v1/complaints/{cid}"
    assert client.get(url, headers=office["handler"]).status_code == 404  # not dispatched yet
    _post(client, f"{url}/triage", office["reviewer"], {"decision": "accept"})
    _post(client, f"{url}/dispatch", office["reviewer"], {"unit_id": str(office["unit"].id)})
    for resp in (client.get(url, headers=office["handler"]), client.get("/api/v1/complaints", headers=office["handler"])):
        text = resp.get_data(as_text=True)
        assert resp.status_code == 200 and NAME not in text and PHONE not in text
        assert "anonymous" not in text and "contact_on_file" not in text and "callbacks" not in text
    assert client.get(url, headers=office["stranger"]).status_code == 404
    assert client.get("/api/v1/complaints", headers=office["stranger"]).get_json()["items"] == []
    assert client.get(url, headers=office["inspector"]).status_code == 403
    refused = client.post(f"{url}/contact", json={"reason": "回访"}, headers=office["handler"])
    assert refused.status_code == 403
    shown = _post(client, f"{url}/contact", office["operator"], {"reason": "回访"})
    assert (shown["name"], shown["contact"], shown["anonymous"]) == (NAME, PHONE, True)


def test_bad_input_names_the_field_and_leaves_nothing_half_written(client, office, session):
    before = session.execute(select(func.count()).select_from(Complaint)).scalar_one()
    for body, field in (({**_call(), "category": "nonsense"}, "category"), ({**_call(), "text": "   "}, "text"),
                        ({**_call(), "unit_id": str(uuid.uuid4())}, "unit_id"),
                        ({**_call(), "location": {"type": "Point", "coordinates": [500, 29]}}, "location")):
        resp = client.post("/api/v1/complaints", json=body, headers=office["operator"])
        assert resp.status_code == 422 and resp.mimetype == PROBLEM, body
        assert field in {e["field"].split(".")[0] for e in resp.get_json()["errors"]}, resp.get_json()
    assert session.execute(select(func.count()).select_from(Complaint)).scalar_one() == before
    assert session.execute(select(func.count()).select_from(ComplaintContact)).scalar_one() == 0
    cid = _post(client, "/api/v1/complaints", office["operator"], _call(), 201)["id"]
    early = client.post(f"/api/v1/complaints/{cid}/dispatch", json={"unit_id": str(office["unit"].id)},
                        headers=office["reviewer"])
    assert early.status_code == 409 and early.get_json()["allowed"] == ["accepted"]
    reject = client.post(f"/api/v1/complaints/{cid}/triage", json={"decision": "reject"}, headers=office["reviewer"])
    assert reject.status_code == 422 and reject.get_json()["errors"][0]["field"] == "reason"


def test_duplicates_are_suggested_and_merged(client, office):
    first = _post(client, "/api/v1/complaints", office["operator"], _call(unit_id=str(office["unit"].id)), 201)["id"]
    second = _post(client, "/api/v1/complaints", office["operator"], _call(
        text="窗口工作人员推诿，办理营业执照跑了三次", unit_id=str(office["unit"].id)), 201)["id"]
    found = client.get(f"/api/v1/complaints/{second}/duplicates", headers=office["reviewer"]).get_json()
    assert found[0]["complaint"]["id"] == first
    assert {"same_unit", "nearby", "similar_text"} <= set(found[0]["reasons"])
    merged = _post(client, f"/api/v1/complaints/{second}/triage", office["reviewer"],
                   {"decision": "merge", "duplicate_of": first})
    assert (merged["state"], merged["duplicate_of_id"]) == ("merged", first)


def test_the_limits_are_configurable_per_category(client, office):
    limits = {t["category"]: t for t in client.get("/api/v1/complaint-time-limits",
                                                     headers=office["reviewer"]).get_json()}
    assert (limits["obstruction"]["response_days"], limits["obstruction"]["answer_days"]) == (1, 5)
    changed = client.put("/api/v1/complaint-time-limits", json={"category": "obstruction", "response_days": 2,
                                                                 "answer_days": 3}, headers=office["admin"])
    assert changed.status_code == 200 and changed.get_json()["answer_days"] == 3
    assert client.put("/api/v1/complaint-time-limits", json={"category": "obstruction", "answer_days": 3},
                      headers=office["reviewer"]).status_code == 403
    cid = _post(client, "/api/v1/complaints", office["operator"], _call(), 201)["id"]
    _post(client, f"/api/v1/complaints/{cid}/triage", office["reviewer"], {"decision": "accept"})
    out = _post(client, f"/api/v1/complaints/{cid}/dispatch", office["reviewer"], {"unit_id": str(office["unit"].id)})
    assert (out["response_due"], out["answer_due"]) == ("2026-05-13", "2026-05-14")


def test_public_bodies_are_small_and_filings_are_rate_limited_per_contact_and_address(client, office, app):
    app.config.update(PUBLIC_COMPLAINT_LIMIT_PER_CONTACT="2 per hour", PUBLIC_COMPLAINT_LIMIT_PER_ADDRESS="4 per hour")
    big = client.post("/api/v1/public/complaints", json={"category": "other", "text": "长" * 40000})
    assert big.status_code == 413 and big.mimetype == PROBLEM
    body = {"category": "other", "text": "又来投诉", "contact": "139-1234-5678"}
    # The same number written otherwise is the same contact.
    assert [client.post("/api/v1/public/complaints", json={**body, "contact": contact}).status_code
            for contact in ("139-1234-5678", "13912345678", "+86 139 1234 5678")] == [201, 201, 429]
    statuses = [client.post("/api/v1/public/complaints", json={"category": "other", "text": "匿名"}).status_code
                for _ in range(4)]
    assert statuses.count(201) <= 2 and statuses[-1] == 429


# -- the complaints' share of the authorization matrix (tests/authz_kinds.py ``AREAS``) -----------------------


def _build(builder):
    from field.complaints import intake

    s, w = builder.s, builder.w
    for side in ("home", "foreign"):
        d = w.extra[side]
        complaint = intake.record_call(s, d["admin"], {"category": "obstruction", "text": f"{side}推诿",
                                                       "name": "张三", "contact": "13900000000"}).complaint
        w.ids[("complaint_id", "own" if side == "home" else "foreign")] = complaint.id
        handler = builder.user(f"{side}_handler", Role.handler, d["j"])
        w.ids[("handler_id", "own" if side == "home" else "foreign")] = handler.id
    receipt = intake.file_public(s, w.extra["home"]["j"], {"category": "other", "text": "公众投诉"})
    w.extra["public_receipt"] = (receipt.tracking_number, receipt.secret)


def _unit(w):
    return str(w.extra["home"]["unit_a"].id)


def _address(role):
    """A client address per role: the public doors' per-address budget is not what the matrix tests."""
    return {"REMOTE_ADDR": f"10.0.0.{list(Role).index(role) + 1}"}


def _follow(w):
    number, secret = w.extra["public_receipt"]
    return {"tracking_number": number, "secret": secret}


def _photo_form(w):
    import io

    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    from tests.web_fixtures import GPS_PHOTO

    boundary, body = encode_multipart({**_follow(w), "file": FileStorage(io.BytesIO(GPS_PHOTO.read_bytes()),
                                                                          "IMG_0001.jpg")})
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


_OFFICE_ONLY = ("A..4", "A..4", "3..3", "3..3", "3..3", "3..3")
_NOBODY_HERE = ("3..3",) * 6

AUTHZ = KindAuthz(
    # complaint_id: own = a complaint of the home district (received), foreign = the other district's.
    # Cells: admin, reviewer, inspector, squad_member, liaison, leader (operators and handlers: the tests above).
    policy={
        "GET /api/v1/complaints": ("L+..-", "L+..-", "3", "3", "3", "3"),
        "POST /api/v1/complaints": ("A", "A", "3", "3", "3", "3"),
        "GET /api/v1/complaints/{complaint_id}": _OFFICE_ONLY,
        "GET /api/v1/complaints/{complaint_id}/duplicates": _OFFICE_ONLY,
        "POST /api/v1/complaints/{complaint_id}/triage": _OFFICE_ONLY,
        "POST /api/v1/complaints/{complaint_id}/dispatch": ("C..4", "C..4", "3..3", "3..3", "3..3", "3..3"),
        "POST /api/v1/complaints/{complaint_id}/respond": _NOBODY_HERE,
        "POST /api/v1/complaints/{complaint_id}/answer": _NOBODY_HERE,
        "POST /api/v1/complaints/{complaint_id}/callbacks": ("C..4", "C..4", "3..3", "3..3", "3..3", "3..3"),
        "POST /api/v1/complaints/{complaint_id}/escalate": _OFFICE_ONLY,
        "POST /api/v1/complaints/{complaint_id}/contact": _OFFICE_ONLY,
        "GET /api/v1/complaints/retaliation-watch": ("A", "A", "3", "3", "3", "3"),
        "GET /api/v1/complaint-time-limits": ("A", "A", "3", "3", "3", "3"),
        "PUT /api/v1/complaint-time-limits": ("A", "3", "3", "3", "3", "3"),
        "PUT /api/v1/complaint-handlers/{handler_id}": ("A..4", "3..3", "3..3", "3..3", "3..3", "3..3"),
        "POST /api/v1/public/complaints": ("A",) * 6,
        "POST /api/v1/public/complaints/follow": ("A",) * 6,
        "POST /api/v1/public/complaints/rate": ("C",) * 6,  # not answered yet: nothing to rate
        "POST /api/v1/public/complaints/photos": ("A",) * 6,  # waiting for triage: the same photo, kept once
    },
    listed={"GET /api/v1/complaints": "complaint_id"},
    build=_build,
    requests={
        ("POST", "/api/v1/complaints"): lambda w, role, rel: {"json": _call()},
        ("POST", "/api/v1/complaints/{complaint_id}/triage"): lambda w, role, rel: {"json": {"decision": "accept"}},
        ("POST", "/api/v1/complaints/{complaint_id}/dispatch"): lambda w, role, rel: {"json": {"unit_id": _unit(w)}},
        ("POST", "/api/v1/complaints/{complaint_id}/answer"): lambda w, role, rel: {
            "json": {"text": "已处理", "resolved": True}},
        ("POST", "/api/v1/complaints/{complaint_id}/callbacks"): lambda w, role, rel: {"json": {"reached": False}},
        ("POST", "/api/v1/complaints/{complaint_id}/contact"): lambda w, role, rel: {"json": {"reason": "回访"}},
        ("PUT", "/api/v1/complaint-time-limits"): lambda w, role, rel: {
            "json": {"category": "obstruction", "answer_days": 7}},
        ("PUT", "/api/v1/complaint-handlers/{handler_id}"): lambda w, role, rel: {"json": {"unit_id": _unit(w)}},
        ("POST", "/api/v1/public/complaints"): lambda w, role, rel: {
            "json": {"category": "other", "text": "公众投诉", "jurisdiction_code": "500107"},
            "environ_base": _address(role)},
        ("POST", "/api/v1/public/complaints/follow"): lambda w, role, rel: {"json": _follow(w),
                                                                            "environ_base": _address(role)},
        ("POST", "/api/v1/public/complaints/rate"): lambda w, role, rel: {
            "json": {**_follow(w), "rating": "satisfied"}, "environ_base": _address(role)},
        ("POST", "/api/v1/public/complaints/photos"): lambda w, role, rel: {
            **_photo_form(w), "environ_base": _address(role)},
    })
