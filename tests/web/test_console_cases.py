"""The console's cases: the board (overdue and provisional marked), a case walked through its gates to closure with
the page's own forms, the notice editor's refusal beside the text, the timeline and the evidence ZIP."""

from __future__ import annotations

import io
import re
import zipfile

from field.cases.models import CaseState
from field.core.office import office_today
from tests.integration.test_cases import (  # noqa: F401  (fixtures)
    add_evidence,
    admin,
    directory,
    make_case,
    make_record,
    make_user,
    member,
    monitor,
    office,
)
from tests.web_fixtures import console, csrf_of, scan_page  # noqa: F401


def _post(signed_in, case, path, data, *, multi=None):
    page = signed_in.get(f"/console/cases/{case.id}").get_data(as_text=True)
    form = {"csrf_token": csrf_of(page), **data}
    if multi:
        from werkzeug.datastructures import MultiDict

        form = MultiDict([*form.items(), *multi])
    return signed_in.client.post(f"/console/cases/{case.id}/{path}", data=form)


def test_the_board_shows_running_cases_by_state_with_overdue_and_provisional_marked(console, office, make_case,
                                                                                    session):
    late = make_case(title="逾期未办结案")  # opened 2026-09-24, 20 working days: long past
    soon = office_today()
    on_time = make_case(title="按期办理案", opened_on=soon, today=soon)
    on_time.deadline_provisional = True
    session.commit()
    page = console(office["reviewer"]).get("/console/cases")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    column = html[html.index('data-test="column-opened"'):html.index('data-test="column-investigating"')]
    assert late.number in column and on_time.number in column
    card = lambda number: html[html.index(f'data-number="{number}"'):].split("</a>")[0]  # noqa: E731
    assert 'data-test="overdue"' in card(late.number) and 'data-test="overdue"' not in card(on_time.number)
    assert 'data-test="provisional"' in card(on_time.number)


def test_a_case_walks_to_closure_through_the_pages_forms(console, office, make_case, make_record, add_evidence,
                                                          directory, session, monitor):
    record = make_record()
    sha = add_evidence(record, b"photo of the empty window")
    case = make_case(sources=[record])
    signed_in = console(office["reviewer"])
    # Closing straight away is not offered; each step is one button.
    page = signed_in.get(f"/console/cases/{case.id}").get_data(as_text=True)
    assert 'data-test="move-investigating"' in page and 'data-test="move-closed"' not in page
    assert page.count('data-done="no"') == 4
    assert _post(signed_in, case, "subjects", {"person_id": str(directory["chief"].id)}).status_code == 303
    for step in ("investigating", "deciding"):
        assert _post(signed_in, case, "transition", {"to": step}).status_code == 303
    resp = _post(signed_in, case, "dispositions", {
        "subject": f"person:{directory['chief'].id}", "kind": "disciplinary_sanction", "sanction_system": "administrative",
        "grade": "demerit", "decided_on": "2026-10-09", "authority": "区监委"})
    assert resp.status_code == 303
    # The notice editor: the identity screen's refusal beside the text, which is kept for editing.
    refused = _post(signed_in, case, "notices", {"text": "暗访员张卫东发现该窗口脱岗。", "issued_on": "2026-10-09"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'data-test="notice-refused"' in html
    assert html.index('data-test="notice-text"') < html.index('data-test="notice-refused"')
    assert _post(signed_in, case, "notices", {"text": "某窗口工作人员脱岗，给予记过处分。",
                                              "issued_on": "2026-10-09"}).status_code == 303
    assert _post(signed_in, case, "transition", {"to": "rectifying"}).status_code == 303
    # Closing without the gates: refused, the missing ones named.
    refused = _post(signed_in, case, "transition", {"to": "closed"})
    assert refused.status_code == 409 and 'data-test="error-state"' in refused.get_data(as_text=True)
    # A gate without evidence is refused on the form; with the photo it is ticked.
    bad = _post(signed_in, case, "gates", {"gate": "facts_established", "note": "已查清"})
    assert bad.status_code == 422 and 'data-test="error-gates_facts_established"' in bad.get_data(as_text=True)
    for gate in ("facts_established", "problem_corrected", "responsible_dealt_with", "rectification_done"):
        assert _post(signed_in, case, "gates", {"gate": gate, "note": f"{gate} 已落实"},
                     multi=[("evidence", sha)]).status_code == 303
    page = signed_in.get(f"/console/cases/{case.id}").get_data(as_text=True)
    assert page.count('data-done="yes"') == 4 and 'data-test="move-closed"' in page
    assert _post(signed_in, case, "transition", {"to": "closed"}).status_code == 303
    session.refresh(case)
    assert case.state is CaseState.closed
    page = signed_in.get(f"/console/cases/{case.id}").get_data(as_text=True)
    kinds = re.findall(r'<span class="trail-kind">([^<]*)</span>', page)
    assert len(kinds) >= 10  # opened, subject, 2 moves, disposition, notice, move, 4 gates, closed
    assert "张卫东" not in page  # the refused text is not kept anywhere
    scan = scan_page(page)
    assert (scan.inline_scripts, scan.handlers, scan.styles) == ([], [], [])
    # The evidence ZIP, logged as an export of this console session.
    resp = signed_in.get(f"/console/cases/{case.id}/evidence.zip")
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(resp.get_data())).namelist()
    assert "MANIFEST.sha256" in names and "custody.json" in names


def test_a_dismissal_needs_a_reason_shown_beside_the_form(console, office, make_case):
    case = make_case()
    signed_in = console(office["reviewer"])
    resp = _post(signed_in, case, "transition", {"to": "dismissed"})
    assert resp.status_code == 422 and 'data-test="error-state"' in resp.get_data(as_text=True)
    assert _post(signed_in, case, "transition", {"to": "dismissed", "reason": "重复投诉"}).status_code == 303


def test_field_accounts_and_other_districts_see_no_case(console, office, make_case, make_user, tree):
    from field.core.models.platform import Role

    case = make_case()
    foreign = console(make_user(Role.reviewer, jurisdiction=tree["other"]))
    assert foreign.get(f"/console/cases/{case.id}").status_code == 404
    assert case.number not in foreign.get("/console/cases").get_data(as_text=True)
    assert foreign.get(f"/console/cases/{case.id}/evidence.zip").status_code == 404
