"""Part 2's pages with a hostile string in every field they show: case title, summary, subjects, delay reason, gate
note, disposition, notice text, enterprise and unit names on the map, figures and directory, display and device
names on the people pages. Each renders as text: escaped in HTML, set as text by maps.js."""

from __future__ import annotations

import html
import json
import re
from datetime import date, timedelta

from field.accounts import users as accounts
from field.cases import lifecycle as cases, notices, parties
from field.cases.models import CaseKind, CaseState, DispositionKind, Gate
from field.core.locations import GivenLocation
from field.core.models.platform import Role
from field.core.office import office_today
from field.directory import enterprises, monitoring, units
from tests.directory_fixtures import credit_code
from tests.web.test_console_escaping import ESCAPED, HOSTILE
from tests.web_fixtures import console, photo_finding, scan_page, world  # noqa: F401


def test_hostile_strings_on_part_two_pages_render_as_text(console, world, session, photo_finding, tree):
    finding, sha = photo_finding
    admin, reviewer = world.admin, world.reviewer
    unit = units.create_unit(session, admin, name=f"单位{HOSTILE}", kind="department")
    person = units.create_person(session, admin, unit_id=unit.id, name=f"人员{HOSTILE}")
    enterprise = enterprises.create_enterprise(session, admin, name=f"企业{HOSTILE}", credit_code=credit_code(990002),
                                               location=GivenLocation(106.51, 29.50))
    monitoring.create_point(session, admin, enterprise_id=enterprise.id, active_from=date(2026, 1, 1))
    today = office_today()
    case = cases.open_case(session, reviewer, kind=CaseKind.discipline, title=f"案{HOSTILE}", summary=f"摘要{HOSTILE}",
                           source_record_ids=[finding.id], subjects=[{"person_id": person.id}], today=today)
    cases.record_delay_notice(session, reviewer, case, reason=f"延期{HOSTILE}",
                              new_deadline=case.effective_deadline + timedelta(days=10), today=today)
    for step in (CaseState.investigating, CaseState.deciding):
        cases.transition(session, reviewer, case, step, today=today)
    cases.record_gate(session, reviewer, case, gate=Gate.facts_established, note=f"查清{HOSTILE}", evidence=[sha])
    parties.record_disposition(session, reviewer, case, kind=DispositionKind.admonishment_talk, decided_on=today,
                               authority=f"机关{HOSTILE}", person_id=person.id, note=f"备注{HOSTILE}", today=today)
    notices.issue_notice(session, reviewer, case, text=f"通报{HOSTILE}", issued_on=today, today=today)
    named = accounts.create_user(session, actor=None, username="hostile.inspector", password="correct horse battery",
                                 display_name=f"检{HOSTILE}", role=Role.inspector, jurisdiction_id=tree["home"].id)
    accounts.issue_token(session, named, f"机{HOSTILE}", timedelta(days=1))
    session.commit()

    signed_in = console(admin)
    pages = {url: signed_in.get(url).get_data(as_text=True) for url in (
        "/console/cases", f"/console/cases/{case.id}", "/console/map", "/console/directory?tab=units",
        "/console/directory?tab=enterprises", "/console/directory?tab=points", "/console/people",
        f"/console/people/{named.id}", f"/console/figures?from={today.replace(day=1)}&to={today}")}
    expected = {
        "/console/cases": [f"案{ESCAPED}"],
        f"/console/cases/{case.id}": [f"案{ESCAPED}", f"摘要{ESCAPED}", f"人员{ESCAPED}", f"延期{ESCAPED}",
                                      f"查清{ESCAPED}", f"机关{ESCAPED}", f"备注{ESCAPED}", f"通报{ESCAPED}"],
        "/console/directory?tab=units": [f"单位{ESCAPED}"],
        "/console/directory?tab=enterprises": [f"企业{ESCAPED}"],
        "/console/directory?tab=points": [f"企业{ESCAPED}"],
        "/console/people": [f"检{ESCAPED}"],
        f"/console/people/{named.id}": [f"检{ESCAPED}", f"机{ESCAPED}"],
    }
    for url, page in pages.items():
        assert HOSTILE not in page and "<img src=x" not in page, url
        missing = [s for s in expected.get(url, []) if s not in page]
        assert missing == [], (url, missing)
        scan = scan_page(page)
        assert (scan.inline_scripts, scan.handlers, scan.styles) == ([], [], []), url
    # The map's labels travel as JSON in an attribute, and maps.js sets them as text (never innerHTML).
    spec = json.loads(html.unescape(re.search(r'data-map="([^"]+)"', pages["/console/map"]).group(1)))
    assert f"企业{HOSTILE}" in [m["label"] for m in spec["markers"]]
    from pathlib import Path

    script = (Path(__file__).resolve().parents[2] / "web" / "static" / "js" / "maps.js").read_text()
    assert "innerHTML" not in script and "textContent" in script
