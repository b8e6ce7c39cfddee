"""A reviewer's day in a real browser: sign in, see a photo finding in the queue, ask for more, sign out."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from field.core.models.records import FieldRecord, ReviewState
from tests.browser.pages import PublicLandingPage, SignInPage
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _console_errors(driver) -> list[str]:
    """Errors the page's console saw: a CSP violation (an inline script or style) would be one."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _state_of(live, record_id) -> ReviewState:
    with live.app.extensions["SESSION_FACTORY"]() as s:
        return s.execute(select(FieldRecord.review_state).where(FieldRecord.id == record_id)).scalar_one()


def _waiting(live) -> int:
    with live.app.extensions["SESSION_FACTORY"]() as s:
        return s.execute(select(func.count()).select_from(FieldRecord).where(
            FieldRecord.review_state == ReviewState.submitted)).scalar_one()


def test_a_reviewer_asks_for_more_information_on_a_photo_finding_and_signs_out(live, browser, screenshots):
    sign_in = SignInPage.open(browser, live.url)
    sign_in.screenshot(screenshots, "01-sign-in")
    queue = sign_in.sign_in(live.reviewer, PASSWORD)
    assert "李审核" in queue.user()

    row = queue.row(live.finding_id)
    assert row.kind == "问题线索" and "三号窗口" in row.about and "离岗" in row.about
    assert row.submitter == live.monitor_code and "离岗二十分钟" in row.text
    assert "证据存疑" in row.flags  # a photo from Tuscany, 2008
    assert len(row.thumbs) == 1 and queue.image_loaded(row.thumbs[0])
    assert len(queue.rows()) == 25
    queue.screenshot(screenshots, "02-queue")

    record = queue.open_record(live.finding_id)
    assert record.state() == "已提交"
    assert record.image_loaded(record.preview())
    flags = record.evidence_flags()
    assert "拍摄地点远离记录位置" in flags and "拍摄时间不在记录时段内" in flags, flags
    record.screenshot(screenshots, "03-record")

    record = record.ask_for_more_information("请补拍三号窗口全景，并注明离岗起止时间。")
    assert record.state() == "待补充" and "待补充" in record.decided_note()
    assert any("请补拍三号窗口全景" in c for c in record.comments())
    assert _state_of(live, live.finding_id) is ReviewState.needs_info
    record.screenshot(screenshots, "04-record-needs-info")

    queue = record.back_to_queue()
    assert str(live.finding_id) not in [r.record_id for r in queue.rows()]
    signed_out = queue.sign_out()
    assert signed_out.signed_out_note()
    signed_out.screenshot(screenshots, "05-signed-out")
    browser.get(f"{live.url}/console/")  # the session is gone: back to the sign-in page
    SignInPage(browser, live.url)
    assert _console_errors(browser) == []


def test_a_wrong_password_shows_an_error_and_opens_nothing(live, browser, screenshots):
    page = SignInPage.open(browser, live.url).sign_in_failing(live.reviewer, "not the password")
    assert "用户名或密码错误" in page.error()
    page.screenshot(screenshots, "06-sign-in-wrong-password")
    browser.get(f"{live.url}/console/")
    SignInPage(browser, live.url)


def test_a_decision_posted_without_its_csrf_token_is_refused(live, browser, screenshots):
    queue = SignInPage.open(browser, live.url).sign_in(live.reviewer, PASSWORD)
    other = next(r for r in queue.rows() if r.record_id != str(live.finding_id))
    record = queue.open_record(other.record_id)
    refused = record.post_decision_without_csrf_token("rejected", "伪造的请求")
    assert refused.status() == "400"
    refused.screenshot(screenshots, "07-csrf-refused")
    assert _state_of(live, uuid.UUID(other.record_id)) is ReviewState.submitted


def test_the_queue_filters_and_pages_in_place_on_a_tablet(live, browser, screenshots):
    browser.set_window_size(820, 1180)  # a tablet held upright
    queue = SignInPage.open(browser, live.url).sign_in(live.reviewer, PASSWORD)
    first_url = browser.current_url
    queue.screenshot(screenshots, "08-queue-tablet")
    waiting = _waiting(live)
    assert waiting > 25 and len(queue.rows()) == 25
    assert queue.more() == waiting and browser.current_url == first_url  # htmx appended the last page
    queue = queue.filter_by_kind("问题线索")
    assert "kind=finding" in browser.current_url and len(queue.rows()) == 25
    assert _console_errors(browser) == []


def test_the_public_landing_page_fits_a_phone(live, browser, screenshots):
    browser.set_window_size(390, 844)
    page = PublicLandingPage.open(browser, live.url)
    assert "向监督办公室反映" in page.text()
    page.screenshot(screenshots, "09-public-landing-phone")
    assert _console_errors(browser) == []
