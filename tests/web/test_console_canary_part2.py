"""The canary scan over part 2's pages: cases (board, the case, its evidence ZIP), map, figures, directory, calendar,
people and each person's page, enrollment: as a reviewer and as an admin of the canary district, no monitor's or
complainant's identity on any page, header or file."""

from __future__ import annotations

import re

import pytest

from field.core.models.platform import Role
from stress.canary import Scanner
from stress.district import PASSWORD
from tests.web.test_console_canary import _username, district  # noqa: F401  (module fixture)
from tests.web_fixtures import csrf_of, sign_in_with


@pytest.mark.parametrize("role", [Role.reviewer, Role.admin])
def test_no_part_two_page_shows_a_monitors_or_a_complainants_identity(district, role):
    client = district.app.test_client()
    assert sign_in_with(client, _username(district, role), PASSWORD).status_code == 303
    scanner = Scanner(district.marker, *district.phones)
    case = district.ids["case_id"]
    urls = ["/console/cases", f"/console/cases/{case}", "/console/map", "/console/figures?from=2026-01-01&to=2026-12-31",
            "/console/calendar", f"/console/cases/{case}/evidence.zip"]
    urls += [f"/console/directory?tab={tab}" for tab in ("units", "enterprises", "points", "squads")]
    urls += [f"/console/figures.csv?from=2026-01-01&to=2026-12-31&section={s}" for s in ("cases", "units", "points")]
    if role is Role.admin:
        people = client.get("/console/people").get_data(as_text=True)
        urls += ["/console/people"] + sorted(set(re.findall(r'href="(/console/people/[0-9a-f-]{36})"', people)))
    hits, seen = [], {}
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.status_code)
        seen[url] = resp.get_data()
        hits += scanner.find(resp.data, where=f"{role.value} {url}")
        hits += scanner.find("\n".join(f"{k}: {v}" for k, v in resp.headers.items()).encode(), where=url)
    if role is Role.admin:
        monitor_page = f"/console/people/{district.ids['user_id']}"
        assert monitor_page in urls  # the monitor's own page: by code, never by name
        html = seen[monitor_page].decode()
        enrolled = client.post(f"{monitor_page}/enroll", data={"csrf_token": csrf_of(html)})
        assert enrolled.status_code == 200
        hits += scanner.find(enrolled.data, where="enrollment")
    assert hits == []
    assert b'data-test="case-card"' in seen["/console/cases"] and b'data-test="row"' in seen["/console/directory?tab=squads"]
