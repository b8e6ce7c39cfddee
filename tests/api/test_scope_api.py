"""A user of one district gets 404 for another district's objects, on every endpoint that takes an id."""

import re
import uuid

import pytest

from datetime import date

from field import calendar, records
from field.models import FieldRecord, Role, utcnow


@pytest.fixture
def foreign(session, make_user, tree, login, client):
    """Objects of the other district, by the name of the URL parameter that takes their id."""
    other_user = make_user(Role.inspector, jurisdiction=tree["other"])
    headers = login(other_user)
    device = client.get("/api/v1/me/devices", headers=headers).get_json()[0]["id"]
    record = records.submit(
        session, FieldRecord, uuid.uuid4(), {"n": 1}, records.Receipt(other_user, None, None),
        lambda: FieldRecord(jurisdiction_id=tree["other"].id, device_time=utcnow())).record
    other_admin = make_user(Role.admin, jurisdiction=tree["other"])
    override = calendar.add_override(session, other_admin, day=date(2025, 12, 1), working=False)
    session.commit()
    return {"override_id": override.id, "user_id": other_user.id, "jurisdiction_id": tree["other"].id, "device_id": device,
            "record_id": record.id}


#: A valid body for the endpoints that need one, so the answer is about the id, not the body.
VALID_BODIES = {
    ("POST", "/api/v1/records/<uuid:record_id>/review"): {"state": "accepted"},
    ("POST", "/api/v1/records/<uuid:record_id>/comments"): {"body": "hello"},
}


def _id_routes(app):
    for rule in app.url_map.iter_rules():
        if "<uuid:" in rule.rule:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def test_every_id_endpoint_answers_404_for_another_districts_object(app, client, foreign, make_user, login, tree):
    headers = login(make_user(Role.admin, jurisdiction=tree["home"]))
    checked = 0
    for rule, method in _id_routes(app):
        params = re.findall(r"<uuid:(\w+)>", rule.rule)
        missing = [p for p in params if p not in foreign]
        assert not missing, f"{rule.rule}: add a foreign object for {missing} to this test"
        url = rule.rule
        for p in params:
            url = url.replace(f"<uuid:{p}>", str(foreign[p]))
        body = VALID_BODIES.get((method, rule.rule), {}) if method in ("POST", "PATCH", "PUT") else None
        resp = client.open(url, method=method, headers=headers, json=body)
        assert resp.status_code == 404, f"{method} {rule.rule} answered {resp.status_code}"
        assert resp.mimetype == "application/problem+json"
        checked += 1
    assert checked >= 5


def test_an_id_that_does_not_exist_answers_the_same_as_a_foreign_one(client, admin_headers, foreign):
    missing = client.get(f"/api/v1/users/{uuid.uuid4()}", headers=admin_headers).get_json()
    foreign_ = client.get(f"/api/v1/users/{foreign['user_id']}", headers=admin_headers).get_json()
    assert missing["detail"] == foreign_["detail"]


def test_a_street_user_sees_their_street_but_not_the_district_above(client, make_user, login, tree):
    headers = login(make_user(Role.inspector, jurisdiction=tree["home_street"]))
    assert client.get(f"/api/v1/jurisdictions/{tree['home_street'].id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/jurisdictions/{tree['home'].id}", headers=headers).status_code == 404


def test_the_jurisdiction_list_holds_the_callers_subtree_only(client, make_user, login, tree):
    headers = login(make_user(Role.reviewer, jurisdiction=tree["home"]))
    codes = [j["code"] for j in client.get("/api/v1/jurisdictions", headers=headers).get_json()["items"]]
    assert codes == ["500107", "500107001"]
