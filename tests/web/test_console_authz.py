"""The authorization matrix of the console: every console route × (no session, reviewer, admin, an admin of another
district). A route missing from the table fails the test, so a new page must say who may open it."""

from __future__ import annotations

import pytest

from field.cases import lifecycle as cases
from field.cases.models import CaseKind
from field.core.models.platform import Role
from tests.web_fixtures import console, csrf_of, photo_finding, world  # noqa: F401

#: endpoint → (method, path template, reviewer, admin, foreign admin). Anonymous: 303 to the sign-in page,
#: except the sign-in form itself. A POST is sent with a valid CSRF token and an empty form: what it proves is
#: who gets in (403/404) and who reaches the form's own checks (422/409/303).
MATRIX = {
    "console.queue": ("GET", "/console/", 200, 200, 200),
    "console.record": ("GET", "/console/records/{record}", 200, 200, 404),
    "console.review": ("POST", "/console/records/{record}/review", 422, 422, 404),
    "console.evidence_copy": ("GET", "/console/evidence/{sha}/thumb", 200, 200, 404),
    "console.evidence_original": ("GET", "/console/evidence/{sha}/original", 200, 200, 404),
    "console.case_board_page": ("GET", "/console/cases", 200, 200, 200),
    "console.case_page": ("GET", "/console/cases/{case}", 200, 200, 404),
    "console.case_evidence_zip": ("GET", "/console/cases/{case}/evidence.zip", 200, 200, 404),
    "console.case_transition": ("POST", "/console/cases/{case}/transition", 422, 422, 404),
    "console.case_gate": ("POST", "/console/cases/{case}/gates", 422, 422, 404),
    "console.case_delay": ("POST", "/console/cases/{case}/delay-notices", 422, 422, 404),
    "console.case_subject": ("POST", "/console/cases/{case}/subjects", 422, 422, 404),
    "console.case_source": ("POST", "/console/cases/{case}/sources", 422, 422, 404),
    "console.case_disposition": ("POST", "/console/cases/{case}/dispositions", 422, 422, 404),
    "console.case_notice": ("POST", "/console/cases/{case}/notices", 422, 422, 404),
    "console.map_page": ("GET", "/console/map", 200, 200, 200),
    "console.figures_page": ("GET", "/console/figures", 200, 200, 200),
    "console.figures_csv": ("GET", "/console/figures.csv", 200, 200, 200),
    "console.directory_page": ("GET", "/console/directory", 200, 200, 200),
    "console.calendar_page": ("GET", "/console/calendar", 200, 200, 200),
    "console.declare_year": ("POST", "/console/calendar/years", 403, 422, 422),
    "console.people": ("GET", "/console/people", 403, 200, 200),
    "console.person": ("GET", "/console/people/{user}", 403, 200, 404),
    "console.enroll": ("POST", "/console/people/{user}/enroll", 403, 200, 404),
    "console.revoke_device": ("POST", "/console/people/{user}/devices/{device}/revoke", 403, 303, 404),
}
#: Reachable without a session, or the session's own door.
OPEN = {"console.sign_in_form", "console.sign_in", "console.sign_out"}


def test_every_console_route_is_in_the_matrix(app):
    routes = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("console.")}
    assert routes - OPEN == set(MATRIX), "add the new route to MATRIX: who may open it?"


@pytest.fixture
def ids(session, world, photo_finding, login):
    finding, sha = photo_finding
    case = cases.open_case(session, world.reviewer, kind=CaseKind.discipline, title="矩阵案",
                           source_record_ids=[finding.id])
    session.commit()
    from field.accounts import users as accounts
    device = accounts.list_devices(session, world.alice.user)[0]
    return {"record": finding.id, "sha": sha, "case": case.id, "user": world.alice.user.id, "device": device.id}


def _send(signed_in, method, path):
    if method == "GET":
        with signed_in.get(path) as resp:
            resp.get_data()
            return resp.status_code
    page = signed_in.get("/console/").get_data(as_text=True)
    return signed_in.client.post(path, data={"csrf_token": csrf_of(page)}).status_code


def test_each_role_gets_the_matrixs_answer_on_every_console_route(app, console, world, ids, make_user, tree):
    callers = {"reviewer": console(world.reviewer), "admin": console(world.admin),
               "foreign": console(make_user(Role.admin, jurisdiction=tree["other"]))}
    anonymous = app.test_client()
    wrong = []
    # The revoke goes last: it ends a device other cells do not need.
    for endpoint, (method, template, *expected) in sorted(MATRIX.items(), key=lambda kv: kv[0] == "console.revoke_device"):
        path = template.format(**ids)
        answer = anonymous.open(path, method=method)
        if answer.status_code != 303 or "/console/sign-in" not in answer.headers.get("Location", ""):
            wrong.append((endpoint, "anonymous", answer.status_code))
        for (who, signed_in), want in zip(callers.items(), expected):
            got = _send(signed_in, method, path)
            if got != want:
                wrong.append((endpoint, who, got, want))
    assert wrong == []
