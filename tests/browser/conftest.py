"""The browser tier: the app served on loopback from a real database, Debian's chromium driven by Selenium.

A district is laid down once per database (module scope): a reviewer, a squad with two
monitors, and a finding with a real photo uploaded through the API, then 26 more findings
so the queue has a second page. Screenshots go to var/screenshots/ (not committed).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from api import create_app
from field.accounts import users as accounts, jurisdictions
from field.visits import findings, taxonomy
from field.core import migrate
from field.directory import squads, units
from field.core.locations import GivenLocation
from field.core.models.platform import JurisdictionLevel, Role, User
from field.directory.models import UnitKind
from field.records.lifecycle import Receipt
from stress.world import chongqing
from tests.conftest import PASSWORD, ROOT, fresh_database_url
from tests.web_fixtures import GPS_PHOTO, upload_photo

SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CST = timezone(timedelta(hours=8))
#: The flags the brief asks for: headless, no sandbox (root in CI), nothing reaching the network.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage")


@dataclass
class LiveOffice:
    url: str
    app: object
    reviewer: str
    monitor_code: str
    finding_id: uuid.UUID
    photo_sha: str
    #: Part 2's stories: the admin, the window findings are about, the monitor's bearer token.
    admin: str = "admin"
    window_id: uuid.UUID | None = None
    monitor_token: str = ""


def _lay_down(app) -> tuple[str, str, uuid.UUID, uuid.UUID]:
    with app.extensions["SESSION_FACTORY"]() as s:
        _province, _city, district = chongqing(s)
        jurisdictions.create_jurisdiction(s, actor=None, code="500107001", name="杨家坪街道",
                                          level=JurisdictionLevel.street, parent_id=district.id)
        admin = accounts.create_user(s, actor=None, username="admin", password=PASSWORD, display_name="王管理",
                                     role=Role.admin, jurisdiction_id=district.id)
        accounts.create_user(s, actor=None, username="li.reviewer", password=PASSWORD, display_name="李审核",
                             role=Role.reviewer, jurisdiction_id=district.id)
        taxonomy.seed_categories(s)
        squad = squads.create_squad(s, admin, name="第一暗访小分队", code_prefix="JLP")
        alice = squads.enlist(s, admin, squad, real_name="张某某", password=PASSWORD)
        bob = squads.enlist(s, admin, squad, real_name="王某某", password=PASSWORD)
        bureau = units.create_unit(s, admin, name="区市场监督管理局", kind=UnitKind.department,
                                   location=GivenLocation(106.51, 29.50))
        window = units.create_unit(s, admin, name="三号窗口", kind=UnitKind.window,
                                   parent_id=units.create_unit(s, admin, name="登记科", kind=UnitKind.section,
                                                               parent_id=bureau.id).id)
        s.commit()
        alice_user, bob_user = s.get(User, alice.user_id), s.get(User, bob.user_id)
        now = datetime.now(CST).replace(microsecond=0)

        def body(**kw):
            values = {"id": uuid.uuid4(), "device_time": now - timedelta(minutes=30), "category": "absent_from_post",
                      "severity": "moderate", "unit_id": window.id, "person_id": None, "visit_id": None,
                      "occurred_at": now - timedelta(hours=1), "description": "三号窗口工作人员离岗二十分钟，群众排队等候。",
                      "location": GivenLocation(106.5286, 29.5026, accuracy_m=15.0), "declared_attachments": []}
            values.update(kw)
            return values

        finding = findings.record_finding(s, Receipt(alice_user, None, None), body()).record
        s.commit()
        for i in range(26):
            findings.record_finding(s, Receipt(bob_user, None, None), body(
                category="delays", unit_id=bureau.id, location=None, description=f"营业执照变更拖延办理（第{i + 1}件）"))
        s.commit()
        return alice.code, alice.user_id, finding.id, window.id


@pytest.fixture(scope="module")
def live(backend, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    url = fresh_database_url(backend, tmp, "_browser")
    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "EVIDENCE_DIR": str(tmp / "evidence"), "SECRET_KEY": "browser"})
    code, alice_id, finding_id, window_id = _lay_down(app)
    client = app.test_client()
    token = client.post("/api/v1/auth/login", json={"username": code.lower(), "password": PASSWORD,
                                                    "device_name": "alice's phone"}).get_json()["token"]
    sha = upload_photo(client, {"Authorization": f"Bearer {token}"}, finding_id, GPS_PHOTO.read_bytes(),
                       filename="IMG_20260512_0950.jpg")["sha256"]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveOffice(f"http://127.0.0.1:{server.server_port}", app, "li.reviewer", code, finding_id, sha,
                     window_id=window_id, monitor_token=token)
    server.shutdown()
    thread.join(10)
    app.extensions["ENGINE"].dispose()


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not look for a driver online
    profile = tempfile.mkdtemp(prefix="fw-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS + (f"--user-data-dir={profile}", "--window-size=1366,900"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})  # an office in Chongqing
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
