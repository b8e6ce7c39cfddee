"""A rater in a real browser: open the invitation, answer, lose the connection, get the receipt once it is back.

The server is really stopped (its socket closed) while the page submits, then served again on
the same port: the page keeps the answers, says so, and sends them again by itself with the same
Idempotency-Key; exactly one ballot is stored. A second rater reloads the page mid-way and finds
the answers still there. Screenshots (phone size) go to var/screenshots/.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from api import create_app
from field.accounts import users as accounts
from field.core import migrate
from field.core.models.platform import Role
from field.core.office import office_today
from field.directory import units
from field.directory.models import UnitKind
from field.evaluations import campaigns, questionnaires, rectifications
from field.evaluations.campaigns import RaterInput
from field.evaluations.models import Ballot, Rectification, RaterKind
from stress.world import chongqing
from tests.browser.pages import BallotPage
from tests.conftest import PASSWORD, fresh_database_url
from tests.evaluation_fixtures import QUESTIONS

pytestmark = pytest.mark.browser


@dataclass
class LiveBallots:
    app: object
    port: int
    codes: list[str]
    server: object = None
    thread: object = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve(self) -> None:
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """The connection is lost: the server stops and its socket closes (connections are refused)."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)

    def ballots(self) -> int:
        with self.app.extensions["SESSION_FACTORY"]() as s:
            return s.execute(select(func.count()).select_from(Ballot)).scalar_one()


@pytest.fixture(scope="module")
def live_ballots(backend, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ballots")
    url = fresh_database_url(backend, tmp, "_ballot_browser")
    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "EVIDENCE_DIR": str(tmp / "evidence"), "SECRET_KEY": "browser"})
    with app.extensions["SESSION_FACTORY"]() as s:
        _province, _city, district = chongqing(s)
        admin = accounts.create_user(s, actor=None, username="admin", password=PASSWORD, display_name="王管理",
                                     role=Role.admin, jurisdiction_id=district.id)
        bureau = units.create_unit(s, admin, name="区市场监督管理局", kind=UnitKind.department)
        window = units.create_unit(s, admin, name="登记窗口", kind=UnitKind.window, parent_id=bureau.id)
        q = questionnaires.create_questionnaire(s, admin, title="窗口服务评价", questions=QUESTIONS)
        today = office_today()
        campaign = campaigns.create_campaign(s, admin, kind="thousand", title="2026年千人评",
                                             opens_on=today - timedelta(days=5), closes_on=today + timedelta(days=5),
                                             questionnaire_id=q.id, targets=[{"unit_id": window.id}])
        campaigns.open_campaign(s, admin, campaign)
        codes = [campaigns.issue_invitations(s, admin, campaign, target_id=campaign.targets[0].id,
                                             rater=RaterInput(RaterKind.counter))[0].code for _ in range(2)]
        s.commit()
    live = LiveBallots(app, 0, codes)
    live.serve()
    yield live
    live.stop()
    app.extensions["ENGINE"].dispose()


def _page_errors(driver) -> list[str]:
    """Errors other than the refused connections this story causes on purpose (a CSP violation would be one)."""
    return [e["message"] for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and "net::ERR_" not in e["message"]
            and "status of 409" not in e["message"]]


def test_a_rater_loses_the_connection_mid_way_and_gets_one_receipt_when_it_is_back(live_ballots, browser,
                                                                                   screenshots):
    browser.set_window_size(390, 844)  # a phone
    page = BallotPage.open(browser, live_ballots.url, live_ballots.codes[0])
    assert "登记窗口" in page.text() and "非常满意" in page.text()  # zh-CN first
    page.grade("overall", 2)
    page.grade("attitude", 4)
    page.write("comment", "窗口让我跑了三趟才办完。")
    page.screenshot(screenshots, "10-ballot-answering")

    live_ballots.stop()
    page.submit()
    assert "本机" in page.wait_for_status("网络")  # "no connection: kept on this phone, sent again"
    assert page.form_shown() and page.checked("overall") == "2" and "三趟" in page.written("comment")
    page.screenshot(screenshots, "11-ballot-offline")
    assert live_ballots.ballots() == 0

    live_ballots.serve()  # the connection is back, on the same address
    receipt = page.wait_for_receipt()
    page.screenshot(screenshots, "12-ballot-receipt")
    assert live_ballots.ballots() == 1
    with live_ballots.app.extensions["SESSION_FACTORY"]() as s:
        ballot = s.execute(select(Ballot)).scalar_one()
        assert ballot.receipt_no == receipt and ballot.answers["comment"] == "窗口让我跑了三趟才办完。"
        assert ballot.client_key  # sent with its Idempotency-Key
    assert "整改" in page.receipt_text()

    # Coming back later: the receipt, and once the office verified the unit's answer, the answer.
    with live_ballots.app.extensions["SESSION_FACTORY"]() as s:
        from field.core.models.platform import User

        office = s.execute(select(User).where(User.username == "admin")).scalar_one()
        item = s.execute(select(Rectification)).scalar_one()
        rectifications.answer(s, office, item, text="已约谈窗口人员并推行一次告知。")
        rectifications.verify(s, office, item, accepted=True, reply="您反映的问题已整改，感谢您的监督。")
        s.commit()
    page = BallotPage.open(browser, live_ballots.url, live_ballots.codes[0])
    assert receipt in page.receipt_text() and page.reply() == "您反映的问题已整改，感谢您的监督。"
    page.screenshot(screenshots, "13-ballot-reply")
    assert _page_errors(browser) == []


def test_answers_survive_a_reload_and_a_code_votes_once(live_ballots, browser, screenshots):
    browser.set_window_size(390, 844)
    code = live_ballots.codes[1]
    page = BallotPage.open(browser, live_ballots.url, code)
    page.grade("overall", 5)
    page.write("comment", "办事很快")
    page = BallotPage.open(browser, live_ballots.url, code)  # a reload, before submitting
    assert page.checked("overall") == "5" and page.written("comment") == "办事很快"
    assert "本机" in page.status()
    page.grade("attitude", 5)
    page.submit()
    receipt = page.wait_for_receipt()
    assert "整改" not in page.receipt_text()
    before = live_ballots.ballots()
    # The same code again, from the form the browser still has: refused, the first ballot stands.
    resubmitted = browser.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "fetch('/api/v1/ballots', {method: 'POST', headers: {'Content-Type': 'application/json'},"
        " body: JSON.stringify({code: arguments[0], answers: {overall: 1, attitude: 1}})})"
        ".then(function (r) { done(r.status); });", code)
    assert resubmitted == 409 and live_ballots.ballots() == before
    page = BallotPage.open(browser, live_ballots.url, code)
    assert receipt in page.receipt_text() and not page.form_shown()
    page.screenshot(screenshots, "14-ballot-once")
    assert _page_errors(browser) == []
