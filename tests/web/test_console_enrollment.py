"""Device enrollment by QR code: an admin's one-time code, read from the QR image as a phone would,
exchanged at POST /api/v1/auth/enroll for a token that works until the device is revoked in the console."""

from __future__ import annotations

import base64
import io
import json
import re
from datetime import timedelta

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from field.accounts import enrollment
from field.accounts.models import EnrollmentCode
from field.core.errors import InvalidInput, NotAllowed
from field.core.models.base import utcnow
from field.core.models.platform import DeviceToken, Role
from tests.web_fixtures import console, csrf_of  # noqa: F401

_QR_IMG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"[^>]*data-test="enroll-qr"')


def _qr_payload(html: str) -> dict:
    """The QR code of the page, decoded from its pixels by zxing-cpp (what a phone's scanner does)."""
    found = _QR_IMG.search(html)
    assert found, "the page shows the enrollment QR code"
    image = Image.open(io.BytesIO(base64.b64decode(found.group(1))))
    # zxing-cpp may report one symbol twice (found by two of its detectors): one code is one text.
    texts = {c.text for c in zxingcpp.read_barcodes(image) if c.format == zxingcpp.BarcodeFormat.QRCode}
    assert len(texts) == 1, texts
    return json.loads(texts.pop())


def _make_code(signed_in, person) -> tuple[dict, str]:
    page = signed_in.get(f"/console/people/{person.id}")
    assert page.status_code == 200
    resp = signed_in.client.post(f"/console/people/{person.id}/enroll",
                                 data={"csrf_token": csrf_of(page.get_data(as_text=True))})
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    html = resp.get_data(as_text=True)
    return _qr_payload(html), html


def test_an_admin_enrolls_a_phone_by_qr_code_and_revoking_it_kills_the_token_at_once(app, client, console, make_user,
                                                                                      session):
    admin, inspector = make_user(Role.admin), make_user(Role.inspector, display_name="王检查")
    signed_in = console(admin)
    payload, html = _make_code(signed_in, inspector)
    assert set(payload) == {"fieldwatch", "v", "server", "code", "expires_at"}
    assert payload["fieldwatch"] == "enroll" and payload["v"] == 1 and payload["server"] == "http://localhost/"
    assert payload["code"].startswith("fwe_") and payload["code"] in html  # also shown as text, once
    # Only its hash is kept; it expires in ENROLLMENT_MINUTES.
    row = session.execute(select(EnrollmentCode).where(EnrollmentCode.user_id == inspector.id)).scalar_one()
    assert payload["code"] not in row.code_hash
    assert row.expires_at - row.created_at == timedelta(minutes=app.config["ENROLLMENT_MINUTES"])
    assert payload["expires_at"] == row.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")

    # The phone: no password, the code and its own name.
    resp = client.post("/api/v1/auth/enroll", json={"code": payload["code"], "device_name": "王的华为"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["user"]["username"] == inspector.username and body["device"]["device_name"] == "王的华为"
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/api/v1/me", headers=headers).get_json()["id"] == str(inspector.id)

    # Spent: the same code again is refused, like a wrong password.
    again = client.post("/api/v1/auth/enroll", json={"code": payload["code"], "device_name": "another"})
    assert again.status_code == 401 and again.mimetype == "application/problem+json"

    # The admin sees the device on the person's page and revokes it.
    page = signed_in.get(f"/console/people/{inspector.id}").get_data(as_text=True)
    assert "王的华为" in page
    device_id = body["device"]["id"]
    resp = signed_in.client.post(f"/console/people/{inspector.id}/devices/{device_id}/revoke",
                                 data={"csrf_token": csrf_of(page)})
    assert resp.status_code == 303
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    session.refresh(row)
    device = session.get(DeviceToken, row.device_id)
    session.refresh(device)
    assert device.revoked_reason == "revoked"
    assert "王的华为" not in signed_in.get(f"/console/people/{inspector.id}").get_data(as_text=True)


def test_an_expired_or_unknown_code_gets_no_token(app, client, console, make_user, session):
    admin, inspector = make_user(Role.admin), make_user(Role.inspector)
    payload, _html = _make_code(console(admin), inspector)
    row = session.execute(select(EnrollmentCode).where(EnrollmentCode.user_id == inspector.id)).scalar_one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    for code in (payload["code"], "fwe_" + "x" * 24):
        resp = client.post("/api/v1/auth/enroll", json={"code": code, "device_name": "phone"})
        assert resp.status_code == 401
    assert session.execute(select(DeviceToken).where(DeviceToken.user_id == inspector.id)).first() is None


def test_a_disabled_account_cannot_be_enrolled_and_its_waiting_code_dies(client, console, make_user, session, admin):
    inspector = make_user(Role.inspector)
    payload, _html = _make_code(console(admin), inspector)
    inspector.disabled = True
    session.commit()
    assert client.post("/api/v1/auth/enroll", json={"code": payload["code"], "device_name": "p"}).status_code == 401
    with pytest.raises(InvalidInput):
        enrollment.create_code(session, admin, inspector, timedelta(minutes=5))


def test_only_an_admin_of_the_persons_area_makes_codes_and_sees_people(console, make_user, session, tree):
    reviewer, inspector = make_user(Role.reviewer), make_user(Role.inspector)
    foreign_admin = make_user(Role.admin, jurisdiction=tree["other"])
    with pytest.raises(NotAllowed):
        enrollment.create_code(session, reviewer, inspector, timedelta(minutes=5))
    as_reviewer = console(reviewer)
    assert as_reviewer.get("/console/people").status_code == 403
    assert as_reviewer.get(f"/console/people/{inspector.id}").status_code == 403
    assert 'href="/console/people"' not in as_reviewer.get("/console/").get_data(as_text=True)
    as_foreign = console(foreign_admin)
    assert as_foreign.get(f"/console/people/{inspector.id}").status_code == 404
    page = as_foreign.get("/console/").get_data(as_text=True)
    assert as_foreign.client.post(f"/console/people/{inspector.id}/enroll",
                                  data={"csrf_token": csrf_of(page)}).status_code == 404
    assert session.execute(select(EnrollmentCode)).first() is None


def test_the_code_ttl_is_bounded(session, make_user, admin):
    inspector = make_user(Role.inspector)
    for minutes in (0, 31):
        with pytest.raises(InvalidInput):
            enrollment.create_code(session, admin, inspector, timedelta(minutes=minutes))


def test_a_phone_enrolled_twice_from_one_code_gets_one_token(session, make_user, admin):
    inspector = make_user(Role.inspector)
    issued = enrollment.create_code(session, admin, inspector, timedelta(minutes=5))
    session.commit()
    enrollment.redeem(session, issued.code, "first", timedelta(days=1))
    from field.core.errors import AuthenticationFailed

    with pytest.raises(AuthenticationFailed):
        enrollment.redeem(session, issued.code, "second", timedelta(days=1))
