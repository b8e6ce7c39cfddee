"""A photo with a ZIP appended (a polyglot) is stored as evidence, unchanged, with a trailing_data flag."""

from __future__ import annotations

import io
import uuid
import zipfile

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from field.core.models.platform import Role
from tests.directory_fixtures import fast_passwords  # noqa: F401 (fixture)
from tests.upload_fixtures import GPS_PHOTO, GPS_PHOTO_AT, create_upload, photo_bytes, sha256, submit_record


@pytest.fixture
def phone(make_user, login, fast_passwords):  # noqa: F811
    user = make_user(Role.squad_member)
    return user, login(user)


def polyglot(photo: str) -> tuple[bytes, bytes]:
    """A real photo of the corpus with a real ZIP appended: it opens as either."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("名单.txt", "监测员 张三 13800000000\n" * 50)
    data = photo_bytes(photo) + archive.getvalue()
    with zipfile.ZipFile(io.BytesIO(data)) as opened:
        assert opened.namelist() == ["名单.txt"]
    return data, archive.getvalue()


@pytest.mark.parametrize("channel", ["multipart", "tus"])
def test_a_jpeg_with_a_zip_appended_is_kept_as_sent_and_flagged_to_the_office(
        client, phone, session, make_user, login, channel):
    user, headers = phone
    data, archive = polyglot(GPS_PHOTO)
    record = submit_record(session, user, at=GPS_PHOTO_AT, declared=[sha256(data)])
    if channel == "multipart":
        boundary, body = encode_multipart({"record_id": str(record.id), "kind": "photo",
                                           "file": FileStorage(io.BytesIO(data), "IMG_0001.jpg")})
        sent = client.post("/api/v1/evidence", headers=headers, data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    else:
        sent = create_upload(client, headers, length=len(data), record_id=record.id, sha=sha256(data), body=data)
    assert sent.status_code == 201, sent.get_json()

    facts = client.get(f"/api/v1/evidence/{sha256(data)}", headers=headers).get_json()
    assert facts["trailing_data"] is True and facts["trailing_bytes"] == len(archive)
    assert facts["facts"]["trailing"] == {"bytes": len(archive), "offset": len(data) - len(archive),
                                          "looks_like": "zip", "camera_trailer": False}
    assert facts["mime"] == "image/jpeg" and facts["has_exif"]  # nothing else changes

    office = login(make_user(Role.reviewer))
    listed = client.get(f"/api/v1/records/{record.id}/attachments", headers=office).get_json()
    assert listed[0]["evidence"]["trailing_data"] is True
    assert [f["code"] for f in listed[0]["flags"]] == ["trailing_data"]
    assert listed[0]["flags"][0]["data"] == {"bytes": len(archive), "looks_like": "zip"}
    own = client.get(f"/api/v1/records/{record.id}/attachments", headers=headers).get_json()
    assert own[0]["flags"] is None  # flags are the office's

    original = client.get(f"/api/v1/evidence/{sha256(data)}/original", headers=office)
    assert original.status_code == 200 and original.data == data  # kept byte for byte
    thumb = client.get(f"/api/v1/evidence/{sha256(data)}/thumb", headers=office)
    assert thumb.status_code == 200 and b"PK\x03\x04" not in thumb.data


def test_a_photo_as_the_camera_wrote_it_carries_no_trailing_data(client, phone):
    _, headers = phone
    data = photo_bytes(GPS_PHOTO)
    boundary, body = encode_multipart({"record_id": str(uuid.uuid4()), "kind": "photo",
                                       "file": FileStorage(io.BytesIO(data), "IMG_0001.jpg")})
    assert client.post("/api/v1/evidence", headers=headers, data=body,
                       content_type=f"multipart/form-data; boundary={boundary}").status_code == 201
    facts = client.get(f"/api/v1/evidence/{sha256(data)}", headers=headers).get_json()
    assert facts["trailing_data"] is False and facts["trailing_bytes"] == 0 and "trailing" not in facts["facts"]
