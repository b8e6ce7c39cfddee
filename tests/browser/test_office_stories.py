"""The office's other days in a real browser (issue 16 part 2): an amended finding accepted beside its first
version; a case walked through its four gates to closure; the figures; the map; a phone enrolled by the QR
code on the screen, decoded from its pixels, and revoked. Each story makes its own records: tests of one
module may run on different workers, each with its own live office."""

from __future__ import annotations

import io
import json
import uuid
from datetime import datetime, timedelta

import pytest
import requests
import zxingcpp
from PIL import Image
from sqlalchemy import select

from field.cases import lifecycle as cases
from field.cases.models import Case, CaseKind, CaseState
from field.core.models.platform import User
from field.core.models.records import FieldRecord, ReviewState
from tests.browser.conftest import CST
from tests.browser.pages import (
    CaseBoardPage, FiguresPage, MapPage, PersonPage, RecordHistory, SignInPage, accept)
from tests.browser.test_review_story import _console_errors
from tests.conftest import PASSWORD
from tests.web_fixtures import GPS_PHOTO, upload_photo

pytestmark = pytest.mark.browser


def _finding_body(live, description: str) -> dict:
    now = datetime.now(CST).replace(microsecond=0)
    return {"device_time": (now - timedelta(minutes=30)).isoformat(), "category": "absent_from_post",
            "severity": "moderate", "unit_id": str(live.window_id), "occurred_at": (now - timedelta(hours=1)).isoformat(),
            "description": description, "location": {"type": "Point", "coordinates": [106.5286, 29.5026], "accuracy_m": 15}}


def _photo_finding(live, description: str) -> tuple[str, dict, str]:
    """A new finding of the monitor with the GPS photo, sent through the API as the phone does."""
    client, headers = live.app.test_client(), {"Authorization": f"Bearer {live.monitor_token}"}
    record_id, body = str(uuid.uuid4()), _finding_body(live, description)
    assert client.post("/api/v1/findings", headers=headers, json={"id": record_id, **body}).status_code == 201
    sha = upload_photo(client, headers, record_id, GPS_PHOTO.read_bytes(), filename="IMG_window.jpg")["sha256"]
    return record_id, body, sha


def _state_of(live, record_id) -> ReviewState:
    with live.app.extensions["SESSION_FACTORY"]() as s:
        return s.execute(select(FieldRecord.review_state).where(FieldRecord.id == uuid.UUID(record_id))).scalar_one()


def test_a_reviewer_sees_the_amended_version_beside_the_first_and_accepts_it(live, browser, screenshots):
    record_id, body, _sha = _photo_finding(live, "三号窗口离岗。")
    browser.get(f"{live.url}/console/sign-in")
    SignInPage(browser, live.url).sign_in(live.reviewer, PASSWORD)
    browser.get(f"{live.url}/console/records/{record_id}")
    from tests.browser.pages import RecordPage

    record = RecordPage(browser, live.url)
    history = RecordHistory(record)
    assert history.map_ready() and "米" in history.photo_distance()  # Tuscany is far from Chongqing
    assert history.custody_entries() >= 2
    assert "拍摄地点远离记录位置" in record.evidence_flags()
    record = record.ask_for_more_information("请写明离岗起止时间。")
    # The monitor answers from the phone: a second version.
    amended = {**body, "description": "三号窗口 9:40–10:00 离岗二十分钟。"}
    resp = live.app.test_client().put(f"/api/v1/findings/{record_id}", json=amended,
                                      headers={"Authorization": f"Bearer {live.monitor_token}"})
    assert resp.status_code == 200, resp.get_json()
    browser.refresh()
    record = RecordPage(browser, live.url)
    history = RecordHistory(record)
    assert record.state() == "已提交" and history.version_columns() == 2
    assert history.changed_cells() == ["三号窗口 9:40–10:00 离岗二十分钟。"]
    record.screenshot(screenshots, "10-record-versions")
    record = accept(record, "已核实。")
    assert record.state() == "已通过" and _state_of(live, record_id) is ReviewState.accepted
    assert _console_errors(browser) == []


def test_a_case_walks_through_its_four_gates_to_closure(live, browser, screenshots):
    record_id, _body, _sha = _photo_finding(live, "窗口推诿，群众往返三次。")
    with live.app.extensions["SESSION_FACTORY"]() as s:
        reviewer = s.execute(select(User).where(User.username == live.reviewer)).scalar_one()
        case = cases.open_case(s, reviewer, kind=CaseKind.discipline, title="三号窗口推诿案",
                               source_record_ids=[uuid.UUID(record_id)], subjects=[{"unit_id": live.window_id}])
        s.commit()
        number, case_id = case.number, case.id
    SignInPage.open(browser, live.url).sign_in(live.reviewer, PASSWORD)
    board = CaseBoardPage.open(browser, live.url)
    assert number in board.numbers_in("opened")
    board.screenshot(screenshots, "11-case-board")
    page = board.open_case(number)
    assert page.state() == "已立案" and page.gates_done() == 0 and not page.can_close()
    for step in ("investigating", "deciding", "rectifying"):
        page = page.move(step)
    gates = ("facts_established", "problem_corrected", "responsible_dealt_with", "rectification_done")
    for n, gate in enumerate(gates, start=1):
        page = page.record_gate(gate, f"{gate}：已落实。")
        assert page.gates_done() == n
    assert page.can_close()
    page.screenshot(screenshots, "12-case-four-gates")
    page = page.move("closed")
    assert page.state() == "已办结"
    with live.app.extensions["SESSION_FACTORY"]() as s:
        assert s.get(Case, case_id).state is CaseState.closed
    assert len(page.timeline()) >= 9
    page.screenshot(screenshots, "13-case-closed")
    assert _console_errors(browser) == []


def test_the_figures_and_the_map_draw_without_a_console_error(live, browser, screenshots):
    SignInPage.open(browser, live.url).sign_in(live.reviewer, PASSWORD)
    figures = FiguresPage.open(browser, live.url)
    assert figures.charts() >= 3 and len({link.split('section=')[1].split('&')[0] for link in figures.csv_links()}) == 5
    figures.screenshot(screenshots, "14-figures")
    map_page = MapPage.open(browser, live.url)
    assert map_page.markers() >= 1
    map_page.screenshot(screenshots, "15-map")
    assert _console_errors(browser) == []  # Leaflet under the CSP: no inline script or style refused


def test_an_admin_enrolls_a_phone_by_the_qr_code_on_the_screen_and_revokes_it(live, browser, screenshots):
    with live.app.extensions["SESSION_FACTORY"]() as s:
        monitor = s.execute(select(User).where(User.username == live.monitor_code.lower())).scalar_one()
        monitor_id = monitor.id
    SignInPage.open(browser, live.url).sign_in(live.admin, PASSWORD)
    page = PersonPage.open(browser, live.url, monitor_id).make_code()
    page.screenshot(screenshots, "16-enroll-qr")
    found = {c.text for c in zxingcpp.read_barcodes(Image.open(io.BytesIO(page.qr_png())))
             if c.format == zxingcpp.BarcodeFormat.QRCode}
    assert len(found) == 1, found  # one symbol (zxing-cpp may report it from two detectors)
    payload = json.loads(found.pop())
    assert payload["fieldwatch"] == "enroll" and payload["server"] == f"{live.url}/"
    # The phone: from the QR code alone to a working token.
    device_name = f"华为 {uuid.uuid4().hex[:4]}"
    resp = requests.post(f"{payload['server']}api/v1/auth/enroll", json={"code": payload["code"],
                                                                         "device_name": device_name}, timeout=10)
    assert resp.status_code == 201, resp.text
    bearer = {"Authorization": f"Bearer {resp.json()['token']}"}
    assert requests.get(f"{live.url}/api/v1/me", headers=bearer, timeout=10).json()["id"] == str(monitor_id)
    page = PersonPage.open(browser, live.url, monitor_id)
    assert device_name in page.devices()
    page = page.revoke(device_name)
    assert device_name not in page.devices()
    assert requests.get(f"{live.url}/api/v1/me", headers=bearer, timeout=10).status_code == 401
    page.screenshot(screenshots, "17-device-revoked")
    signed_out = page.sign_out()
    assert signed_out.signed_out_note()
    assert _console_errors(browser) == []
