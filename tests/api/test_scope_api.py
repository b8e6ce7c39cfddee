"""A user of one district gets 404 for another district's objects, on every endpoint that takes an id."""

import re
import uuid

import pytest

from datetime import date

from field.core import calendar
from field.directory import enterprises, monitoring, squads, units
from field.records import lifecycle as records
from field.core.models.records import FieldRecord
from field.core.models.platform import Role
from field.directory.models import UnitKind
from field.core.models.base import utcnow
from tests.approvals_fixtures import district_approvals, district_commitment, district_project
from tests.directory_fixtures import credit_code
from tests.visits_fixtures import FOREIGN_BODIES, foreign_undercover


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
    unit = units.create_unit(session, other_admin, name="渝中区市场监管局", kind=UnitKind.department)
    person = units.create_person(session, other_admin, unit_id=unit.id, name="赵六")
    enterprise = enterprises.create_enterprise(session, other_admin, name="渝中企业", credit_code=credit_code(division="500103"))
    point = monitoring.create_point(session, other_admin, enterprise_id=enterprise.id, active_from=date(2025, 1, 1))
    squad = squads.create_squad(session, other_admin, name="渝中小分队", code_prefix="YZ")
    report_id, leader_visit_id = _foreign_report_and_visit(session, make_user, tree, other_admin)
    inspection_ids = _foreign_inspections(session, other_admin, other_user, unit, enterprise)
    upload_id = _foreign_upload(session, other_user)
    undercover_ids = foreign_undercover(session, other_admin, squad, unit)
    case_ids = _foreign_case(session, other_admin, person)
    evaluation_ids = _foreign_evaluation(session, other_admin, unit)
    approval_ids = (district_approvals(session, other_admin, unit) | district_commitment(session, other_admin, person)
                    | district_project(session, other_admin, unit))
    from field.complaints import intake

    approval_ids["handler_id"] = make_user(Role.handler, jurisdiction=tree["other"]).id
    approval_ids["complaint_id"] = intake.record_call(session, other_admin, {
        "category": "obstruction", "text": "渝中区的投诉"}).complaint.id
    approval_ids["service_visit_id"] = _foreign_service_visit(session, make_user, tree, other_admin,
                                                              approval_ids["project_id"])
    session.commit()
    return {"unit_id": unit.id, "person_id": person.id, "enterprise_id": enterprise.id, "point_id": point.id,
            "squad_id": squad.id, "override_id": override.id, "user_id": other_user.id, "jurisdiction_id": tree["other"].id, "device_id": device,
            "record_id": record.id, "upload_id": upload_id, "report_id": report_id, "leader_visit_id": leader_visit_id, **inspection_ids,
            **undercover_ids, **case_ids, **evaluation_ids, **approval_ids,
            # Custody checkpoints are deployment-wide: no district has its own, so none is foreign.
            "checkpoint_id": uuid.uuid4()}


def _foreign_service_visit(session, make_user, tree, other_admin, project_id):
    """A service visit to the other district's key project, by the official serving it."""
    from field.core.locations import GivenLocation
    from field.service import projects, visits

    official = make_user(Role.leader, jurisdiction=tree["other"])
    projects.assign(session, other_admin, official_id=official.id, role="secretary", campaign="365",
                    starts_on=date(2025, 1, 1), project_id=project_id)
    return visits.log_visit(session, records.Receipt(official, None, None), uuid.uuid4(), device_time=utcnow(),
                            visited_at=utcnow(), location=GivenLocation(106.57, 29.55), project_id=project_id).record.id


def _foreign_case(session, other_admin, person):
    """An accountability case of the other district, naming one of its persons."""
    from field.cases import lifecycle as cases

    case = cases.open_case(
        session, other_admin, kind="efficiency_complaint", title="渝中案件", subjects=[{"person_id": person.id}],
        complaint=cases.ComplaintInput("phone", utcnow(), "电话投诉"), opened_on=date(2026, 9, 24),
        today=date(2026, 9, 24))
    return {"case_id": case.id, "subject_id": case.subjects[0].id}


def _foreign_evaluation(session, other_admin, unit):
    """A campaign of the other district over its unit, a code, and the bad rating it gave."""
    from datetime import timedelta

    from field.core.office import office_today
    from field.evaluations import ballots, campaigns, questionnaires
    from field.evaluations.campaigns import RaterInput
    from field.evaluations.models import RaterKind

    q = questionnaires.create_questionnaire(session, other_admin, title="问卷", questions=[
        {"name": "overall", "type": "grade5", "required": True, "label": {"zh": "总体满意度"}}])
    today = office_today()
    campaign = campaigns.create_campaign(session, other_admin, kind="thousand", title="渝中千人评",
                                         opens_on=today - timedelta(days=5), closes_on=today + timedelta(days=5),
                                         questionnaire_id=q.id, targets=[{"unit_id": unit.id}])
    campaigns.open_campaign(session, other_admin, campaign)
    invitation, = campaigns.issue_invitations(session, other_admin, campaign, target_id=campaign.targets[0].id,
                                              rater=RaterInput(RaterKind.counter))
    item = ballots.cast(session, invitation.code, {"overall": 1}).rectification
    return {"questionnaire_id": q.id, "campaign_id": campaign.id, "invitation_id": invitation.id,
            "rectification_id": item.id}


def _foreign_upload(session, owner):
    """A tus upload in progress of a user of the other district."""
    from datetime import timedelta

    from evidence import uploads
    from field.attachments.links import check_record_for_evidence

    return uploads.create_upload(
        session, owner, device_id=None, length=100, metadata={"kind": "photo", "record_id": str(uuid.uuid4())},
        limits=uploads.Limits(photo=1 << 20, audio=1 << 20, video=1 << 20), expires_in=timedelta(hours=1),
        check_record=check_record_for_evidence).id


def _foreign_report_and_visit(session, make_user, tree, other_admin):
    """A liaison's report and a leader's visit at a point of the other district."""
    from field.reports import leader_visits, reports
    from field.core.locations import GivenLocation

    liaison = make_user(Role.liaison, jurisdiction=tree["other"])
    leader = make_user(Role.leader, jurisdiction=tree["other"])
    enterprise = enterprises.create_enterprise(session, other_admin, name="渝中监测企业",
                                               credit_code=credit_code(division="500103"))
    point = monitoring.create_point(session, other_admin, enterprise_id=enterprise.id, active_from=date(2025, 1, 1),
                                    liaison_ids=[liaison.id], leader_id=leader.id, visit_frequency="monthly")
    report = reports.submit_report(session, records.Receipt(liaison, None, None), uuid.uuid4(),
                                   report_type="suggestion", device_time=utcnow(), text="建议")
    visit = leader_visits.log_visit(session, records.Receipt(leader, None, None), uuid.uuid4(), point_id=point.id,
                                    device_time=utcnow(), visited_at=utcnow(), location=GivenLocation(106.57, 29.55))
    return report.record.id, visit.record.id


def _foreign_inspections(session, other_admin, inspector, unit, enterprise):
    """A filing, an inspection record and a measure request of an inspector of the other district."""
    from field.core.office import office_today
    from field.filings import filings, inspections, inspectors, measures
    from field.core.locations import GivenLocation

    inspectors.assign_unit(session, other_admin, inspector.id, unit.id)
    today, receipt = office_today(), records.Receipt(inspector, None, None)
    filing = filings.file_inspection(session, receipt, uuid.uuid4(), {
        "device_time": utcnow(), "filing_kind": "statutory_exempt", "enterprise_ids": [enterprise.id],
        "purpose": "安全生产检查", "legal_basis": "《安全生产法》", "exemption_basis": "《安全生产法》第六十五条",
        "planned_start": today, "planned_end": today}, today=today).record
    inspection = inspections.record_inspection(session, receipt, uuid.uuid4(), {
        "device_time": utcnow(), "enterprise_id": enterprise.id, "location": GivenLocation(106.57, 29.55),
        "checked": "消防通道", "found": "", "measure": "none"}, far_threshold_m=300.0).record
    measure = measures.request_measure(session, inspector, enterprise_id=enterprise.id, measure="sealing",
                                          reason="查封")
    return {"filing_id": filing.id, "inspection_id": inspection.id, "measure_id": measure.id}


_FILING_BODY = {"device_time": "2026-05-06T10:15:00+08:00", "filing_kind": "annual_plan",
                "enterprise_ids": [str(uuid.uuid4())], "purpose": "检查", "legal_basis": "《食品安全法》",
                "planned_start": "2026-06-01", "planned_end": "2026-06-05"}
_INSPECTION_BODY = {"device_time": "2026-05-06T10:15:00+08:00", "enterprise_id": str(uuid.uuid4()),
                    "location": {"type": "Point", "coordinates": [106.57, 29.55]}, "checked": "检查",
                    "found": "", "measure": "none"}

#: A valid body for the endpoints that need one, so the answer is about the id, not the body.
VALID_BODIES = {
    ("PUT", "/api/v1/inspectors/<uuid:user_id>/unit"): {"unit_id": str(uuid.uuid4())},
    ("PUT", "/api/v1/inspection-filings/<uuid:filing_id>"): _FILING_BODY,
    ("PUT", "/api/v1/inspection-records/<uuid:inspection_id>"): _INSPECTION_BODY,
    ("POST", "/api/v1/compulsory-measures/<uuid:measure_id>/decision"): {"state": "approved"},
    ("PUT", "/api/v1/reports/<uuid:report_id>"): {
        "device_time": "2026-05-06T10:15:00+08:00", "report_type": "suggestion", "text": "建议"},
    ("PUT", "/api/v1/leader-visits/<uuid:leader_visit_id>"): {
        "device_time": "2026-05-06T10:15:00+08:00", "point_id": str(uuid.uuid4()),
        "visited_at": "2026-05-06T10:15:00+08:00", "location": {"type": "Point", "coordinates": [106.57, 29.55]}},
    ("POST", "/api/v1/complaints/<uuid:complaint_id>/triage"): {"decision": "accept"},
    ("POST", "/api/v1/complaints/<uuid:complaint_id>/dispatch"): {"unit_id": str(uuid.uuid4())},
    ("POST", "/api/v1/complaints/<uuid:complaint_id>/answer"): {"text": "已整改", "resolved": True},
    ("POST", "/api/v1/complaints/<uuid:complaint_id>/callbacks"): {"reached": True},
    ("POST", "/api/v1/complaints/<uuid:complaint_id>/contact"): {"reason": "回访"},
    ("PUT", "/api/v1/complaint-handlers/<uuid:handler_id>"): {"unit_id": str(uuid.uuid4())},
    ("PUT", "/api/v1/service-visits/<uuid:service_visit_id>"): {
        "device_time": "2026-05-06T10:15:00+08:00", "project_id": str(uuid.uuid4()),
        "visited_at": "2026-05-06T10:15:00+08:00", "location": {"type": "Point", "coordinates": [106.57, 29.55]}},
    ("POST", "/api/v1/squads/<uuid:squad_id>/members"): {"real_name": "张三", "password": "correct horse battery"},
    ("POST", "/api/v1/squads/<uuid:squad_id>/members/<uuid:user_id>/unmask"): {"reason": "核实线索"},
    ("POST", "/api/v1/records/<uuid:record_id>/review"): {"state": "accepted"},
    ("POST", "/api/v1/records/<uuid:record_id>/comments"): {"body": "hello"},
    **FOREIGN_BODIES,
    **{("POST", f"/api/v1/cases/<uuid:case_id>/{path}"): body for path, body in {
        "transitions": {"to": "investigating"},
        "sources": {"record_id": str(uuid.uuid4())},
        "subjects": {"unit_id": str(uuid.uuid4())},
        "delay-notices": {"reason": "延期", "new_deadline": "2030-01-01"},
        "gates": {"gate": "facts_established", "note": "查清", "evidence": ["0" * 64]},
        "dispositions": {"kind": "yellow_card", "unit_id": str(uuid.uuid4()), "decided_on": "2026-01-01",
                         "authority": "区纪委"},
        "notices": {"text": "通报", "issued_on": "2026-01-01"},
        "complainant": {"reason": "核实"},
    }.items()},
    ("PATCH", "/api/v1/cases/<uuid:case_id>"): {"title": "x"},
    ("PUT", "/api/v1/questionnaires/<uuid:questionnaire_id>"): {"title": "问卷", "questions": [
        {"name": "overall", "type": "grade5", "label": {"zh": "总体满意度"}}]},
    ("POST", "/api/v1/evaluation-campaigns/<uuid:campaign_id>/invitations"): {
        "target_id": str(uuid.uuid4()), "rater": {"kind": "counter"}},
    ("POST", "/api/v1/rectifications/<uuid:rectification_id>/answer"): {"text": "已整改"},
    ("POST", "/api/v1/rectifications/<uuid:rectification_id>/verification"): {"accepted": True, "reply": "已整改"},
    ("POST", "/api/v1/rectifications/<uuid:rectification_id>/appeal"): {"reason": "误评"},
    ("POST", "/api/v1/rectifications/<uuid:rectification_id>/appeal-decision"): {"upheld": False, "note": "不成立"},
    ("POST", "/api/v1/rectifications/<uuid:rectification_id>/rater"): {"reason": "回访"},
    ("PATCH", "/api/v1/approval-matters/<uuid:matter_id>"): {"promised_limit_days": 3},
    ("POST", "/api/v1/approval-cases/<uuid:approval_case_id>/notices"): {
        "kind": "refusal", "reason": "材料不全", "handler_name": "王经办", "issued_on": "2026-05-13"},
    ("POST", "/api/v1/approval-notices/<uuid:notice_id>/complaint"): {"case_id": str(uuid.uuid4())},
    ("POST", "/api/v1/approval-alerts/<uuid:alert_id>/case"): {},
    ("POST", "/api/v1/commitment-letters/<uuid:letter_id>/items"): {"promise": "承诺"},
    ("POST", "/api/v1/commitment-letters/<uuid:letter_id>/publication"): {
        "published_on": "2026-02-21", "channel": "website"},
    ("PUT", "/api/v1/commitment-letters/<uuid:letter_id>/report"): {"text": "述职"},
    ("POST", "/api/v1/commitment-items/<uuid:item_id>/checks"): {
        "verdict": "kept", "note": "复查", "checked_on": "2026-06-01"},
    ("POST", "/api/v1/commitment-items/<uuid:item_id>/case"): {},
    ("PATCH", "/api/v1/key-projects/<uuid:project_id>"): {"stage": "negotiating"},
    ("POST", "/api/v1/key-projects/<uuid:project_id>/problems"): {
        "category": "land", "source": "liaison", "description": "用地", "limit_days": 10, "unit_ids": [str(uuid.uuid4())]},
    ("POST", "/api/v1/enterprises/<uuid:enterprise_id>/problems"): {
        "category": "land", "source": "liaison", "description": "用地", "limit_days": 10, "unit_ids": [str(uuid.uuid4())]},
    ("POST", "/api/v1/service-problems/<uuid:problem_id>/progress"): {"note": "已协调"},
    ("POST", "/api/v1/service-problems/<uuid:problem_id>/closure"): {
        "solved": True, "confirmed_by": "刘某", "confirmation": "已解决"},
    ("POST", "/api/v1/service-problems/<uuid:problem_id>/case"): {},
}


def _id_routes(app):
    # The API's routes; the console's (cookie session, HTML pages) are checked in tests/web.
    for rule in app.url_map.iter_rules():
        if "<uuid:" in rule.rule and rule.rule.startswith("/api/"):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def test_every_id_endpoint_answers_404_for_another_districts_object(app, client, foreign, make_user, login, tree):
    headers = login(make_user(Role.admin, jurisdiction=tree["home"]))
    # A unit's handler's own steps (the admin's role may not take them: 403 before any lookup, for
    # any id): a handler of this district asks for the other district's complaint instead.
    handler_headers = login(make_user(Role.handler, jurisdiction=tree["home"]))
    handler_steps = {"/api/v1/complaints/<uuid:complaint_id>/respond", "/api/v1/complaints/<uuid:complaint_id>/answer"}
    checked = 0
    for rule, method in _id_routes(app):
        params = re.findall(r"<uuid:(\w+)>", rule.rule)
        missing = [p for p in params if p not in foreign]
        assert not missing, f"{rule.rule}: add a foreign object for {missing} to this test"
        url = rule.rule
        for p in params:
            url = url.replace(f"<uuid:{p}>", str(foreign[p]))
        body = VALID_BODIES.get((method, rule.rule), {}) if method in ("POST", "PATCH", "PUT") else None
        resp = client.open(url, method=method, headers=handler_headers if rule.rule in handler_steps else headers,
                           json=body)
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
