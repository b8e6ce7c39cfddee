"""Canary scan of the console: as each office role, every page and image of the canary district, no identity.

The district of tests/api/test_canary_scan.py (stress/district.py): monitors' real names and
phones and a complainant's name and contact carry a marker. Signed in to the console as a
reviewer and as an admin, the queue (each kind, each flag), every record's page and every
thumbnail and preview are fetched and scanned; the field accounts cannot sign in at all.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from field.core.models.platform import Role, User
from stress.canary import Scanner
from stress.district import PASSWORD, build
from tests.conftest import fresh_database_url
from tests.web_fixtures import sign_in_with

RECORD_KINDS = ("finding_id", "visit_id", "callback_id", "report_id", "leader_visit_id", "filing_id", "inspection_id")


@pytest.fixture(scope="module")
def district(backend, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("console_canary")
    district = build(fresh_database_url(backend, tmp, "_console_canary"), str(tmp / "evidence"))
    yield district
    district.close()


def _username(district, role) -> str:
    with district.app.extensions["SESSION_FACTORY"]() as s:
        return s.execute(select(User.username).where(User.id == district.users[role])).scalar_one()


@pytest.mark.parametrize("role", [Role.reviewer, Role.admin])
def test_no_console_page_or_image_shows_a_monitors_or_a_complainants_identity(district, role):
    client = district.app.test_client()
    assert sign_in_with(client, _username(district, role), PASSWORD).status_code == 303
    scanner = Scanner(district.marker, *district.phones)
    urls = ["/console/", "/"]
    urls += [f"/console/?kind={kind}" for kind in ("finding", "visit", "callback", "report", "leader_visit",
                                                   "inspection", "filing")]
    urls += [f"/console/?flag={flag}" for flag in ("unfiled", "implausible_evidence", "clock_skew", "far_from_target")]
    urls += [f"/console/records/{district.ids[key]}" for key in RECORD_KINDS]
    hits, pages = [], {}
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.status_code)
        pages[url] = resp.get_data(as_text=True)
        hits += scanner.find(resp.data, where=f"{role.value} {url}")
        hits += scanner.find("\n".join(f"{k}: {v}" for k, v in resp.headers.items()).encode(), where=url)
    images = set(re.findall(r'src="(/console/evidence/[0-9a-f]{64}/(?:thumb|preview))"', "".join(pages.values())))
    assert images, "the scan looked at the photo's viewing copies"
    for url in images:
        resp = client.get(url)
        assert resp.status_code == 200 and resp.mimetype == "image/jpeg"
        hits += scanner.find(resp.data, where=url) + Scanner(district.photo_marker).find(resp.data, where=url)
    assert hits == []
    # The scan read real pages: every kind's record page carries its own fields, the queue its rows.
    assert pages["/console/"].count('data-test="queue-row"') >= 5
    assert "工作时间离岗二十分钟。" in pages[f"/console/records/{district.ids['finding_id']}"]
    assert "JLP-A01" in pages[f"/console/records/{district.ids['finding_id']}"]  # the monitor, by code


@pytest.mark.parametrize("role", [Role.inspector, Role.squad_member, Role.liaison, Role.leader])
def test_field_accounts_get_no_console_page_with_data(district, role):
    client = district.app.test_client()
    resp = sign_in_with(client, _username(district, role), PASSWORD)
    assert resp.status_code == 403
    assert Scanner(district.marker, *district.phones).find(resp.data) == []
    assert client.get("/console/").status_code == 303
