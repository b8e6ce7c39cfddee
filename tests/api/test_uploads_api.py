"""tus 1.0 at /api/v1/uploads through the test client: every status the protocol documents."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from field.custody import chain as custody
from field.core.models.evidence import Attachment, Blob, Upload
from field.custody.models import CustodyEntry
from field.core.models.platform import Role
from field.core.models.base import utcnow
from tests.directory_fixtures import fast_passwords  # noqa: F401 (fixture)
from tests.upload_fixtures import (
    GPS_PHOTO,
    SMALL_PHOTO,
    create_upload,
    patch_chunk,
    photo_bytes,
    sha256,
    submit_record,
    tus,
    upload_path,
)


@pytest.fixture
def phone(make_user, login, fast_passwords):  # noqa: F811
    user = make_user(Role.squad_member)
    return user, login(user)


@pytest.fixture
def store(app, request):
    """The app's blob store: local by default; tests marked by parametrising ``store_kind`` run on S3 too."""
    kind = getattr(request, "param", "local")
    if kind == "s3":
        app.extensions["BLOB_STORE"] = request.getfixturevalue("s3_store")
    from api.evidence import blob_store

    with app.app_context():
        return blob_store()


def _staged(store, path) -> int:
    return store.stage_size(uuid.UUID(path.rsplit("/", 1)[-1]).hex)


# -- discovery and creation ----------------------------------------------------------------------


def test_options_announces_version_extensions_size_and_checksums_without_a_token(client, app):
    resp = client.options("/api/v1/uploads")
    assert resp.status_code == 204
    assert resp.headers["Tus-Resumable"] == "1.0.0" and resp.headers["Tus-Version"] == "1.0.0"
    assert set(resp.headers["Tus-Extension"].split(",")) == {
        "creation", "creation-with-upload", "checksum", "expiration", "termination"}
    assert set(resp.headers["Tus-Checksum-Algorithm"].split(",")) >= {"sha1", "sha256"}
    assert int(resp.headers["Tus-Max-Size"]) == app.config["EVIDENCE_MAX_VIDEO_BYTES"]


def test_creation_answers_201_with_the_upload_url_and_its_expiry(client, phone):
    user, headers = phone
    resp = create_upload(client, headers, length=1000, record_id=uuid.uuid4())
    assert resp.status_code == 201, resp.get_json()
    assert resp.headers["Location"].startswith("http://localhost/api/v1/uploads/")
    assert resp.headers["Tus-Resumable"] == "1.0.0" and resp.headers["Upload-Expires"].endswith("GMT")
    head = client.head(upload_path(resp), headers=tus(headers))
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == "0" and head.headers["Upload-Length"] == "1000"
    assert head.headers["Cache-Control"] == "no-store"


def test_a_request_without_a_supported_tus_version_is_412_with_the_version_spoken(client, phone):
    _, headers = phone
    resp = client.post("/api/v1/uploads", headers={**headers, "Upload-Length": "10", "Tus-Resumable": "0.2.2"})
    assert resp.status_code == 412 and resp.mimetype == "application/problem+json"
    assert resp.headers["Tus-Version"] == "1.0.0" and resp.headers["Tus-Resumable"] == "1.0.0"


def test_an_upload_longer_than_tus_max_size_is_413(client, phone, app):
    _, headers = phone
    resp = create_upload(client, headers, length=app.config["EVIDENCE_MAX_VIDEO_BYTES"] + 1,
                         record_id=uuid.uuid4(), kind="video")
    assert resp.status_code == 413 and resp.headers["Tus-Resumable"] == "1.0.0"


def test_an_upload_longer_than_its_kinds_limit_is_413(client, phone, app):
    _, headers = phone
    resp = create_upload(client, headers, length=app.config["EVIDENCE_MAX_PHOTO_BYTES"] + 1,
                         record_id=uuid.uuid4(), kind="photo")
    assert resp.status_code == 413


@pytest.mark.parametrize("metadata, field", [
    ({"record_id": str(uuid.uuid4())}, "Upload-Metadata.kind"),
    ({"kind": "photo"}, "Upload-Metadata.record_id"),
    ({"kind": "photo", "record_id": "not-a-uuid"}, "Upload-Metadata.record_id"),
    ({"kind": "photo", "record_id": str(uuid.uuid4()), "sha256": "abc"}, "Upload-Metadata.sha256"),
])
def test_bad_metadata_is_422_naming_the_pair(client, phone, metadata, field):
    _, headers = phone
    encoded = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in metadata.items())
    resp = client.post("/api/v1/uploads", headers=tus(headers, Upload_Length=10, Upload_Metadata=encoded))
    assert resp.status_code == 422
    assert [e["field"] for e in resp.get_json()["errors"]] == [field]


def test_metadata_that_is_not_base64_is_400(client, phone):
    _, headers = phone
    resp = client.post("/api/v1/uploads", headers=tus(headers, Upload_Length=10, Upload_Metadata="kind ***"))
    assert resp.status_code == 400


def test_evidence_cannot_be_aimed_at_someone_elses_record(client, phone, make_user, session):
    _, headers = phone
    other = submit_record(session, make_user(Role.squad_member))
    resp = create_upload(client, headers, length=10, record_id=other.id)
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "Upload-Metadata.record_id"


def test_a_deferred_length_is_not_supported(client, phone):
    _, headers = phone
    resp = client.post("/api/v1/uploads", headers=tus(headers, Upload_Defer_Length=1))
    assert resp.status_code == 400


# -- appending -----------------------------------------------------------------------------------


def test_chunks_in_order_complete_the_upload_and_attach_the_original(client, phone, session):
    user, headers = phone
    data, record_id = photo_bytes(GPS_PHOTO), uuid.uuid4()
    url = upload_path(create_upload(client, headers, length=len(data), record_id=record_id, sha=sha256(data)))
    half = len(data) // 2
    first = patch_chunk(client, url, headers, 0, data[:half])
    assert first.status_code == 204 and first.headers["Upload-Offset"] == str(half)
    last = patch_chunk(client, url, headers, half, data[half:])
    assert last.status_code == 204 and last.headers["Upload-Offset"] == str(len(data))
    status = client.get(url, headers=headers).get_json()
    assert status["state"] == "complete" and status["sha256"] == sha256(data)
    attachment = session.execute(select(Attachment).where(Attachment.record_id == record_id)).scalar_one()
    assert attachment.blob_sha256 == sha256(data) and attachment.uploader_id == user.id
    kinds = [e.kind for e in custody.history(session, "blob", sha256(data))]
    assert kinds == ["evidence.received", "evidence.verified", "evidence.attached"]


def test_creation_with_upload_takes_the_first_bytes_in_the_post(client, phone):
    _, headers = phone
    data = photo_bytes(SMALL_PHOTO)
    resp = create_upload(client, headers, length=len(data), record_id=uuid.uuid4(), body=data[:1000])
    assert resp.status_code == 201 and resp.headers["Upload-Offset"] == "1000"
    whole = create_upload(client, headers, length=len(data), record_id=uuid.uuid4(), body=data)
    assert whole.status_code == 201 and whole.headers["Upload-Offset"] == str(len(data))
    assert client.get(upload_path(whole), headers=headers).get_json()["state"] == "complete"


def test_a_patch_of_another_content_type_is_415_and_changes_nothing(client, phone, store):
    _, headers = phone
    url = upload_path(create_upload(client, headers, length=100, record_id=uuid.uuid4()))
    resp = client.patch(url, headers={**tus(headers, Upload_Offset=0), "Content-Type": "application/octet-stream"},
                        data=b"x" * 10)
    assert resp.status_code == 415 and resp.headers["Tus-Resumable"] == "1.0.0"
    assert _staged(store, url) == 0


@pytest.mark.parametrize("content_type", ["application/json", "application/merge-patch+json", "text/plain",
                                          "text/csv", "multipart/form-data; boundary=x", None])
def test_a_patch_of_any_other_type_gets_the_tus_415_not_the_json_guards_answer(client, phone, store, content_type):
    # A JSON type made the JSON guard parse the chunk (400 "not valid JSON"); text/plain or no type
    # got its "send application/json" 415: neither tells a tus client what to send.
    _, headers = phone
    url = upload_path(create_upload(client, headers, length=100, record_id=uuid.uuid4()))
    request_headers = tus(headers, Upload_Offset=0)
    if content_type:
        request_headers["Content-Type"] = content_type
    resp = client.patch(url, headers=request_headers, data=b"\xff\xd8\xff not json [[[" + b"x" * 20)
    assert resp.status_code == 415, resp.get_data(as_text=True)
    assert resp.headers["Tus-Resumable"] == "1.0.0" and resp.mimetype == "application/problem+json"
    assert "application/offset+octet-stream" in resp.get_json()["detail"]
    assert _staged(store, url) == 0


def test_creation_with_a_body_of_another_type_gets_the_tus_415(client, phone):
    _, headers = phone
    request_headers = tus(headers, Upload_Length=10)
    request_headers["Upload-Metadata"] = "kind cGhvdG8=,record_id " + __import__("base64").b64encode(
        str(uuid.uuid4()).encode()).decode()
    resp = client.post("/api/v1/uploads", headers=request_headers, data=b'{"a": [1, 2', content_type="application/json")
    assert resp.status_code == 415 and "application/offset+octet-stream" in resp.get_json()["detail"]
    assert resp.headers["Tus-Resumable"] == "1.0.0"


@pytest.mark.parametrize("store", ["local", "s3"], indirect=True)
def test_a_wrong_offset_is_409_with_the_current_offset_and_the_upload_unchanged(client, phone, store):
    _, headers = phone
    data = photo_bytes(SMALL_PHOTO)
    url = upload_path(create_upload(client, headers, length=len(data), record_id=uuid.uuid4()))
    patch_chunk(client, url, headers, 0, data[:100])
    for wrong in (0, 50, 200):
        resp = patch_chunk(client, url, headers, wrong, data[wrong:wrong + 100])
        assert resp.status_code == 409 and resp.headers["Upload-Offset"] == "100"
        assert resp.mimetype == "application/problem+json"
    assert _staged(store, url) == 100
    with store.stage_open(uuid.UUID(url.rsplit("/", 1)[-1]).hex) as staged:
        assert staged.read() == data[:100]


@pytest.mark.parametrize("store", ["local", "s3"], indirect=True)
@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "md5"])
def test_a_chunk_failing_its_checksum_is_460_and_discarded(client, phone, store, algorithm):
    _, headers = phone
    data = photo_bytes(SMALL_PHOTO)
    url = upload_path(create_upload(client, headers, length=len(data), record_id=uuid.uuid4()))

    def checksum(chunk):
        return f"{algorithm} {base64.b64encode(hashlib.new(algorithm, chunk).digest()).decode()}"

    ok = patch_chunk(client, url, headers, 0, data[:100], Upload_Checksum=checksum(data[:100]))
    assert ok.status_code == 204
    bad = patch_chunk(client, url, headers, 100, data[100:200], Upload_Checksum=checksum(b"something else"))
    assert bad.status_code == 460 and bad.headers["Upload-Offset"] == "100"
    assert bad.get_json()["type"] == "/problems/checksum-mismatch"
    assert _staged(store, url) == 100
    rest = patch_chunk(client, url, headers, 100, data[100:], Upload_Checksum=checksum(data[100:]))
    assert rest.status_code == 204 and rest.headers["Upload-Offset"] == str(len(data))


def test_an_unknown_checksum_algorithm_is_400(client, phone):
    _, headers = phone
    url = upload_path(create_upload(client, headers, length=10, record_id=uuid.uuid4()))
    resp = patch_chunk(client, url, headers, 0, b"x" * 10, Upload_Checksum="crc32 AAAAAA==")
    assert resp.status_code == 400


def test_a_chunk_past_upload_length_is_413_and_nothing_of_it_is_kept(client, phone, store):
    _, headers = phone
    url = upload_path(create_upload(client, headers, length=100, record_id=uuid.uuid4()))
    patch_chunk(client, url, headers, 0, b"\xff\xd8\xff" + b"x" * 47)
    resp = patch_chunk(client, url, headers, 50, b"y" * 51)
    assert resp.status_code == 413 and resp.headers["Upload-Offset"] == "50"
    assert _staged(store, url) == 50


def test_a_patch_while_another_holds_the_upload_is_423(client, phone, session):
    _, headers = phone
    url = upload_path(create_upload(client, headers, length=100, record_id=uuid.uuid4()))
    upload_id = uuid.UUID(url.rsplit("/", 1)[-1])
    session.execute(update(Upload).where(Upload.id == upload_id)
                    .values(locked_by="someone", locked_until=utcnow() + timedelta(minutes=1)))
    session.commit()
    resp = patch_chunk(client, url, headers, 0, b"x" * 10)
    assert resp.status_code == 423 and resp.headers["Tus-Resumable"] == "1.0.0"
    # A lease that lapsed (its holder died) no longer stands in the way.
    session.execute(update(Upload).where(Upload.id == upload_id).values(locked_until=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert patch_chunk(client, url, headers, 0, b"x" * 10).status_code == 204


# -- ownership, termination, expiry --------------------------------------------------------------


def test_an_upload_belongs_to_its_creator_and_anyone_else_gets_404(client, phone, make_user, login):
    _, headers = phone
    url = upload_path(create_upload(client, headers, length=10, record_id=uuid.uuid4()))
    for role in (Role.squad_member, Role.admin):
        other = login(make_user(role))
        assert client.head(url, headers=tus(other)).status_code == 404
        assert patch_chunk(client, url, other, 0, b"x").status_code == 404
        assert client.delete(url, headers=tus(other)).status_code == 404
        assert client.get(url, headers=other).status_code == 404
    assert client.head(url, headers=tus(headers)).status_code == 200


def test_termination_answers_204_discards_the_bytes_and_then_404(client, phone, store):
    _, headers = phone
    url = upload_path(create_upload(client, headers, length=100, record_id=uuid.uuid4()))
    patch_chunk(client, url, headers, 0, b"x" * 40)
    resp = client.delete(url, headers=tus(headers))
    assert resp.status_code == 204 and resp.headers["Tus-Resumable"] == "1.0.0"
    assert _staged(store, url) == 0
    assert client.head(url, headers=tus(headers)).status_code == 404
    assert patch_chunk(client, url, headers, 40, b"x").status_code == 404


def test_an_expired_upload_answers_410(client, phone, session):
    _, headers = phone
    url = upload_path(create_upload(client, headers, length=100, record_id=uuid.uuid4()))
    session.execute(update(Upload).where(Upload.id == uuid.UUID(url.rsplit("/", 1)[-1]))
                    .values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert client.head(url, headers=tus(headers)).status_code == 410
    resp = patch_chunk(client, url, headers, 0, b"x")
    assert resp.status_code == 410 and "Upload-Offset" not in resp.headers
    assert client.get(url, headers=headers).get_json()["state"] == "expired"


# -- what the last byte does ---------------------------------------------------------------------


def test_a_finished_upload_whose_hash_differs_from_the_phones_is_422_and_keeps_nothing(client, phone, store,
                                                                                        session):
    _, headers = phone
    data = photo_bytes(SMALL_PHOTO)
    url = upload_path(create_upload(client, headers, length=len(data), record_id=uuid.uuid4(), sha="0" * 64))
    resp = patch_chunk(client, url, headers, 0, data)
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "Upload-Metadata.sha256"
    assert not store.exists(sha256(data)) and _staged(store, url) == 0
    assert session.execute(select(func.count()).select_from(Blob)).scalar() == 0
    assert client.head(url, headers=tus(headers)).status_code == 410
    status = client.get(url, headers=headers).get_json()
    assert status["state"] == "failed" and "SHA-256" in status["failure"]


def test_content_that_is_not_the_declared_kind_is_refused_with_415(client, phone, store):
    _, headers = phone
    data = photo_bytes(SMALL_PHOTO)
    url = upload_path(create_upload(client, headers, length=len(data), record_id=uuid.uuid4(), kind="audio"))
    resp = patch_chunk(client, url, headers, 0, data)
    assert resp.status_code == 415 and not store.exists(sha256(data))


def test_a_tus_upload_over_the_pixel_limit_is_422_naming_the_uploaded_bytes_and_the_configured_limit(client, phone,
                                                                                                     app):
    from tests.api.test_evidence_api import png_header

    _, headers = phone
    data = png_header(20_000, 20_000)  # over Pillow's own limit too: its figure once leaked out
    url = upload_path(create_upload(client, headers, length=len(data), record_id=uuid.uuid4()))
    resp = patch_chunk(client, url, headers, 0, data)
    assert resp.status_code == 422, resp.get_data(as_text=True)
    problem = resp.get_json()
    assert [e["field"] for e in problem["errors"]] == ["_body"]
    assert f"at most {app.config['EVIDENCE_MAX_PIXELS']} " in problem["detail"] and "20000x20000" in problem["detail"]


def test_an_empty_upload_is_refused_as_not_evidence(client, phone):
    _, headers = phone
    resp = create_upload(client, headers, length=0, record_id=uuid.uuid4())
    assert resp.status_code == 415 and "Location" in resp.headers


def test_the_same_bytes_uploaded_twice_are_stored_once_and_attached_to_each_record(client, phone, session):
    _, headers = phone
    data = photo_bytes(SMALL_PHOTO)
    first, second = uuid.uuid4(), uuid.uuid4()
    for record_id in (first, second):
        resp = create_upload(client, headers, length=len(data), record_id=record_id, body=data)
        assert resp.status_code == 201
    assert session.execute(select(func.count()).select_from(Blob)).scalar() == 1
    assert {a.record_id for a in session.execute(select(Attachment)).scalars()} == {first, second}
    verified = session.execute(select(CustodyEntry).where(CustodyEntry.kind == "evidence.verified")
                               .order_by(CustodyEntry.seq)).scalars().all()
    assert [e.data["stored"] for e in verified] == ["new", "already stored"]


@pytest.mark.parametrize("store", ["local", "s3"], indirect=True)
def test_an_empty_patch_at_the_end_completes_an_upload_whose_completion_failed(client, phone, store, session,
                                                                               monkeypatch):
    """On S3 the last chunk was never sent to staging (it goes once, as the original): the failed
    request's resync writes it there, so the upload is still complete in the store."""
    _, headers = phone
    data = photo_bytes(SMALL_PHOTO)
    url = upload_path(create_upload(client, headers, length=len(data), record_id=uuid.uuid4()))
    from field.core.evidence_errors import StorageUnavailable

    def down(*args, **kwargs):
        raise StorageUnavailable()

    with monkeypatch.context() as patch:
        patch.setattr(type(store), "keep_staged", down)
        resp = patch_chunk(client, url, headers, 0, data)
    assert resp.status_code == 503 and resp.headers["Upload-Offset"] == str(len(data))
    again = patch_chunk(client, url, headers, len(data), b"")
    assert again.status_code == 204 and store.exists(sha256(data))


def test_every_answer_under_uploads_carries_tus_resumable_even_a_routing_404(client, phone):
    _, headers = phone
    resp = client.head("/api/v1/uploads/not-an-id", headers=tus(headers))
    assert resp.status_code == 404 and resp.headers["Tus-Resumable"] == "1.0.0"
    assert "Tus-Resumable" not in client.get("/healthz").headers


def test_termination_waits_for_no_one_holding_the_upload_and_answers_423(client, phone, session):
    _, headers = phone
    url = upload_path(create_upload(client, headers, length=100, record_id=uuid.uuid4()))
    session.execute(update(Upload).where(Upload.id == uuid.UUID(url.rsplit("/", 1)[-1]))
                    .values(locked_by="a chunk", locked_until=utcnow() + timedelta(minutes=1)))
    session.commit()
    assert client.delete(url, headers=tus(headers)).status_code == 423
    assert client.head(url, headers=tus(headers)).status_code == 200


# -- a completion cut short ----------------------------------------------------------------------


def _all_bytes_in_but_not_completed(client, headers, store, session, data) -> str:
    """What a server killed during completion leaves: every byte staged and the offset committed."""
    import io

    url = upload_path(create_upload(client, headers, length=len(data), record_id=uuid.uuid4()))
    upload = session.get(Upload, uuid.UUID(url.rsplit("/", 1)[-1]))
    store.stage_append(upload.staging_id, 0, io.BytesIO(data))
    session.execute(update(Upload).where(Upload.id == upload.id).values(offset=len(data)))
    session.commit()
    return url


def test_a_head_completes_an_upload_whose_bytes_are_all_in_but_whose_completion_was_cut_short(
        client, phone, store, session):
    _, headers = phone
    data = photo_bytes(SMALL_PHOTO)
    url = _all_bytes_in_but_not_completed(client, headers, store, session, data)
    head = client.head(url, headers=tus(headers))
    assert head.status_code == 200 and head.headers["Upload-Offset"] == str(len(data))
    status = client.get(url, headers=headers).get_json()
    assert status["state"] == "complete" and store.exists(sha256(data))
    assert session.execute(select(func.count()).select_from(Attachment)).scalar() == 1
    # Asking again changes nothing.
    assert client.head(url, headers=tus(headers)).status_code == 200
    assert session.execute(select(func.count()).select_from(Attachment)).scalar() == 1


def test_a_head_on_a_cut_short_completion_still_held_by_a_lease_is_423(client, phone, store, session):
    _, headers = phone
    url = _all_bytes_in_but_not_completed(client, headers, store, session, photo_bytes(SMALL_PHOTO))
    session.execute(update(Upload).where(Upload.id == uuid.UUID(url.rsplit("/", 1)[-1]))
                    .values(locked_by="a-dead-process", locked_until=utcnow() + timedelta(minutes=1)))
    session.commit()
    head = client.head(url, headers=tus(headers))
    assert head.status_code == 423 and head.headers["Tus-Resumable"] == "1.0.0"
    assert client.get(url, headers=headers).get_json()["state"] == "open"


# -- one pass through the store ---------------------------------------------------------------------


def test_a_photo_sent_in_its_creation_reaches_s3_once_with_no_get_of_staged_bytes_and_no_list(
        client, phone, app, s3_store):
    from tests.evidence_fixtures import s3_calls

    app.extensions["BLOB_STORE"] = store = s3_store
    _, headers = phone
    data = photo_bytes(GPS_PHOTO)
    calls = s3_calls(store)
    resp = create_upload(client, headers, length=len(data), record_id=uuid.uuid4(), sha=sha256(data), body=data)
    assert resp.status_code == 201 and resp.headers["Upload-Offset"] == str(len(data))
    assert client.get(upload_path(resp), headers=headers).get_json()["state"] == "complete"
    # The bytes go up once, as the original; no staging chunk, nothing read back, nothing listed.
    assert calls.count("PutObject") == 1 and "GetObject" not in calls and "ListObjectsV2" not in calls, calls
    with store.open_original(sha256(data)) as stored:
        assert stored.read() == data
    assert store.head_original(sha256(data)).sha256 == sha256(data)  # the store checked and keeps the hash


def test_a_photo_sent_in_several_patches_to_s3_is_read_back_once_and_never_listed(client, phone, app, s3_store):
    from tests.evidence_fixtures import s3_calls

    app.extensions["BLOB_STORE"] = store = s3_store
    _, headers = phone
    data = photo_bytes(GPS_PHOTO)
    url = upload_path(create_upload(client, headers, length=len(data), record_id=uuid.uuid4(), sha=sha256(data)))
    calls = s3_calls(store)
    cut = [0, len(data) // 3, 2 * len(data) // 3, len(data)]
    for start, end in zip(cut, cut[1:]):
        assert patch_chunk(client, url, headers, start, data[start:end]).status_code == 204
    assert client.get(url, headers=headers).get_json()["state"] == "complete"
    assert "ListObjectsV2" not in calls, calls
    assert calls.count("GetObject") == 2 and calls.count("PutObject") == 3  # two chunks, then the original
    with store.open_original(sha256(data)) as stored:
        assert stored.read() == data


def test_a_wrong_phone_hash_on_s3_stores_nothing_and_leaves_no_staging(client, phone, app, s3_store):
    app.extensions["BLOB_STORE"] = store = s3_store
    _, headers = phone
    data = photo_bytes(SMALL_PHOTO)
    resp = create_upload(client, headers, length=len(data), record_id=uuid.uuid4(), sha="0" * 64, body=data)
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "Upload-Metadata.sha256"
    assert not store.exists(sha256(data))
    assert store.stage_size(uuid.UUID(upload_path(resp).rsplit("/", 1)[-1]).hex) == 0

