"""The console's pages: headers on every page, what a reviewer sees, the decision form, evidence under custody."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from field.custody import chain as custody
from field.visits import findings
from field.directory import monitoring
from field.reports import reports
from field.core.models.platform import DeviceToken, Role
from field.core.models.records import ReviewState
from field.core.models.base import utcnow
from tests.visits_fixtures import finding_values, receipt_for
from tests.web_fixtures import GPS_PHOTO, console, photo_finding, scan_page, world  # noqa: F401

OFFICE_TZ_OFFSET = timedelta(hours=8)


def _pages(finding):
    return ["/console/sign-in", "/console/", "/console/?kind=finding", "/console/?flag=implausible_evidence",
            f"/console/records/{finding.id}", f"/console/records/{uuid.uuid4()}", "/console/?flag=nonsense", "/"]


def test_every_page_has_the_strict_headers_and_no_inline_script_or_style(app, console, world, photo_finding):
    finding, sha = photo_finding
    signed_in = console(world.reviewer)
    seen = set()
    for url in _pages(finding) + ["/assets/css/base.css", "/assets/vendor/htmx-2.0.11/htmx.min.js"]:
        client = app.test_client() if url in ("/console/sign-in", "/") else signed_in.client
        with client.get(url) as resp:  # static files answer streamed: closed here
            resp.get_data()
        seen.add(resp.status_code)
        csp = resp.headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp, url
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, url
        assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["X-Content-Type-Options"] == "nosniff", url
        expected_referrer = "no-referrer" if url == "/" else "same-origin"
        assert resp.headers["Referrer-Policy"] == expected_referrer, url
        if resp.mimetype == "text/html":
            scan = scan_page(resp.get_data(as_text=True))
            assert (scan.inline_scripts, scan.handlers, scan.styles) == ([], [], []), url
            assert all(src.startswith("/assets/") for src in scan.scripts), url
        if url.startswith("/console/") and url != "/console/sign-in":
            assert resp.headers["Cache-Control"] == "no-store", url
    assert {200, 404, 422} <= seen  # real pages and error pages were both looked at


def test_no_template_can_turn_escaping_off():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "web"
    sources = [p for p in root.rglob("*") if p.suffix in (".html", ".py")]
    assert len(sources) > 10
    for path in sources:
        text = path.read_text()
        for banned in ("|safe", "Markup(", "autoescape false", "|tojson"):
            assert banned not in text, f"{path}: {banned}"


def test_the_queue_row_shows_what_a_reviewer_decides_on(console, world, photo_finding):
    finding, sha = photo_finding
    page = console(world.reviewer).get("/console/").get_data(as_text=True)
    row = re.search(rf'<tr data-record="{finding.id}".*?</tr>', page, re.S).group(0)
    assert "问题线索" in row and "三号窗口" in row and "离岗" in row  # kind, unit, category
    assert "工作时间离岗二十分钟。" in row  # its line of text
    assert world.alice.code in row and "监督员" in row  # the monitor by code and role
    assert "证据存疑" in row  # implausible evidence: a photo from Tuscany, 2008
    assert f'src="/console/evidence/{sha}/thumb"' in row


def test_a_thumbnail_is_served_under_the_evidence_rules_and_logged_with_the_console_session(
        console, world, photo_finding, session, make_user, tree):
    finding, sha = photo_finding
    signed_in = console(world.reviewer)
    resp = signed_in.get(f"/console/evidence/{sha}/thumb")
    assert resp.status_code == 200 and resp.mimetype == "image/jpeg" and resp.data[:2] == b"\xff\xd8"
    device = session.execute(select(DeviceToken).where(DeviceToken.user_id == world.reviewer.id)).scalar_one()
    viewed = [e for e in custody.history(session, "blob", sha) if e.kind == "evidence.viewed"]
    assert [(e.actor_id, e.device_id) for e in viewed] == [(world.reviewer.id, device.id)]
    assert signed_in.get(f"/console/evidence/{sha}/original").data == GPS_PHOTO.read_bytes()
    # A reviewer of another district sees neither the photo nor the record: not found, like the API.
    stranger = console(make_user(Role.reviewer, jurisdiction=tree["other"]))
    assert stranger.get(f"/console/evidence/{sha}/thumb").status_code == 404
    assert stranger.get(f"/console/records/{finding.id}").status_code == 404
    assert stranger.get(f"/console/evidence/{sha}/original").status_code == 404
    decided = stranger.post_form(f"/console/records/{finding.id}/review", {"state": "accepted"})
    assert decided.status_code == 404 and decided.mimetype == "text/html"
    session.refresh(finding)
    assert finding.review_state is ReviewState.submitted
    assert str(finding.id) not in stranger.get("/console/").get_data(as_text=True)


def test_the_record_page_shows_every_field_the_evidence_and_its_flags(console, world, photo_finding):
    finding, sha = photo_finding
    page = console(world.reviewer).get(f"/console/records/{finding.id}").get_data(as_text=True)
    for field in ("description", "severity", "occurred_at", "unit_id", "squad_id", "person_id"):
        assert f'<dt data-field="{field}">' in page, field
    assert f'src="/console/evidence/{sha}/preview"' in page
    assert f'href="/console/evidence/{sha}/original"' in page
    flags = re.findall(r'data-test="evidence-flag" title="[^"]*">([^<]+)<', page)
    assert "拍摄时间不在记录时段内" in flags, flags  # taken in 2008, the finding is of 2026
    details = re.findall(r'data-test="evidence-flag"[^>]*>[^<]+<span class="detail">([^<]+)<', page)
    assert "拍摄时间不在记录的时间段内。" in details, details  # said in the reader's language
    assert not [d for d in details if "The photo" in d], details
    assert "NIKON" in page
    # EXIF capture time 2008-10-22 08:38:20 UTC, shown in the office's zone
    assert "2008-10-22 16:38:20" in page
    for decision in ("accepted", "needs_info", "rejected"):
        assert f'data-test="decide-{decision}"' in page


def test_dates_on_pages_are_in_the_office_time_zone(console, world, photo_finding, session):
    finding, _sha = photo_finding
    page = console(world.reviewer).get("/console/").get_data(as_text=True)
    local = (finding.received_at + OFFICE_TZ_OFFSET).strftime("%Y-%m-%d %H:%M")
    assert local in page


def test_asking_for_more_information_records_the_comment_and_answers_with_the_new_state(
        console, world, photo_finding, session):
    finding, _sha = photo_finding
    signed_in = console(world.reviewer)
    resp = signed_in.post_form(f"/console/records/{finding.id}/review",
                               {"state": "needs_info", "comment": "请补拍窗口全景。"},
                               from_page=f"/console/records/{finding.id}")
    assert resp.status_code == 303
    page = signed_in.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'data-test="decided"' in page and "请补拍窗口全景。" in page and "待补充" in page
    session.refresh(finding)
    assert finding.review_state is ReviewState.needs_info
    # The decision left the queue.
    assert str(finding.id) not in signed_in.get("/console/").get_data(as_text=True)


@pytest.mark.parametrize("state", ["needs_info", "rejected"])
def test_a_decision_that_needs_a_reason_without_one_is_refused_on_the_page(console, world, photo_finding, session,
                                                                           state):
    finding, _sha = photo_finding
    signed_in = console(world.reviewer)
    resp = signed_in.post_form(f"/console/records/{finding.id}/review", {"state": state, "comment": "  "},
                               from_page=f"/console/records/{finding.id}")
    assert resp.status_code == 422 and 'data-test="review-error"' in resp.get_data(as_text=True)
    session.refresh(finding)
    assert finding.review_state is ReviewState.submitted


def test_the_queue_filters_are_the_apis(console, world, photo_finding, session):
    finding, _sha = photo_finding
    other = findings.record_finding(session, receipt_for(world.bob.user), finding_values(
        world, category="delays", unit_id=world.bureau.id, description="拖延办理")).record
    session.commit()
    signed_in = console(world.reviewer)

    def listed(query):
        page = signed_in.get(f"/console/?{query}")
        assert page.status_code == 200, query
        return set(re.findall(r'<tr data-record="([0-9a-f-]+)"', page.get_data(as_text=True)))

    both = {str(finding.id), str(other.id)}
    assert listed("") == both
    assert listed("kind=finding&unit_id=&flag=") == both  # empty fields of the GET form are no filter
    assert listed("category=delays") == {str(other.id)}
    assert listed(f"unit_id={world.window.id}") == {str(finding.id)}
    assert listed("flag=implausible_evidence") == {str(finding.id)}
    assert listed(f"squad_id={world.other_squad.id}") == set()
    assert listed("kind=visit") == set()
    bad = signed_in.get("/console/?flag=nonsense")
    assert bad.status_code == 422 and 'data-test="filter-error"' in bad.get_data(as_text=True)


def test_the_queue_pages_by_keyset_and_htmx_appends_the_next_page(console, world, session):
    for i in range(27):
        findings.record_finding(session, receipt_for(world.alice.user),
                                finding_values(world, description=f"第{i:02d}条"))
    session.commit()
    signed_in = console(world.reviewer)
    first = signed_in.get("/console/").get_data(as_text=True)
    assert first.count('data-test="queue-row"') == 25 and "第00条" in first and "第25条" not in first
    more = re.search(r'data-test="more" href="([^"]+)"|href="([^"]+)" hx-get', first)
    link = (more.group(1) or more.group(2)).replace("&amp;", "&")
    partial = signed_in.get(link, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in partial and partial.count('data-test="queue-row"') == 2
    assert "第25条" in partial and "第26条" in partial and 'data-test="more"' not in partial
    whole = signed_in.get(link).get_data(as_text=True)  # without JavaScript: a whole page
    assert "<html" in whole and whole.count('data-test="queue-row"') == 2


def test_a_covert_points_report_reaches_only_the_office_of_its_scope(console, world, session, make_user, tree):
    liaison = make_user(Role.liaison)
    monitoring.create_point(session, world.admin, enterprise_id=world.enterprise.id, covert=True,
                            liaison_ids=[liaison.id], active_from=date(2026, 1, 1))
    report = reports.submit_report(session, receipt_for(liaison), uuid.uuid4(), report_type="suggestion",
                                   device_time=utcnow(), text="建议简化流程").record
    session.commit()
    office = console(world.reviewer).get("/console/").get_data(as_text=True)
    assert str(report.id) in office and world.enterprise.name in office
    sibling = console(make_user(Role.reviewer, jurisdiction=tree["other"]))
    page = sibling.get("/console/?kind=report").get_data(as_text=True)
    assert str(report.id) not in page and world.enterprise.name not in page
    assert sibling.get(f"/console/records/{report.id}").status_code == 404


def test_english_is_served_on_request_and_chinese_by_default(console, world, photo_finding):
    signed_in = console(world.reviewer)
    zh = signed_in.get("/console/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in zh and "审核队列" in zh
    en = signed_in.get("/console/", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in en and "Review queue" in en and "审核队列" not in en
