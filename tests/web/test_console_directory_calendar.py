"""Directory and calendar pages: squads by code and count (no real name), points by the covert rule, a declared
year recomputing provisional deadlines from the console's form."""

from __future__ import annotations

import pytest

from field.core.models.platform import Role
from field.core.office import office_today
from tests.directory_fixtures import fast_passwords, make_enterprise, make_point, make_squad  # noqa: F401
from tests.web_fixtures import console, csrf_of, scan_page  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_passwords")


def test_the_directory_lists_units_enterprises_points_and_squads_without_a_monitors_name(
        console, make_user, make_enterprise, make_point, make_squad, session, admin, tree):
    from field.directory import squads

    squad = make_squad()
    squads.enlist(session, admin, squad, real_name="张卫东", phone="13812345678",
                  user_id=make_user(Role.squad_member).id)
    session.commit()
    make_point(make_enterprise("秘密监测企业", at=(106.5, 29.5)), covert=True)
    home, foreign = console(make_user(Role.reviewer)), console(make_user(Role.admin, jurisdiction=tree["other"]))
    for tab, expected in (("squads", "第一暗访小分队"), ("points", "秘密监测企业"), ("enterprises", "秘密监测企业"),
                          ("units", None)):
        page = home.get(f"/console/directory?tab={tab}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200, tab
        assert "张卫东" not in html and "13812345678" not in html, tab
        if expected:
            assert expected in html, tab
            assert expected not in foreign.get(f"/console/directory?tab={tab}").get_data(as_text=True), tab
        scan = scan_page(html)
        assert (scan.inline_scripts, scan.handlers, scan.styles) == ([], [], []), tab


def test_an_admin_declares_a_year_from_the_calendar_page_and_a_reviewer_may_not(
        console, make_user, session):
    year = office_today().year + 3
    admin = make_user(Role.admin)
    signed_in = console(admin)
    page = signed_in.get("/console/calendar").get_data(as_text=True)
    assert 'data-test="declare-form"' in page
    bad = signed_in.client.post("/console/calendar/years", data={"csrf_token": csrf_of(page), "year": str(year)})
    assert bad.status_code in (409, 422) and 'data-test="declare-error"' in bad.get_data(as_text=True)
    resp = signed_in.client.post("/console/calendar/years", data={
        "csrf_token": csrf_of(page), "year": str(year), "holidays": f"{year}-01-01\n{year}-10-01",
        "source": "国务院办公厅通知"})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:400]
    page = signed_in.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'data-test="declared"' in page and str(year) in page
    reviewer = console(make_user(Role.reviewer))
    html = reviewer.get("/console/calendar").get_data(as_text=True)
    assert 'data-test="declare-form"' not in html
    page = signed_in.get("/console/calendar").get_data(as_text=True)
    assert reviewer.client.post("/console/calendar/years", data={
        "csrf_token": csrf_of(html), "year": str(year + 1), "weekends_only": "on"}).status_code == 403
