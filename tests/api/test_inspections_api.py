"""Inspection filings, compulsory measures, inspection records and the unfiled list, through the API."""

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from field.core import calendar
from field.core.office import office_today
from field.records import lifecycle as records
from field.core.crs import from_wgs84
from field.core.models.records import FieldRecord
from field.core.models.platform import Role
from tests.directory_fixtures import make_enterprise, make_unit  # noqa: F401 (fixtures)
from tests.inspection_fixtures import (  # noqa: F401 (fixtures)
    SITE,
    bureau,
    enterprise,
    inspector,
    make_inspector,
    receipt,
    reviewer,
)

PROBLEM = "application/problem+json"


def _today() -> date:
    return office_today()


def _filing(enterprise, **overrides) -> dict:
    """An annual-plan filing from today to the end of the year: no notice needed, covers today."""
    today = _today()
    body = {"id": str(uuid.uuid4()), "device_time": datetime.now(timezone.utc).isoformat(),
            "filing_kind": "annual_plan", "enterprise_ids": [str(enterprise.id)],
            "purpose": "核查食品经营许可及进货查验记录", "legal_basis": "《食品安全法》第一百一十条",
            "planned_start": today.isoformat(), "planned_end": date(today.year, 12, 31).isoformat()}
    body.update(overrides)
    return body


def _inspection(enterprise, *, at=SITE, crs="wgs84", accuracy=8.0, **overrides) -> dict:
    body = {"id": str(uuid.uuid4()), "device_time": datetime.now(timezone.utc).isoformat(),
            "enterprise_id": str(enterprise.id),
            "location": {"type": "Point", "coordinates": list(at), "crs": crs, "accuracy_m": accuracy},
            "checked": "食品经营许可证、进货查验记录", "found": "", "measure": "none"}
    body.update(overrides)
    return body


@pytest.fixture
def inspector_headers(login, inspector):
    return login(inspector)


@pytest.fixture
def office_headers(login, reviewer):
    return login(reviewer)


def _accept(client, headers, record_id):
    resp = client.post(f"/api/v1/records/{record_id}/review", headers=headers, json={"state": "accepted",
                                                                                      "comment": "同意"})
    assert resp.status_code == 200, resp.get_json()


# -- inspectors' units ------------------------------------------------------------------------------


def test_an_admin_assigns_an_inspector_to_a_unit_and_the_inspector_reads_it(
        client, admin_headers, make_user, login, bureau):
    user = make_user(Role.inspector)
    headers = login(user)
    assert client.get("/api/v1/me/inspector-unit", headers=headers).status_code == 404
    resp = client.put(f"/api/v1/inspectors/{user.id}/unit", headers=admin_headers, json={"unit_id": str(bureau.id)})
    assert resp.status_code == 200 and resp.get_json()["unit"]["name"] == bureau.name
    assert client.get("/api/v1/me/inspector-unit", headers=headers).get_json()["unit"]["id"] == str(bureau.id)
    assert client.get(f"/api/v1/inspectors/{user.id}/unit", headers=admin_headers).status_code == 200
    assert client.put(f"/api/v1/inspectors/{user.id}/unit", headers=headers,
                      json={"unit_id": str(bureau.id)}).status_code == 403
    bad = client.put(f"/api/v1/inspectors/{user.id}/unit", headers=admin_headers, json={"unit_id": str(uuid.uuid4())})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "unit_id"
    assert client.delete(f"/api/v1/inspectors/{user.id}/unit", headers=admin_headers).status_code == 204
    assert client.get("/api/v1/me/inspector-unit", headers=headers).status_code == 404


# -- filings ----------------------------------------------------------------------------------------


def test_a_filing_is_created_once_answered_again_with_200_and_another_body_under_its_id_is_409(
        client, inspector_headers, enterprise, bureau):
    body = _filing(enterprise)
    first = client.post("/api/v1/inspection-filings", headers=inspector_headers, json=body)
    assert first.status_code == 201, first.get_json()
    again = client.post("/api/v1/inspection-filings", headers=inspector_headers, json=dict(reversed(body.items())))
    assert again.status_code == 200 and again.get_json() == first.get_json()
    filing = first.get_json()
    assert (filing["kind"], filing["unit_id"], filing["review_state"], filing["covering"]) == (
        "filing", str(bureau.id), "submitted", False)
    assert filing["enterprises"][0]["credit_code"] == enterprise.credit_code
    other = client.post("/api/v1/inspection-filings", headers=inspector_headers, json={**body, "purpose": "别的"})
    assert other.status_code == 409 and other.mimetype == PROBLEM


def test_an_ad_hoc_filing_too_soon_is_422_on_planned_start_with_the_earliest_allowed_day(
        client, session, inspector_headers, enterprise, tree):
    earliest = calendar.calendar_for(session, tree["home"]).earliest_date_after_notice(_today(), 5)
    early = _filing(enterprise, filing_kind="ad_hoc", planned_start=(earliest - timedelta(days=1)).isoformat(),
                    planned_end=(earliest + timedelta(days=3)).isoformat())
    resp = client.post("/api/v1/inspection-filings", headers=inspector_headers, json=early)
    problem = resp.get_json()
    assert resp.status_code == 422 and resp.mimetype == PROBLEM
    assert problem["errors"][0]["field"] == "planned_start" and problem["earliest"] == earliest.isoformat()
    on_time = {**early, "planned_start": earliest.isoformat()}
    assert client.post("/api/v1/inspection-filings", headers=inspector_headers, json=on_time).status_code == 201


def test_bad_filing_input_is_refused_naming_the_field(client, inspector_headers, enterprise):
    for overrides, field in (({"colour": "red"}, "colour"), ({"purpose": "   "}, "purpose"),
                             ({"filing_kind": "whenever"}, "filing_kind"), ({"enterprise_ids": []}, "enterprise_ids"),
                             ({"enterprise_ids": [str(uuid.uuid4())]}, "enterprise_ids.0")):
        resp = client.post("/api/v1/inspection-filings", headers=inspector_headers, json=_filing(enterprise,
                                                                                                 **overrides))
        assert resp.status_code == 422, (overrides, resp.get_json())
        assert [e["field"] for e in resp.get_json()["errors"]] == [field]


def test_the_filer_amends_a_filing_the_office_asked_about_and_it_goes_back_to_the_queue(
        client, inspector_headers, office_headers, enterprise):
    filing = client.post("/api/v1/inspection-filings", headers=inspector_headers, json=_filing(enterprise)).get_json()
    assert client.post(f"/api/v1/records/{filing['id']}/review", headers=office_headers,
                       json={"state": "needs_info", "comment": "检查依据不全"}).status_code == 200
    amended = {k: v for k, v in _filing(enterprise).items() if k != "id"}
    amended.update(legal_basis="《食品安全法》第一百一十条、第一百一十四条", amendment_note="已补充依据")
    resp = client.put(f"/api/v1/inspection-filings/{filing['id']}", headers=inspector_headers, json=amended)
    assert resp.status_code == 200, resp.get_json()
    assert (resp.get_json()["version"], resp.get_json()["review_state"]) == (2, "submitted")
    assert client.put(f"/api/v1/inspection-filings/{filing['id']}", headers=office_headers,
                      json=amended).status_code == 404  # only the filer amends


# -- inspection records and the unfiled list -------------------------------------------------------


def test_an_inspection_under_an_approved_filing_is_covered_and_one_without_is_in_the_unfiled_list(
        client, session, inspector_headers, office_headers, enterprise, make_user, tree):
    filing = client.post("/api/v1/inspection-filings", headers=inspector_headers, json=_filing(enterprise)).get_json()
    early = client.post("/api/v1/inspection-records", headers=inspector_headers,
                        json=_inspection(enterprise, filing_id=filing["id"])).get_json()
    assert early["flags"] == ["unfiled"] and early["covering_filing_id"] is None
    other_kind = records.submit(  # a liaison's report or any other kind flagged unfiled is listed too
        session, FieldRecord, uuid.uuid4(), {"n": 1}, receipt(make_user(Role.liaison)),
        lambda: FieldRecord(jurisdiction_id=tree["home"].id, device_time=datetime.now(timezone.utc),
                            flag_unfiled=True)).record
    elsewhere = records.submit(
        session, FieldRecord, uuid.uuid4(), {"n": 2}, receipt(make_user(Role.liaison, jurisdiction=tree["other"])),
        lambda: FieldRecord(jurisdiction_id=tree["other"].id, device_time=datetime.now(timezone.utc),
                            flag_unfiled=True)).record
    session.commit()
    listed = client.get("/api/v1/unfiled-inspections", headers=office_headers).get_json()["items"]
    assert [r["id"] for r in listed] == [str(other_kind.id), early["id"]]
    assert listed[1]["enterprise_id"] == str(enterprise.id) and listed[0]["enterprise_id"] is None
    assert str(elsewhere.id) not in {r["id"] for r in listed}

    _accept(client, office_headers, filing["id"])  # approved late: the record is covered from now on
    later = client.post("/api/v1/inspection-records", headers=inspector_headers,
                        json=_inspection(enterprise)).get_json()
    assert later["flags"] == [] and later["covering_filing_id"] == filing["id"]
    refreshed = client.get(f"/api/v1/inspection-records/{early['id']}", headers=inspector_headers).get_json()
    assert refreshed["flags"] == [] and refreshed["covering_filing_id"] == filing["id"]
    listed = client.get("/api/v1/unfiled-inspections?kind=inspection", headers=office_headers).get_json()["items"]
    assert listed == []
    assert client.get("/api/v1/unfiled-inspections", headers=inspector_headers).status_code == 403


def test_the_unfiled_list_and_the_inspection_list_answer_geojson_in_the_crs_asked_for(
        client, inspector_headers, office_headers, enterprise):
    client.post("/api/v1/inspection-records", headers=inspector_headers, json=_inspection(enterprise))
    resp = client.get("/api/v1/unfiled-inspections?format=geojson&crs=gcj02", headers=office_headers)
    assert resp.status_code == 200 and resp.mimetype == "application/geo+json"
    (feature,) = resp.get_json()["features"]
    assert feature["geometry"]["coordinates"] == pytest.approx(list(from_wgs84(*SITE, "gcj02")), abs=1e-6)
    assert feature["properties"]["location_crs"] == "gcj02"
    listed = client.get("/api/v1/inspection-records", headers=inspector_headers,
                        query_string={"flag": "unfiled"}).get_json()["items"]
    assert listed[0]["location"]["coordinates"] == pytest.approx(list(SITE), abs=1e-6)


def test_a_check_in_far_from_the_enterprise_is_flagged_and_one_sent_in_gcj02_is_converted_first(
        client, inspector_headers, enterprise):
    gcj = from_wgs84(*SITE, "gcj02")
    as_gcj = client.post("/api/v1/inspection-records", headers=inspector_headers,
                         json=_inspection(enterprise, at=gcj, crs="gcj02")).get_json()
    as_gps = client.post("/api/v1/inspection-records", headers=inspector_headers,
                         json=_inspection(enterprise, at=gcj)).get_json()
    assert "far_from_target" not in as_gcj["flags"] and as_gcj["distance_m"] < 1
    assert "far_from_target" in as_gps["flags"] and as_gps["distance_m"] > 400


def test_the_far_threshold_is_configurable(app, client, inspector_headers, enterprise):
    app.config["FAR_FROM_TARGET_M"] = 1000.0
    gcj = from_wgs84(*SITE, "gcj02")
    resp = client.post("/api/v1/inspection-records", headers=inspector_headers, json=_inspection(enterprise, at=gcj))
    assert "far_from_target" not in resp.get_json()["flags"]


def test_a_fine_is_exact_whether_sent_as_a_string_or_a_number_and_fractions_of_a_fen_are_refused(
        client, inspector_headers, enterprise):
    body = _inspection(enterprise, measure="fine", fine_amount="5000.00")
    first = client.post("/api/v1/inspection-records", headers=inspector_headers, json=body)
    assert first.status_code == 201 and first.get_json()["fine_amount"] == "5000.00"
    as_number = client.post("/api/v1/inspection-records", headers=inspector_headers, json={**body, "fine_amount": 5000})
    assert as_number.status_code == 200  # the same record: the same amount, written another way
    cents = client.post("/api/v1/inspection-records", headers=inspector_headers,
                        json=_inspection(enterprise, measure="fine", fine_amount=1234567.89))
    assert cents.get_json()["fine_amount"] == "1234567.89"
    for bad in (100.005, "100.005", "-5", "5e3", True, "12345678901.00"):
        resp = client.post("/api/v1/inspection-records", headers=inspector_headers,
                           json=_inspection(enterprise, measure="fine", fine_amount=bad))
        assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "fine_amount", bad


def test_an_unapproved_compulsory_measure_is_409_naming_it_and_can_be_recorded_once_the_office_approves(
        client, inspector_headers, office_headers, enterprise):
    requested = client.post("/api/v1/compulsory-measures", headers=inspector_headers, json={
        "enterprise_id": str(enterprise.id), "measure": "sealing", "reason": "疑似存放不合格产品"})
    assert requested.status_code == 201 and requested.get_json()["state"] == "requested"
    measure_id = requested.get_json()["id"]
    body = _inspection(enterprise, measure="compulsory_measure", compulsory_measure_id=measure_id)
    refused = client.post("/api/v1/inspection-records", headers=inspector_headers, json=body)
    problem = refused.get_json()
    assert refused.status_code == 409 and problem["measure"] == "sealing" and problem["measure_id"] == measure_id
    assert problem["errors"][0]["field"] == "compulsory_measure_id"
    assert client.post(f"/api/v1/compulsory-measures/{measure_id}/decision", headers=inspector_headers,
                       json={"state": "approved"}).status_code == 403
    decided = client.post(f"/api/v1/compulsory-measures/{measure_id}/decision", headers=office_headers,
                          json={"state": "approved", "note": "同意查封"})
    assert decided.status_code == 200 and decided.get_json()["state"] == "approved"
    taken = client.post("/api/v1/inspection-records", headers=inspector_headers, json=body)
    assert taken.status_code == 201 and taken.get_json()["compulsory_measure_id"] == measure_id
    shown = client.get(f"/api/v1/compulsory-measures/{measure_id}", headers=inspector_headers).get_json()
    assert shown["taken_in_record_id"] == taken.get_json()["id"] and shown["decided_by"]["id"]
    twice = client.post(f"/api/v1/compulsory-measures/{measure_id}/decision", headers=office_headers,
                        json={"state": "rejected", "note": "改判"})
    assert twice.status_code == 409 and twice.get_json()["type"] == "/problems/invalid-transition"


# -- who sees what ----------------------------------------------------------------------------------


def test_other_roles_are_refused_and_an_inspector_of_another_unit_gets_404(
        client, inspector_headers, enterprise, make_user, make_inspector, make_unit, login):
    filing = client.post("/api/v1/inspection-filings", headers=inspector_headers, json=_filing(enterprise)).get_json()
    inspection = client.post("/api/v1/inspection-records", headers=inspector_headers,
                             json=_inspection(enterprise)).get_json()
    for role in (Role.squad_member, Role.liaison, Role.leader):
        headers = login(make_user(role))
        for url in ("/api/v1/inspection-filings", f"/api/v1/inspection-filings/{filing['id']}",
                    "/api/v1/inspection-records", f"/api/v1/inspection-records/{inspection['id']}",
                    "/api/v1/compulsory-measures"):
            assert client.get(url, headers=headers).status_code == 403, (role, url)
        assert client.post("/api/v1/inspection-records", headers=headers,
                           json=_inspection(enterprise)).status_code == 403
    stranger = login(make_inspector(make_unit("区消防救援大队")))
    for url in (f"/api/v1/inspection-filings/{filing['id']}", f"/api/v1/inspection-records/{inspection['id']}"):
        assert client.get(url, headers=stranger).status_code == 404
    assert client.get("/api/v1/inspection-records", headers=stranger).get_json()["items"] == []
    assert client.get("/api/v1/inspection-filings", headers=stranger).get_json()["items"] == []
