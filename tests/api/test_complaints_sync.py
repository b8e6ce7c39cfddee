"""Complaints on the handler's phone (the sync feed), the retaliation watch, and one rating per answer."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from field.complaints import handling
from field.complaints.models import Complaint, ComplaintCallback
from field.core.models.platform import Role
from tests import inspection_fixtures as inspection
from tests.directory_fixtures import fast_passwords, make_enterprise, make_unit  # noqa: F401  (fixtures)
from tests.inspection_fixtures import make_inspector  # noqa: F401  (fixture)

NAME, PHONE = "王投诉人", "13912345678"


@pytest.fixture
def office(app, tree, make_user, login, make_unit, session):
    app.config["COMPLAINTS_JURISDICTION"] = tree["home"].code
    app.config["OFFICE_DATE"] = date(2026, 5, 11)
    admin, reviewer, operator = make_user(Role.admin), make_user(Role.reviewer), make_user(Role.operator)
    handler, stranger = make_user(Role.handler), make_user(Role.handler)
    unit, other_unit = make_unit("区市场监督管理局"), make_unit("区住建委")
    handling.assign_handler(session, admin, handler.id, unit.id)
    handling.assign_handler(session, admin, stranger.id, other_unit.id)
    session.commit()
    return {"admin_user": admin, "handler_user": handler, "admin": login(admin), "reviewer": login(reviewer),
            "operator": login(operator), "handler": login(handler), "stranger": login(stranger),
            "inspector": login(make_user(Role.inspector)), "unit": unit, "other_unit": other_unit}


def _ok(resp, status=200):
    assert resp.status_code == status, resp.get_json()
    return resp.get_json()


def _dispatched(client, office, unit=None, **body):
    cid = _ok(client.post("/api/v1/complaints", headers=office["operator"], json={
        "category": "obstruction", "text": "窗口推诿，让跑三次。", "caller_name": NAME, "callback_number": PHONE,
        **body}), 201)["id"]
    _ok(client.post(f"/api/v1/complaints/{cid}/triage", headers=office["reviewer"], json={"decision": "accept"}))
    _ok(client.post(f"/api/v1/complaints/{cid}/dispatch", headers=office["reviewer"],
                    json={"unit_id": str((unit or office["unit"]).id)}))
    return cid


def _sync(client, headers, cursor=None):
    delta = _ok(client.get("/api/v1/sync", headers=headers, query_string={"cursor": cursor} if cursor else {}))
    return {(c["entity"], c["id"]): c for c in delta["changes"] if c["entity"] == "complaint"}, delta["cursor"]


# -- sync -----------------------------------------------------------------------------------------------------


def test_a_handlers_phone_gets_its_units_dispatched_complaints_without_who_complained(client, office):
    waiting = _ok(client.post("/api/v1/complaints", headers=office["operator"], json={
        "category": "other", "text": "尚未分派", "unit_id": str(office["unit"].id)}), 201)["id"]
    cid = _dispatched(client, office)
    elsewhere = _dispatched(client, office, unit=office["other_unit"])

    got, cursor = _sync(client, office["handler"])
    assert set(got) == {("complaint", cid)}  # not the undispatched one, nor another unit's
    entry = got[("complaint", cid)]
    assert entry["op"] == "upsert" and entry["data"]["state"] == "dispatched"
    assert entry["data"]["answer_due"] == "2026-05-18"
    raw = str(entry)
    assert NAME not in raw and PHONE not in raw and "anonymous" not in raw and "callbacks" not in raw
    assert set(_sync(client, office["stranger"])[0]) == {("complaint", elsewhere)}
    assert waiting not in str(_sync(client, office["inspector"])[0])
    assert _sync(client, office["handler"], cursor)[0] == {}  # nothing new

    _ok(client.post(f"/api/v1/complaints/{cid}/answer", headers=office["handler"],
                    json={"text": "已办结", "resolved": True}))
    got, cursor = _sync(client, office["handler"], cursor)
    assert got[("complaint", cid)]["data"]["state"] == "answered"
    assert [a["text"] for a in got[("complaint", cid)]["data"]["answers"]] == ["已办结"]
    _ok(client.post(f"/api/v1/complaints/{cid}/callbacks", headers=office["operator"],
                    json={"reached": True, "resolved": False, "rating": "dissatisfied"}))
    got, cursor = _sync(client, office["handler"], cursor)
    reopened = got[("complaint", cid)]["data"]
    assert (reopened["state"], reopened["round"]) == ("dispatched", 2)
    assert "rating" not in reopened  # how the complainant judged the unit stays with the office


def test_a_handler_moved_to_another_unit_drops_the_old_units_complaints_and_gets_the_new_ones(
        client, office, session):
    ours, theirs = _dispatched(client, office), _dispatched(client, office, unit=office["other_unit"])
    got, cursor = _sync(client, office["handler"])
    assert set(got) == {("complaint", ours)}
    _ok(client.put(f"/api/v1/complaint-handlers/{office['handler_user'].id}", headers=office["admin"],
                   json={"unit_id": str(office["other_unit"].id)}))
    got, _cursor = _sync(client, office["handler"], cursor)
    assert {k: v["op"] for k, v in got.items()} == {("complaint", ours): "delete", ("complaint", theirs): "upsert"}


# -- the retaliation watch ---------------------------------------------------------------------------------------


@pytest.fixture
def inspect(session, make_inspector, office):
    """``inspect(enterprise, day, unit=office's unit)``: the unit's inspector records an inspection on ``day``."""
    inspectors = {}

    def run(enterprise, day: date, unit=None):
        unit = unit or office["unit"]
        if unit.id not in inspectors:
            inspectors[unit.id] = make_inspector(unit)
        inspection.record(session, inspectors[unit.id], inspection.inspection_body(enterprise, day=day))
    return run


def _watched(client, office) -> list[str]:
    return [c["id"] for c in _ok(client.get("/api/v1/complaints/retaliation-watch",
                                            headers=office["reviewer"]))["items"]]


@pytest.mark.parametrize("days_after, flagged", [(0, True), (90, True), (91, False), (-1, False)])
def test_an_inspection_of_the_complaining_enterprise_by_the_unit_within_90_days_is_flagged(
        client, office, make_enterprise, inspect, days_after, flagged):
    enterprise = make_enterprise(at=inspection.SITE)
    cid = _dispatched(client, office, enterprise_id=str(enterprise.id))  # received on 2026-05-11
    inspect(enterprise, date(2026, 5, 11) + timedelta(days=days_after))
    assert _watched(client, office) == ([cid] if flagged else [])
    assert _ok(client.get(f"/api/v1/complaints/{cid}", headers=office["reviewer"]))["retaliation_flag"] is flagged
    # Never shown to the unit; an operator neither sees the flag nor the watch.
    assert "retaliation_flag" not in _ok(client.get(f"/api/v1/complaints/{cid}", headers=office["handler"]))
    assert _ok(client.get(f"/api/v1/complaints/{cid}", headers=office["operator"]))["retaliation_flag"] is False
    assert client.get("/api/v1/complaints/retaliation-watch", headers=office["operator"]).status_code == 403


def test_the_watch_needs_the_unit_complained_about_and_the_enterprise_that_complained(
        client, office, make_enterprise, inspect):
    complaining, other = make_enterprise(at=inspection.SITE), make_enterprise(at=inspection.SITE)
    by_enterprise = _dispatched(client, office, enterprise_id=str(complaining.id))
    _dispatched(client, office)  # a citizen's complaint: no enterprise to watch
    inspect(other, date(2026, 5, 20))  # the unit inspects another enterprise
    inspect(complaining, date(2026, 5, 20), unit=office["other_unit"])  # another unit inspects it
    assert _watched(client, office) == []
    inspect(complaining, date(2026, 6, 1))
    assert _watched(client, office) == [by_enterprise]


# -- one rating per answer --------------------------------------------------------------------------------------


def test_an_answer_is_rated_once_even_by_two_requests_at_the_same_moment(client, office, session, app):
    filed = _ok(client.post("/api/v1/public/complaints", json={"category": "other", "text": "窗口推诿"}), 201)
    number, secret = filed["tracking_number"], filed["secret"]
    complaint = session.execute(select(Complaint).where(Complaint.tracking_number == number)).scalar_one()
    cid = str(complaint.id)
    _ok(client.post(f"/api/v1/complaints/{cid}/triage", headers=office["reviewer"], json={"decision": "accept"}))
    _ok(client.post(f"/api/v1/complaints/{cid}/dispatch", headers=office["reviewer"],
                    json={"unit_id": str(office["unit"].id)}))
    _ok(client.post(f"/api/v1/complaints/{cid}/answer", headers=office["handler"], json={"text": "已办", "resolved": True}))
    rate = {"tracking_number": number, "secret": secret, "rating": "satisfied", "resolved": True}
    _ok(client.post("/api/v1/public/complaints/rate", json=rate))
    twice = client.post("/api/v1/public/complaints/rate", json={**rate, "rating": "dissatisfied"})
    assert twice.status_code == 409 and twice.mimetype == "application/problem+json"
    late_callback = client.post(f"/api/v1/complaints/{cid}/callbacks", headers=office["operator"],
                                json={"reached": True, "rating": "dissatisfied", "resolved": False})
    assert late_callback.status_code == 409

    # The database keeps the rule too: a second rating of the same round, written past the state check (two
    # requests that both read "answered"), is refused and leaves the first.
    session.expire_all()
    complaint = session.get(Complaint, complaint.id)
    complaint.state = handling.State.answered  # as the second request saw it
    session.flush()
    with pytest.raises(handling.Conflict):
        handling.rate(session, complaint, rating="dissatisfied", resolved=False, text="", today=date(2026, 5, 11))
    ratings = session.execute(select(ComplaintCallback.rating).where(
        ComplaintCallback.complaint_id == complaint.id)).scalars().all()
    assert [r.value for r in ratings] == ["satisfied"]
