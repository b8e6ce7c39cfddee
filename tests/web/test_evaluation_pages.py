"""The rater's page /e/<code>: strict headers and no inline script, zh-CN first, the form without JavaScript,
the receipt and the office's answer; an unknown code is a plain 404 page."""

from __future__ import annotations

import re

from field.core.models.platform import Role
from field.directory.models import UnitKind
from field.evaluations import campaigns, rectifications
from field.evaluations.campaigns import RaterInput
from field.evaluations.models import CampaignKind, RaterKind
from tests.directory_fixtures import make_unit  # noqa: F401 (fixture)
from tests.evaluation_fixtures import make_campaign  # noqa: F401 (fixture)
from tests.web_fixtures import csrf_of, scan_page


def _code(session, admin, campaign) -> str:
    invitation, = campaigns.issue_invitations(session, admin, campaign, target_id=campaign.targets[0].id,
                                              rater=RaterInput(RaterKind.counter))
    session.commit()
    return invitation.code


def _checked_page(resp) -> str:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert resp.headers["Referrer-Policy"] == "no-referrer" and resp.headers["X-Frame-Options"] == "DENY"
    html = resp.get_data(as_text=True)
    scan = scan_page(html)
    assert (scan.inline_scripts, scan.handlers, scan.styles) == ([], [], [])
    assert scan.scripts == ["/assets/js/ballot.js"]
    return html


def test_the_page_asks_in_chinese_takes_the_form_without_javascript_and_shows_receipt_and_answer(
        client, session, admin, make_unit, make_campaign, make_user):
    bureau = make_unit("区市场监督管理局", UnitKind.department)
    window = make_unit("登记窗口", UnitKind.window, parent_id=bureau.id)
    campaign = make_campaign(admin, CampaignKind.thousand, [window])
    code = _code(session, admin, campaign)
    html = _checked_page(client.get(f"/e/{code}"))
    assert "区市场监督管理局/登记窗口" in html and "总体满意度" in html and "非常不满意" in html
    assert 'data-endpoint="/api/v1/ballots"' in html and f'data-code="{code}"' in html
    english = client.get(f"/e/{code.lower()}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Overall satisfaction" in english and "very dissatisfied" in english

    token = csrf_of(html)
    refused = client.post(f"/e/{code}", data={"overall": "2"})
    assert refused.status_code == 400  # no CSRF token: nothing is stored
    missing = client.post(f"/e/{code}", data={"csrf_token": token, "overall": "2"})
    assert missing.status_code == 422 and "Required" in missing.get_data(as_text=True)
    sent = client.post(f"/e/{code}", data={"csrf_token": token, "overall": "2", "attitude": "3",
                                           "comment": "让我跑了三趟", "idempotency_key": "form-1"})
    assert sent.status_code == 303 and sent.headers["Location"].endswith(f"/e/{code}")
    receipt_page = _checked_page(client.get(f"/e/{code}"))
    number = re.search(r'class="receipt-no">([^<]+)<', receipt_page).group(1)
    assert number and "整改" in receipt_page and "<form" not in receipt_page.split("</header>", 1)[1]
    again = client.post(f"/e/{code}", data={"csrf_token": token, "overall": "5", "attitude": "5"})
    assert again.status_code == 409

    item = session.execute(rectifications.rectifications_query(session, admin)).scalars().one()
    rectifications.answer(session, admin, item, text="已整改")
    rectifications.verify(session, make_user(Role.reviewer), item, accepted=True, reply="已整改，感谢监督。")
    session.commit()
    answered = _checked_page(client.get(f"/e/{code}"))
    assert number in answered and "已整改，感谢监督。" in answered


def test_an_unknown_code_is_a_404_page(client):
    resp = client.get("/e/ABCDEFGHJK")
    assert resp.status_code == 404 and resp.mimetype == "text/html"
