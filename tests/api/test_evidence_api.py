"""Evidence over HTTP: multipart uploads, limits, originals and viewing copies, a record's attachments."""

from __future__ import annotations

import io
import urllib.request
import uuid

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from field.custody import chain as custody
from field.core.models.evidence import Blob, DerivativesState
from field.custody.models import CustodyEntry
from field.core.models.platform import Role
from tests.directory_fixtures import fast_passwords  # noqa: F401 (fixture)
from tests.upload_fixtures import GPS_PHOTO, GPS_PHOTO_AT, NO_EXIF_PHOTO, SMALL_PHOTO, photo_bytes, sha256, submit_record


@pytest.fixture
def phone(make_user, login, fast_passwords):  # noqa: F811
    user = make_user(Role.squad_member)
    return user, login(user)


@pytest.fixture
def reviewer(make_user, login, fast_passwords):  # noqa: F811
    user = make_user(Role.reviewer)
    return user, login(user)


def post_file(client, headers, data, record_id, *, kind="photo", sha=None, filename="IMG_0001.jpg"):
    form = {"record_id": str(record_id), "kind": kind, "file": FileStorage(io.BytesIO(data), filename)}
    if sha is not None:
        form["sha256"] = sha
    # Encoded here, in memory: the test client's own encoder spools bodies past 500 KiB to a
    # temporary file it never closes.
    boundary, body = encode_multipart(form)
    return client.post("/api/v1/evidence", headers=headers, data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


# -- multipart -----------------------------------------------------------------------------------


def test_a_multipart_upload_stores_attaches_and_describes_the_photo(client, phone, session):
    user, headers = phone
    data, record_id = photo_bytes(GPS_PHOTO), uuid.uuid4()
    resp = post_file(client, headers, data, record_id, sha=sha256(data).upper())
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["record_id"] == str(record_id) and body["sha256"] == sha256(data)
    assert body["filename"] == "IMG_0001.jpg" and body["uploader_id"] == str(user.id)
    evidence = body["evidence"]
    assert evidence["mime"] == "image/jpeg" and evidence["media_kind"] == "photo" and evidence["has_exif"]
    assert evidence["gps"]["coordinates"] == pytest.approx(list(GPS_PHOTO_AT), abs=1e-6)
    assert evidence["captured_at"] == "2008-10-22T08:38:20+00:00" and not evidence["captured_at_has_offset"]
    assert evidence["derivatives_state"] == "pending"
    assert [e.kind for e in custody.history(session, "blob", sha256(data))] == [
        "evidence.received", "evidence.verified", "evidence.attached"]


def test_a_multipart_file_past_500_kib_reaches_the_pipeline_spooled_on_disk(client, phone, monkeypatch):
    from field.attachments import receipt as service

    real, seen = service.receive, {}

    def spy(session, store, fp, **kwargs):
        seen["on_disk"] = fp._rolled  # werkzeug's SpooledTemporaryFile moved to a file
        return real(session, store, fp, **kwargs)

    monkeypatch.setattr(service, "receive", spy)
    _, headers = phone
    data = photo_bytes("large/mei__Issue_525.jpg")
    assert len(data) > 500 * 1024
    assert post_file(client, headers, data, uuid.uuid4()).status_code == 201 and seen["on_disk"]


def test_sending_the_same_file_again_answers_200_and_stores_nothing_new(client, phone, session):
    _, headers = phone
    data, record_id = photo_bytes(SMALL_PHOTO), uuid.uuid4()
    assert post_file(client, headers, data, record_id).status_code == 201
    again = post_file(client, headers, data, record_id)
    assert again.status_code == 200 and again.get_json()["sha256"] == sha256(data)
    assert session.execute(select(func.count()).select_from(Blob)).scalar() == 1


def test_a_multipart_hash_mismatch_is_422_naming_the_field_and_keeps_nothing(client, phone, session, app):
    _, headers = phone
    data = photo_bytes(SMALL_PHOTO)
    resp = post_file(client, headers, data, uuid.uuid4(), sha="1" * 64)
    assert resp.status_code == 422
    problem = resp.get_json()
    assert problem["errors"][0]["field"] == "sha256" and problem["actual"] == sha256(data)
    from api.evidence import blob_store

    with app.app_context():
        assert not blob_store().exists(sha256(data))
    assert session.execute(select(func.count()).select_from(Blob)).scalar() == 0


@pytest.mark.parametrize("form, field", [
    ({"kind": "photo"}, "record_id"),
    ({"record_id": "x", "kind": "photo"}, "record_id"),
    ({"record_id": str(uuid.uuid4()), "kind": "drawing"}, "kind"),
    ({"record_id": str(uuid.uuid4()), "kind": "photo", "color": "red"}, "color"),
])
def test_bad_form_fields_are_422_naming_them(client, phone, form, field):
    _, headers = phone
    resp = client.post("/api/v1/evidence", headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(b"\xff\xd8\xff"), "a.jpg"), **form})
    assert resp.status_code == 422 and [e["field"] for e in resp.get_json()["errors"]] == [field]


def test_a_form_without_a_file_is_422(client, phone):
    _, headers = phone
    resp = client.post("/api/v1/evidence", headers=headers, content_type="multipart/form-data",
                       data={"record_id": str(uuid.uuid4()), "kind": "photo"})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "file"


def test_a_json_body_is_415(client, phone):
    _, headers = phone
    assert client.post("/api/v1/evidence", headers=headers, json={"kind": "photo"}).status_code == 415


def test_a_file_over_its_kinds_limit_is_413(client, phone, app):
    _, headers = phone
    app.config["EVIDENCE_MAX_PHOTO_BYTES"] = 4096
    resp = post_file(client, headers, photo_bytes(SMALL_PHOTO), uuid.uuid4())
    assert resp.status_code == 413


def test_a_body_over_every_limit_is_refused_while_it_is_parsed(client, phone, app):
    _, headers = phone
    for name in ("EVIDENCE_MAX_PHOTO_BYTES", "EVIDENCE_MAX_AUDIO_BYTES", "EVIDENCE_MAX_VIDEO_BYTES"):
        app.config[name] = 1000
    resp = post_file(client, headers, b"\xff\xd8\xff" + b"\0" * 200_000, uuid.uuid4())
    assert resp.status_code == 413 and resp.mimetype == "application/problem+json"


def test_bytes_that_are_no_accepted_format_are_415_whatever_their_name(client, phone):
    _, headers = phone
    resp = post_file(client, headers, b"%PDF-1.7\n" + b"x" * 100, uuid.uuid4(), filename="photo.jpg")
    assert resp.status_code == 415


def test_a_photo_over_the_pixel_limit_is_refused_before_decoding(client, phone, app):
    _, headers = phone
    app.config["EVIDENCE_MAX_PIXELS"] = 100 * 100
    resp = post_file(client, headers, photo_bytes(GPS_PHOTO), uuid.uuid4())
    assert resp.status_code == 422 and "pixels" in resp.get_json()["detail"]


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares a size in its IHDR and holds no pixel at all (a few dozen bytes)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IEND", b""))


def _pixel_refusal(resp, width: int, height: int, limit: int) -> dict:
    assert resp.status_code == 422, resp.get_data(as_text=True)
    problem = resp.get_json()
    assert f"{width}x{height}" in problem["detail"] and f"at most {limit} " in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == ["file"]
    assert (problem["max_pixels"], problem["width"], problem["height"]) == (limit, width, height)
    return problem


def test_a_header_declaring_more_pixels_than_pillow_opens_is_refused_with_the_configured_limit(client, phone, app):
    # 400 MP is over Pillow's own hard limit (178,956,970): its refusal once reached the phone,
    # naming Pillow's figure instead of EVIDENCE_MAX_PIXELS, with no errors[].field.
    _, headers = phone
    _pixel_refusal(post_file(client, headers, png_header(20_000, 20_000), uuid.uuid4(), filename="bomb.png"),
                   20_000, 20_000, app.config["EVIDENCE_MAX_PIXELS"])


def test_a_photo_between_the_configured_limit_and_pillows_is_refused_naming_the_file(client, phone, app):
    _, headers = phone
    _pixel_refusal(post_file(client, headers, png_header(10_000, 10_000), uuid.uuid4(), filename="big.png"),
                   10_000, 10_000, 50_000_000)
    app.config["EVIDENCE_MAX_PIXELS"] = 100_000  # a real photo over a small configured limit
    _pixel_refusal(post_file(client, headers, photo_bytes(GPS_PHOTO), uuid.uuid4()), 640, 480, 100_000)


def test_a_configured_limit_above_pillows_own_is_the_one_that_applies(client, phone, app):
    _, headers = phone
    app.config["EVIDENCE_MAX_PIXELS"] = 250_000_000
    data = png_header(15_000, 15_000)  # 225 MP: over Pillow's 178,956,970, under ours
    resp = post_file(client, headers, data, uuid.uuid4(), filename="panorama.png")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert client.get(f"/api/v1/evidence/{sha256(data)}", headers=headers).get_json()["width"] == 15_000


@pytest.mark.parametrize("data, status", [
    pytest.param(b"%PDF-1.7\n" + b"x" * 100, 415, id="not-a-photo"),
    pytest.param(b"\x89PNG\r\n\x1a\n" + b"\0" * 40, 422, id="unreadable-png"),
])
def test_media_refusals_name_the_file_field(client, phone, data, status):
    _, headers = phone
    resp = post_file(client, headers, data, uuid.uuid4())
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert [e["field"] for e in resp.get_json()["errors"]] == ["file"], resp.get_json()


def test_the_limits_are_published_for_phones(client, phone, app):
    _, headers = phone
    body = client.get("/api/v1/evidence/limits", headers=headers).get_json()
    assert body["photo"] == app.config["EVIDENCE_MAX_PHOTO_BYTES"]
    assert body["audio"] == app.config["EVIDENCE_MAX_AUDIO_BYTES"]
    assert body["video"] == app.config["EVIDENCE_MAX_VIDEO_BYTES"]
    assert body["max_pixels"] == app.config["EVIDENCE_MAX_PIXELS"]
    assert body["tus"]["endpoint"] == "/api/v1/uploads" and "sha256" in body["tus"]["checksum_algorithms"]


# -- reading -------------------------------------------------------------------------------------


def test_an_original_is_served_as_an_unsniffable_attachment_with_its_hash_as_etag(client, phone, session):
    user, headers = phone
    data = photo_bytes(GPS_PHOTO)
    post_file(client, headers, data, uuid.uuid4(), filename="现场照片.jpg")
    resp = client.get(f"/api/v1/evidence/{sha256(data)}/original", headers=headers)
    assert resp.status_code == 200 and resp.data == data
    assert resp.mimetype == "image/jpeg" and resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert "%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87.jpg" in resp.headers["Content-Disposition"]
    assert resp.headers["ETag"] == f'"{sha256(data)}"' and resp.headers["Content-Length"] == str(len(data))
    again = client.get(f"/api/v1/evidence/{sha256(data)}/original",
                       headers={**headers, "If-None-Match": f'"{sha256(data)}"'})
    assert again.status_code == 304 and not again.data
    downloads = [e for e in custody.history(session, "blob", sha256(data)) if e.kind == "evidence.downloaded"]
    assert len(downloads) == 1 and downloads[0].actor_id == user.id


def test_office_staff_read_evidence_of_records_in_their_scope_and_every_read_is_logged(
        client, phone, reviewer, session):
    user, headers = phone
    data = photo_bytes(GPS_PHOTO)
    record = submit_record(session, user, declared=[sha256(data)])
    post_file(client, headers, data, record.id)
    staff, staff_headers = reviewer
    sha = sha256(data)
    assert client.get(f"/api/v1/evidence/{sha}", headers=staff_headers).status_code == 200
    assert client.get(f"/api/v1/evidence/{sha}/original", headers=staff_headers).status_code == 200
    thumb = client.get(f"/api/v1/evidence/{sha}/thumb", headers=staff_headers)
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(thumb.data)).size[0] <= 320
    preview = client.get(f"/api/v1/evidence/{sha}/preview", headers=staff_headers)
    assert preview.status_code == 200 and preview.headers["X-Content-Type-Options"] == "nosniff"
    logged = [(e.kind, e.data["what"]) for e in custody.history(session, "blob", sha)
              if e.actor_id == staff.id]
    assert logged == [("evidence.downloaded", "original"), ("evidence.viewed", "thumb"),
                      ("evidence.viewed", "preview")]
    assert all(e.jurisdiction_id == record.jurisdiction_id for e in custody.history(session, "blob", sha)
               if e.actor_id == staff.id)


def test_evidence_is_404_to_whoever_may_not_see_a_record_it_is_attached_to(
        client, phone, make_user, login, session, tree):
    user, headers = phone
    data = photo_bytes(SMALL_PHOTO)
    record = submit_record(session, user)
    post_file(client, headers, data, record.id)
    sha = sha256(data)
    outsiders = [login(make_user(Role.squad_member)), login(make_user(Role.inspector)),
                 login(make_user(Role.reviewer, jurisdiction=tree["other"])),
                 login(make_user(Role.admin, jurisdiction=tree["other"]))]
    for other in outsiders:
        for suffix in ("", "/original", "/thumb", "/preview"):
            resp = client.get(f"/api/v1/evidence/{sha}{suffix}", headers=other)
            assert resp.status_code == 404, (suffix, resp.status_code)
    unknown = client.get(f"/api/v1/evidence/{'a' * 64}/original", headers=outsiders[0]).get_json()
    foreign = client.get(f"/api/v1/evidence/{sha}/original", headers=outsiders[0]).get_json()
    assert unknown["detail"] == foreign["detail"]
    assert client.get("/api/v1/evidence/not-a-hash", headers=headers).status_code == 404


def test_evidence_slipped_into_someone_elses_record_id_does_not_open_their_record(
        client, phone, make_user, login, session):
    """Attaching to an id before its record arrives does not make the evidence part of it."""
    _, headers = phone
    record_id = uuid.uuid4()
    data = photo_bytes(SMALL_PHOTO)
    post_file(client, headers, data, record_id)
    owner = make_user(Role.squad_member)
    submit_record(session, owner, record_id)
    owner_headers = login(owner)
    assert client.get(f"/api/v1/evidence/{sha256(data)}", headers=owner_headers).status_code == 404
    listed = client.get(f"/api/v1/records/{record_id}/attachments", headers=owner_headers).get_json()
    assert listed == []


def test_viewing_copies_are_made_on_first_view_once(client, phone, session):
    _, headers = phone
    data = photo_bytes(GPS_PHOTO)
    post_file(client, headers, data, uuid.uuid4())
    sha = sha256(data)
    first = client.get(f"/api/v1/evidence/{sha}/preview", headers=headers)
    second = client.get(f"/api/v1/evidence/{sha}/preview", headers=headers)
    assert first.status_code == second.status_code == 200 and first.data == second.data
    assert first.headers["ETag"] == f'"{sha256(first.data)}"'
    derived = [e for e in custody.history(session, "blob", sha) if e.kind == "evidence.derived"]
    assert len(derived) == 1 and derived[0].data["preview"]["sha256"] == sha256(first.data)
    described = client.get(f"/api/v1/evidence/{sha}", headers=headers).get_json()
    assert described["derivatives_state"] == "ready" and len(described["perceptual_hash"]) == 16
    assert {d["kind"] for d in described["derivatives"]} == {"thumb", "preview"}


def test_a_photo_that_cannot_be_decoded_is_kept_as_opaque_evidence_without_viewing_copies(client, phone, session):
    _, headers = phone
    data = photo_bytes("broken_odd/pillow__truncated_jpeg.jpg")
    assert post_file(client, headers, data, uuid.uuid4()).status_code == 201
    sha = sha256(data)
    resp = client.get(f"/api/v1/evidence/{sha}/thumb", headers=headers)
    assert resp.status_code == 404 and "truncated" in resp.get_json()["detail"]
    assert session.get(Blob, sha).derivatives_state == DerivativesState.failed
    assert client.get(f"/api/v1/evidence/{sha}/original", headers=headers).data == data


def test_a_viewer_waits_for_copies_someone_else_is_making_then_gets_503(client, phone, session, monkeypatch):
    from api import evidence as api_evidence
    from field.attachments import derivation as service

    _, headers = phone
    data = photo_bytes(SMALL_PHOTO)
    post_file(client, headers, data, uuid.uuid4())
    from datetime import timedelta

    assert service.claim_derivation(session, sha256(data), lease=timedelta(minutes=5)) is not None
    session.commit()
    monkeypatch.setattr(api_evidence, "DERIVE_WAIT_S", 0.3)
    resp = client.get(f"/api/v1/evidence/{sha256(data)}/thumb", headers=headers)
    assert resp.status_code == 503 and resp.headers["Retry-After"]


@pytest.fixture
def on_s3(app, s3_store):
    app.extensions["BLOB_STORE"] = s3_store
    return s3_store


def test_from_s3_a_read_is_a_redirect_to_a_short_lived_signed_url_and_is_logged(client, phone, session, on_s3):
    user, headers = phone
    data = photo_bytes(GPS_PHOTO)
    assert post_file(client, headers, data, uuid.uuid4(), filename="scene.jpg").status_code == 201
    sha = sha256(data)
    resp = client.get(f"/api/v1/evidence/{sha}/original", headers=headers)
    assert resp.status_code == 302 and resp.headers["Cache-Control"] == "no-store"
    url = resp.headers["Location"]
    assert "X-Amz-Expires=300" in url and "X-Amz-Signature" in url
    with urllib.request.urlopen(url) as downloaded:
        assert downloaded.read() == data
        assert downloaded.headers["Content-Disposition"].startswith('attachment; filename="scene.jpg"')
    thumb = client.get(f"/api/v1/evidence/{sha}/thumb", headers=headers)
    assert thumb.status_code == 302
    with urllib.request.urlopen(thumb.headers["Location"]) as downloaded:
        assert Image.open(io.BytesIO(downloaded.read())).format == "JPEG"
    entry = [e for e in custody.history(session, "blob", sha) if e.kind == "evidence.downloaded"][0]
    assert entry.data["via"] == "signed_url" and entry.actor_id == user.id


# -- a record's attachments ----------------------------------------------------------------------


def test_a_record_shows_which_declared_attachments_arrived_and_flags_to_the_office_only(
        client, phone, reviewer, session):
    user, headers = phone
    gps, bare = photo_bytes(GPS_PHOTO), photo_bytes(NO_EXIF_PHOTO)
    missing = "f" * 64
    far_away = (GPS_PHOTO_AT[0] + 0.5, GPS_PHOTO_AT[1])
    record = submit_record(session, user, at=far_away, declared=[sha256(gps), missing])
    post_file(client, headers, gps, record.id)
    post_file(client, headers, bare, record.id)
    _, staff_headers = reviewer
    office = client.get(f"/api/v1/records/{record.id}/attachments", headers=staff_headers).get_json()
    assert [(a["sha256"], a["declared"], a["arrived"]) for a in office] == [
        (sha256(gps), True, True), (missing, True, False), (sha256(bare), False, True)]
    assert [f["code"] for f in office[0]["flags"]] == ["gps_far_from_record"]
    assert office[0]["flags"][0]["data"]["distance_m"] > 40_000
    assert [f["code"] for f in office[2]["flags"]] == ["no_exif"]
    assert office[1]["evidence"] is None and office[0]["evidence"]["sha256"] == sha256(gps)
    own = client.get(f"/api/v1/records/{record.id}/attachments", headers=headers).get_json()
    assert [a["flags"] for a in own] == [None, None, None]
    session.refresh(record)
    assert record.flag_implausible_evidence
    queue = client.get("/api/v1/review-queue?flag=implausible_evidence", headers=staff_headers).get_json()
    assert str(record.id) in [item["id"] for item in queue["items"]]


def test_the_gps_of_evidence_can_be_read_in_gcj02_for_chinese_maps(client, phone, session):
    _, headers = phone
    data = photo_bytes(GPS_PHOTO)
    post_file(client, headers, data, uuid.uuid4())
    wgs = client.get(f"/api/v1/evidence/{sha256(data)}", headers=headers).get_json()["gps"]
    gcj = client.get(f"/api/v1/evidence/{sha256(data)}?crs=gcj02", headers=headers).get_json()["gps"]
    # Outside China GCJ-02 is WGS-84: the photo was taken in Tuscany.
    assert gcj["crs"] == "gcj02" and gcj["coordinates"] == wgs["coordinates"]


def test_reads_by_phones_of_their_own_thumbnails_are_not_logged_but_originals_are(client, phone, session):
    _, headers = phone
    data = photo_bytes(SMALL_PHOTO)
    post_file(client, headers, data, uuid.uuid4())
    client.get(f"/api/v1/evidence/{sha256(data)}/thumb", headers=headers)
    client.get(f"/api/v1/evidence/{sha256(data)}/original", headers=headers)
    kinds = session.execute(select(CustodyEntry.kind).where(CustodyEntry.subject_id == sha256(data))).scalars()
    assert "evidence.viewed" not in list(kinds)
