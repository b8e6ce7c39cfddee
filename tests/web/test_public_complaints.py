"""The public complaint pages through the test client: file with photos, the receipt once, follow, rate once."""

from __future__ import annotations

import io
from datetime import date

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart
from sqlalchemy import func, select

from field.complaints import handling
from field.complaints.models import Complaint, ComplaintContact, ComplaintPhoto
from field.custody.models import CustodyEntry
from field.core.models.evidence import Blob
from field.core.models.platform import Role
from tests.directory_fixtures import fast_passwords, make_unit  # noqa: F401  (fixtures)
from tests.web_fixtures import GPS_PHOTO, csrf_of

PHONE = "13912345678"


@pytest.fixture
def office(app, tree, make_user, login, make_unit, session):
    app.config["COMPLAINTS_JURISDICTION"] = tree["home"].code
    app.config["OFFICE_DATE"] = date(2026, 5, 11)
    app.config["PUBLIC_COMPLAINT_LIMIT_PER_ADDRESS"] = "100 per minute"
    admin, reviewer, handler = make_user(Role.admin), make_user(Role.reviewer), make_user(Role.handler)
    unit = make_unit("区市场监督管理局")
    handling.assign_handler(session, admin, handler.id, unit.id)
    session.commit()
    return {"reviewer": login(reviewer), "handler": login(handler), "unit": unit}


def _form(client, **fields):
    page = client.get("/complaints/")
    assert page.status_code == 200
    return {"csrf_token": csrf_of(page.get_data(as_text=True)), "category": "obstruction",
            "text": "区市场监管局三号窗口办理营业执照变更时推诿，让我跑了三次。", "address": "杨家坪正街 12 号",
            "name": "", "contact": PHONE, **fields}


def _file(client, photos=(), **fields):
    fields = MultiDict(_form(client, **fields))
    for content, name in photos:
        fields.add("photos", FileStorage(io.BytesIO(content), name))
    # Encoded here, in memory: the test client's own encoder spools a large body to a file it leaves open.
    boundary, body = encode_multipart(fields)
    return client.post("/complaints/", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _count(session, model):
    session.expire_all()
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def _shown(resp, test: str) -> str:
    html = resp.get_data(as_text=True)
    start = html.index(f'data-test="{test}">') + len(f'data-test="{test}">')
    return html[start:html.index("<", start)].strip()


def test_a_complaint_filed_on_the_page_keeps_its_photo_and_shows_the_secret_once(client, office, session):
    photo = GPS_PHOTO.read_bytes()
    resp = _file(client, photos=[(photo, "IMG_0001.jpg")], lon="106.5286", lat="29.5026")
    assert resp.status_code == 201, resp.get_data(as_text=True)[:2000]
    number, secret = _shown(resp, "tracking-number"), _shown(resp, "secret")
    assert number.startswith("TS20260511-") and len(secret) >= 20
    assert resp.headers["Cache-Control"] == "no-store" and resp.headers["Referrer-Policy"] == "no-referrer"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Path=/complaints" in cookie and "SameSite=Strict" in cookie

    complaint = session.execute(select(Complaint).where(Complaint.tracking_number == number)).scalar_one()
    assert complaint.channel.value == "mailbox" and complaint.address == "杨家坪正街 12 号"
    assert complaint.location is not None
    assert session.get(ComplaintContact, complaint.id).contact == PHONE
    [kept] = session.execute(select(ComplaintPhoto)).scalars().all()
    blob = session.get(Blob, kept.blob_sha256)
    # The pipeline's original: hashed, sniffed, facts read, no account as its uploader, derivatives to be made.
    assert (blob.mime, blob.first_uploader_id, blob.jurisdiction_id) == ("image/jpeg", None,
                                                                         complaint.jurisdiction_id)
    assert blob.has_exif and blob.derivatives_state == "pending"
    kinds = set(session.execute(select(CustodyEntry.kind).where(CustodyEntry.subject_id.in_(
        [kept.blob_sha256, str(complaint.id)]))).scalars())
    assert {"evidence.received", "evidence.verified", "complaint.received", "complaint.photo_added"} <= kinds

    # The office sees the photo; the receipt is never shown again: the follow page shows no secret.
    staff = client.get(f"/api/v1/complaints/{complaint.id}", headers=office["reviewer"]).get_json()
    assert staff["photos"] == [kept.blob_sha256]
    followed = client.get("/complaints/follow")  # the phone's cookie
    assert followed.status_code == 200 and number in followed.get_data(as_text=True)
    assert 'data-test="secret"' not in followed.get_data(as_text=True)


def test_a_form_without_its_csrf_token_or_with_bad_input_writes_nothing(client, office, session):
    refused = _file(client, csrf_token="0" * 64)
    assert refused.status_code == 400
    empty = _file(client, text="  ")
    assert empty.status_code == 422 and 'class="field-error"' in empty.get_data(as_text=True)
    one_half = _file(client, lon="106.5")
    assert one_half.status_code == 422
    not_a_photo = _file(client, photos=[(b"%PDF-1.4 not a photo", "scan.jpg")])
    assert not_a_photo.status_code == 422 and 'data-test="photos-error"' in not_a_photo.get_data(as_text=True)
    too_many = _file(client, photos=[(GPS_PHOTO.read_bytes(), f"{i}.jpg") for i in range(4)])
    assert too_many.status_code == 422
    # The text the complainant typed survives a refusal.
    assert "让我跑了三次" in not_a_photo.get_data(as_text=True)
    assert (_count(session, Complaint), _count(session, ComplaintContact), _count(session, ComplaintPhoto)) == (
        0, 0, 0)


def test_a_photo_larger_than_the_page_allows_is_refused(client, office, app, session):
    app.config["PUBLIC_COMPLAINT_PHOTO_MAX_BYTES"] = 1024 * 1024
    big = GPS_PHOTO.read_bytes() + b"\0" * (1024 * 1024)
    resp = _file(client, photos=[(big, "big.jpg")])
    assert resp.status_code in (413, 422)
    assert _count(session, Complaint) == 0


def test_follow_and_rate_once_with_the_number_and_secret_in_the_body(client, office, app, session):
    filed = _file(client)
    number, secret = _shown(filed, "tracking-number"), _shown(filed, "secret")
    complaint = session.execute(select(Complaint).where(Complaint.tracking_number == number)).scalar_one()
    url = f"/api/v1/complaints/{complaint.id}"
    assert client.post(f"{url}/triage", json={"decision": "accept"}, headers=office["reviewer"]).status_code == 200
    assert client.post(f"{url}/dispatch", json={"unit_id": str(office["unit"].id)},
                       headers=office["reviewer"]).status_code == 200
    assert client.post(f"{url}/answer", json={"text": "已约谈窗口负责人，当场办结。", "resolved": True},
                       headers=office["handler"]).status_code == 200

    other = app.test_client()  # another phone: no cookie, types the number and secret
    page = other.get("/complaints/follow")
    assert page.status_code == 200 and 'data-test="follow-form"' in page.get_data(as_text=True)
    token = csrf_of(page.get_data(as_text=True))
    wrong = other.post("/complaints/follow", data={"csrf_token": token, "tracking_number": number, "secret": "x" * 24})
    assert wrong.status_code == 404
    shown = other.post("/complaints/follow", data={"csrf_token": token, "tracking_number": number.lower(),
                                                   "secret": secret})
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "已约谈窗口负责人" in html and 'data-test="rate-form"' in html
    assert shown.headers["Cache-Control"] == "no-store"

    rate = {"csrf_token": token, "tracking_number": number, "secret": secret, "rating": "satisfied",
            "resolved": "yes", "text": "谢谢"}
    rated = other.post("/complaints/rate", data=rate)
    assert rated.status_code == 200 and 'data-test="rated"' in rated.get_data(as_text=True)
    again = other.post("/complaints/rate", data={**rate, "rating": "dissatisfied"})
    assert again.status_code == 409 and 'data-test="rate-error"' in again.get_data(as_text=True)
    staff = client.get(url, headers=office["reviewer"]).get_json()
    assert (staff["state"], staff["rating"], staff["resolved"]) == ("closed", "satisfied", True)
    assert [c["source"] for c in staff["callbacks"]] == ["self"]


def test_forgetting_takes_the_complaint_off_the_phone(client, office):
    filed = _file(client)
    number = _shown(filed, "tracking-number")
    status = client.get("/complaints/follow")
    assert number in status.get_data(as_text=True)
    gone = client.post("/complaints/forget", data={"csrf_token": csrf_of(status.get_data(as_text=True))})
    assert gone.status_code == 303
    assert 'data-test="follow-form"' in client.get("/complaints/follow").get_data(as_text=True)


def test_the_page_shares_the_filing_limit_per_contact_and_counts_only_what_was_filed(client, office, app):
    app.config["PUBLIC_COMPLAINT_LIMIT_PER_CONTACT"] = "2 per hour"
    assert [_file(client, text="  ").status_code for _ in range(3)] == [422, 422, 422]
    assert [_file(client, contact=c).status_code for c in ("139-1234-5678", "+86 139 1234 5678", PHONE)] == [
        201, 201, 429]


def _photo_form(number, secret, content=None, name="IMG_0002.jpg"):
    boundary, body = encode_multipart(MultiDict({"tracking_number": number, "secret": secret,
                                                 "file": FileStorage(io.BytesIO(content or GPS_PHOTO.read_bytes()),
                                                                     name)}))
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def test_the_json_door_takes_photos_with_the_secret_while_the_complaint_waits_for_triage(client, office, session):
    filed = client.post("/api/v1/public/complaints", json={"category": "other", "text": "窗口推诿"}).get_json()
    number, secret = filed["tracking_number"], filed["secret"]
    wrong = client.post("/api/v1/public/complaints/photos", **_photo_form(number, "x" * 24))
    assert wrong.status_code == 404 and wrong.mimetype == "application/problem+json"
    added = client.post("/api/v1/public/complaints/photos", **_photo_form(number, secret))
    assert added.status_code == 201 and added.get_json()["photos"] == 1
    again = client.post("/api/v1/public/complaints/photos", **_photo_form(number, secret))
    assert again.get_json() == added.get_json()  # the same photo is kept once
    refused = client.post("/api/v1/public/complaints/photos", **_photo_form(number, secret, b"GIF89a nonsense"))
    assert refused.status_code in (415, 422) and refused.mimetype == "application/problem+json"
    assert client.post("/api/v1/public/complaints/photos", json={"tracking_number": number}).status_code == 415

    complaint = session.execute(select(Complaint).where(Complaint.tracking_number == number)).scalar_one()
    assert client.post(f"/api/v1/complaints/{complaint.id}/triage", json={"decision": "accept"},
                       headers=office["reviewer"]).status_code == 200
    late = client.post("/api/v1/public/complaints/photos", **_photo_form(number, secret))
    assert late.status_code == 409
    assert _count(session, ComplaintPhoto) == 1


def test_no_public_page_shows_who_complained_and_none_runs_an_inline_script(client, office, app, session):
    """Issue 14's canary over the pages: the name and contact typed on the form are kept apart
    (complaint_contacts) and never come back, neither on the receipt nor on following it, nor to the
    unit's handler; every page is under the CSP (no inline script, handler or style)."""
    from tests.web_fixtures import scan_page

    marker = "CANARY7Q"
    filed = _file(client, name=f"钱{marker}", contact=f"{marker}@example.cn")
    assert filed.status_code == 201
    number, secret = _shown(filed, "tracking-number"), _shown(filed, "secret")
    complaint = session.execute(select(Complaint).where(Complaint.tracking_number == number)).scalar_one()
    url = f"/api/v1/complaints/{complaint.id}"
    client.post(f"{url}/triage", json={"decision": "accept"}, headers=office["reviewer"])
    client.post(f"{url}/dispatch", json={"unit_id": str(office["unit"].id)}, headers=office["reviewer"])
    client.post(f"{url}/answer", json={"text": "已整改。", "resolved": True}, headers=office["handler"])
    pages = {"receipt": filed, "landing": client.get("/complaints/"), "follow (cookie)": client.get("/complaints/follow")}
    other = app.test_client()
    token = csrf_of(other.get("/complaints/follow").get_data(as_text=True))
    pages["follow (typed)"] = other.post("/complaints/follow", data={
        "csrf_token": token, "tracking_number": number, "secret": secret})
    pages["rated"] = other.post("/complaints/rate", data={
        "csrf_token": token, "tracking_number": number, "secret": secret, "rating": "dissatisfied",
        "resolved": "no", "text": "没有解决"})
    pages["handler's view"] = client.get(url, headers=office["handler"])
    pages["handler's list"] = client.get("/api/v1/complaints", headers=office["handler"])
    for name, resp in pages.items():
        assert resp.status_code in (200, 201), (name, resp.status_code)
        body = resp.get_data(as_text=True)
        assert marker not in body and marker.lower() not in body.lower(), name
        if resp.mimetype == "text/html":
            scan = scan_page(body)
            assert (scan.inline_scripts, scan.handlers, scan.styles) == ([], [], []), name
    session.expire_all()
    stored = session.execute(select(ComplaintContact)).scalars().all()
    assert any(marker in (c.name or "") + (c.contact or "") for c in stored)  # kept, apart
