"""Undercover work stays undercover: who gets 404, and no response to anyone names a monitor."""

import re
import uuid

import pytest
from sqlalchemy import select

from field.visits import callbacks, findings, visits
from field.records import lifecycle as records
from field.visits.models import FindingCategory
from field.core.models.platform import Role
from tests.visits_fixtures import (  # noqa: F401
    MARKER,
    assigned_sample,
    finding_values,
    receipt_for,
    task_for,
    visit_values,
    world,
)

OUTSIDERS = (Role.inspector, Role.liaison, Role.leader)


@pytest.fixture
def ids(session, world):
    """One of everything, by the name of the URL parameter that takes its id."""
    task = task_for(session, world)
    visit = visits.record_visit(session, receipt_for(world.alice.user), visit_values(task_id=task.id)).record
    finding = findings.record_finding(session, receipt_for(world.alice.user),
                                      finding_values(world, visit_id=visit.id)).record
    batch, sample, _ = assigned_sample(session, world)
    case = session.execute(callbacks.sample_cases_query(sample.id)).scalars().first()
    call = callbacks.record_callback(session, receipt_for(world.alice.user), {
        "id": uuid.uuid4(), "device_time": visit.device_time, "case_id": case.id, "called_at": visit.device_time,
        "reached": True, "satisfied": False, "problem": "不满意"}).record
    records.add_comment(session, world.reviewer, finding, "请补充照片。")
    category = session.execute(select(FindingCategory).where(FindingCategory.code == "delays")).scalar_one()
    session.commit()
    return {"task_id": task.id, "visit_id": visit.id, "finding_id": finding.id, "callback_id": call.id,
            "batch_id": batch.id, "sample_id": sample.id, "category_id": category.id, "record_id": finding.id,
            "squad_id": world.squad.id, "unit_id": world.window.id, "person_id": world.clerk.id,
            "enterprise_id": world.enterprise.id, "user_id": world.alice.user.id}


def _undercover_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in ("visits", "callbacks"):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def _url(rule, ids):
    url = rule.rule
    for name in re.findall(r"<uuid:(\w+)>", rule.rule):
        url = url.replace(f"<uuid:{name}>", str(ids[name]))
    return url


@pytest.mark.parametrize("role", OUTSIDERS)
def test_every_undercover_endpoint_answers_404_to_outsiders_whatever_they_send(app, client, ids, login, make_user,
                                                                               role):
    headers = login(make_user(role))
    checked = 0
    for rule, method in _undercover_routes(app):
        for body in ({}, {"id": str(uuid.uuid4())}) if method != "GET" else (None,):
            resp = client.open(_url(rule, ids), method=method, headers=headers, json=body)
            assert resp.status_code == 404, f"{method} {rule.rule} answered {resp.status_code}"
            assert resp.get_json()["detail"] == "No such resource."
            checked += 1
    assert checked >= 25


def test_without_a_token_the_undercover_endpoints_answer_401(client, ids):
    assert client.get("/api/v1/findings").status_code == 401
    assert client.get(f"/api/v1/visit-tasks/{ids['task_id']}").status_code == 401


def _every_get(app, ids):
    """Every GET of the whole API whose id parameters we can fill, with our objects' ids."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not rule.rule.startswith("/api/"):
            continue
        names = re.findall(r"<(?:\w+:)?(\w+)>", rule.rule)
        if all(n in ids for n in names):
            yield _url(rule, ids)


@pytest.mark.parametrize("role", [*OUTSIDERS, Role.squad_member, Role.reviewer, Role.admin])
def test_no_response_to_anyone_contains_a_monitors_real_name_or_phone(app, client, ids, world, login, make_user,
                                                                       role):
    users = {Role.squad_member: world.alice.user, Role.reviewer: world.reviewer, Role.admin: world.admin}
    headers = login(users.get(role) or make_user(role))
    scanned = 0
    for url in _every_get(app, ids):
        for query in ({}, {"format": "geojson"}):
            resp = client.get(url, headers=headers, query_string=query)
            assert resp.status_code < 500, url
            assert MARKER.encode() not in resp.data, f"{role.value} read a monitor's identity at {url}"
            scanned += 1
    assert scanned >= 40


def test_a_monitor_appears_to_the_office_only_by_code(client, ids, world, login):
    office = login(world.reviewer)
    visit = client.get(f"/api/v1/visits/{ids['visit_id']}", headers=office).get_json()
    assert visit["members"] == [world.alice.code]
    comments = client.get(f"/api/v1/records/{ids['finding_id']}/comments", headers=login(world.alice.user))
    assert comments.status_code == 200 and MARKER not in comments.get_data(as_text=True)
