"""A citizen's complaint in a phone-sized headless chromium: file it with a photo and a place picked on the map,
keep the tracking number and secret, follow it, and rate the unit's answer (given meanwhile through the API)."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass

import pytest
from flask import Response
from PIL import Image, ImageDraw
from sqlalchemy import select
from werkzeug.serving import make_server

from api import create_app
from field.accounts import users as accounts
from field.complaints import handling
from field.complaints.models import Complaint, ComplaintContact, ComplaintPhoto
from field.core import migrate
from field.core.locations import GivenLocation
from field.core.models.evidence import Blob
from field.core.models.platform import Role
from field.directory import units
from field.directory.models import UnitKind
from stress.world import chongqing
from tests.browser.conftest import CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS
from tests.browser.pages import ComplaintFollowPage, ComplaintStatusPage, PublicLandingPage
from tests.conftest import PASSWORD, fresh_database_url
from tests.web_fixtures import GPS_PHOTO

pytestmark = pytest.mark.browser

#: A phone's viewport in CSS pixels, and WeChat's in-app browser on Android.
PHONE_SIZE = (390, 844)
WECHAT_UA = ("Mozilla/5.0 (Linux; Android 13; V2227A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like "
             "Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 "
             "MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64")
CONTACT = "13912345678"


@dataclass
class LiveMailbox:
    url: str
    app: object
    unit_id: object


def _tile() -> bytes:
    """A plain map tile with a street grid, served by the test itself (no tile server on the network)."""
    im = Image.new("RGB", (256, 256), (242, 239, 233))
    draw = ImageDraw.Draw(im)
    for at in (64, 192):
        draw.line([(at, 0), (at, 256)], fill=(255, 255, 255), width=9)
        draw.line([(0, at), (256, at)], fill=(255, 255, 255), width=9)
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def mailbox(backend, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mailbox")
    url = fresh_database_url(backend, tmp, "_mailbox")
    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "EVIDENCE_DIR": str(tmp / "evidence"), "SECRET_KEY": "mailbox",
                      "PUBLIC_MAP_TILES": "/test-tiles/{z}/{x}/{y}.png", "PUBLIC_MAP_CENTER": "106.5286,29.5026"})
    tile = _tile()
    app.add_url_rule("/test-tiles/<int:z>/<int:x>/<int:y>.png", "test_tile",
                     lambda z, x, y: Response(tile, mimetype="image/png"))
    with app.extensions["SESSION_FACTORY"]() as s:
        _province, _city, district = chongqing(s)
        admin = accounts.create_user(s, actor=None, username="admin", password=PASSWORD, display_name="王管理",
                                     role=Role.admin, jurisdiction_id=district.id)
        accounts.create_user(s, actor=None, username="li.reviewer", password=PASSWORD, display_name="李审核",
                             role=Role.reviewer, jurisdiction_id=district.id)
        handler = accounts.create_user(s, actor=None, username="zhao.handler", password=PASSWORD,
                                       display_name="赵办理", role=Role.handler, jurisdiction_id=district.id)
        bureau = units.create_unit(s, admin, name="区市场监督管理局", kind=UnitKind.department,
                                   location=GivenLocation(106.51, 29.50))
        handling.assign_handler(s, admin, handler.id, bureau.id)
        s.commit()
        app.config["COMPLAINTS_JURISDICTION"] = district.code
        unit_id = bureau.id
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveMailbox(f"http://127.0.0.1:{server.server_port}", app, unit_id)
    server.shutdown()
    thread.join(10)
    app.extensions["ENGINE"].dispose()


@pytest.fixture
def phone():
    """Chromium as a phone: a 390 px wide viewport, WeChat's user agent, Chinese first, touch events."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")
    profile = tempfile.mkdtemp(prefix="fw-chromium-phone-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS + (f"--user-data-dir={profile}", "--window-size=600,900", "--lang=zh-CN"):
        options.add_argument(flag)
    # A window cannot be narrower than 500 px headless: the phone's viewport is emulated instead.
    options.add_experimental_option("mobileEmulation", {
        "deviceMetrics": {"width": PHONE_SIZE[0], "height": PHONE_SIZE[1], "pixelRatio": 2.0, "touch": True},
        "userAgent": WECHAT_UA})
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _answer_through_the_api(mailbox, tracking_number: str) -> None:
    client = mailbox.app.test_client()

    def token(username):
        resp = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD,
                                                       "device_name": "test"})
        return {"Authorization": f"Bearer {resp.get_json()['token']}"}

    office, handler = token("li.reviewer"), token("zhao.handler")
    with mailbox.app.extensions["SESSION_FACTORY"]() as s:
        cid = s.execute(select(Complaint.id).where(Complaint.tracking_number == tracking_number)).scalar_one()
    url = f"/api/v1/complaints/{cid}"
    for path, headers, body in ((f"{url}/triage", office, {"decision": "accept"}),
                                (f"{url}/dispatch", office, {"unit_id": str(mailbox.unit_id)}),
                                (f"{url}/respond", handler, {}),
                                (f"{url}/answer", handler, {"text": "已约谈三号窗口负责人，营业执照变更已当场办结，并向您致歉。",
                                                            "resolved": True})):
        resp = client.post(path, json=body, headers=headers)
        assert resp.status_code == 200, resp.get_json()
    # The handler's view of it names no one and holds no contact.
    seen = client.get(url, headers=handler).get_data(as_text=True)
    assert CONTACT not in seen and "张女士" not in seen


def test_a_citizen_files_with_a_photo_from_a_phone_follows_and_rates_the_answer(mailbox, phone, screenshots):
    landing = PublicLandingPage.open(phone, mailbox.url)
    assert phone.execute_script("return window.innerWidth") <= PHONE_SIZE[0]
    landing.phone_screenshot(screenshots, "20-phone-landing")
    form = landing.file_a_complaint()
    assert form.map_ready()
    form.choose_category("刁难推诿")
    form.write("text", "5月11日上午在区市场监管局三号窗口办理营业执照变更，工作人员以材料不全为由推诿，让我来回跑了三次。")
    lon, lat = form.pick_on_map()
    assert abs(float(lon) - 106.5286) < 0.01 and abs(float(lat) - 29.5026) < 0.01
    form.write("address", "九龙坡区杨家坪正街 12 号 政务服务中心")
    form.attach_photos(GPS_PHOTO)
    form.write("name", "张女士")
    form.write("contact", CONTACT)
    # No page scrolls sideways on a phone.
    assert phone.execute_script("return document.documentElement.scrollWidth") <= PHONE_SIZE[0]
    form.phone_screenshot(screenshots, "21-phone-complaint-form")

    receipt = form.send()
    number, secret = receipt.tracking_number(), receipt.secret()
    assert number.startswith("TS") and len(secret) >= 20
    assert "1" in receipt.photo_note()
    assert secret not in phone.current_url and number not in phone.current_url
    receipt.phone_screenshot(screenshots, "22-phone-receipt")

    with mailbox.app.extensions["SESSION_FACTORY"]() as s:
        complaint = s.execute(select(Complaint).where(Complaint.tracking_number == number)).scalar_one()
        [photo] = s.execute(select(ComplaintPhoto).where(ComplaintPhoto.complaint_id == complaint.id)).scalars()
        blob = s.get(Blob, photo.blob_sha256)
        assert (blob.mime, blob.first_uploader_id) == ("image/jpeg", None)
        assert complaint.location is not None and s.get(ComplaintContact, complaint.id).contact == CONTACT

    status = receipt.follow()  # this phone remembers it: no typing
    assert status.state() == "received" and "等待审核" in status.state_text() and not status.may_rate()
    assert secret not in phone.page_source.replace(f'value="{secret}"', "")  # shown again only in the form body
    status.phone_screenshot(screenshots, "23-phone-following")

    _answer_through_the_api(mailbox, number)

    # Another phone (no cookie): the number and the secret typed in.
    phone.delete_all_cookies()
    status = ComplaintFollowPage.open(phone, mailbox.url).show(number.lower(), secret)
    assert status.state() == "answered" and status.may_rate()
    assert any("当场办结" in a for a in status.answers())
    status.phone_screenshot(screenshots, "24-phone-answered")

    status = status.rate("satisfied", resolved=True, text="办得很快，谢谢。")
    assert status.thanked() and status.state() == "closed" and status.rating() == "满意"
    assert not status.may_rate()
    status.phone_screenshot(screenshots, "25-phone-rated")
    with mailbox.app.extensions["SESSION_FACTORY"]() as s:
        done = s.execute(select(Complaint).where(Complaint.tracking_number == number)).scalar_one()
        assert (done.state.value, done.rating.value, done.resolved) == ("closed", "satisfied", True)
        assert [c.source.value for c in done.callbacks] == ["self"]

    # Followed again later: the rating stands and cannot be given twice.
    status = ComplaintStatusPage.open(phone, mailbox.url)
    assert status.state() == "closed" and not status.may_rate()
    assert _console_errors(phone) == []
