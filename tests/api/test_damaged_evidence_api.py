"""A stored original whose bytes no longer match its hash is never served as if intact, and can be repaired."""

from __future__ import annotations

import io
import urllib.request
import uuid

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from field.custody import chain as custody
from field.attachments import originals
from field.core.evidence_errors import EvidenceDamaged
from evidence.local_store import LocalBlobStore
from field.core.models.evidence import Blob, DerivativesState
from field.core.models.platform import Role
from tests.directory_fixtures import fast_passwords  # noqa: F401 (fixture)
from tests.upload_fixtures import GPS_PHOTO, SMALL_PHOTO, create_upload, photo_bytes, sha256


@pytest.fixture
def phone(make_user, login, fast_passwords):  # noqa: F811
    user = make_user(Role.squad_member)
    return user, login(user)


@pytest.fixture(params=["local", "s3"])
def store(request, app):
    """The app's evidence store: the local directory of its configuration, or SeaweedFS."""
    if request.param == "s3":
        app.extensions["BLOB_STORE"] = request.getfixturevalue("s3_store")
    from api.evidence import blob_store

    with app.app_context():
        return blob_store()


def post_file(client, headers, data, record_id):
    boundary, body = encode_multipart({"record_id": str(record_id), "kind": "photo",
                                       "file": FileStorage(io.BytesIO(data), "IMG_0001.jpg")})
    return client.post("/api/v1/evidence", headers=headers, data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def _key(store, sha: str) -> str:
    return f"{store.prefix}originals/{sha[:2]}/{sha[2:4]}/{sha}"


def damage(store, sha: str, *, truncate: bool = False) -> None:
    """Change the stored bytes behind the application's back: a flipped bit (same size), or a cut."""
    with store.open_original(sha) as stored:
        data = bytearray(stored.read())
    if truncate:
        data = data[: len(data) // 2]
    else:
        data[len(data) // 2] ^= 0x01
    if isinstance(store, LocalBlobStore):
        path = store.root / "originals" / sha[:2] / sha[2:4] / sha
        path.chmod(0o644)
        path.write_bytes(bytes(data))
    else:  # straight to the bucket, as another tool or a failing disk would: no checksum
        store.client.put_object(Bucket=store.bucket, Key=_key(store, sha), Body=bytes(data))


def kinds(session, sha):
    return [e.kind for e in custody.history(session, "blob", sha)]


def test_a_damaged_original_answers_409_evidence_damaged_and_is_quarantined_once(client, phone, session, store):
    _, headers = phone
    data = photo_bytes(GPS_PHOTO)
    assert post_file(client, headers, data, uuid.uuid4()).status_code == 201
    sha = sha256(data)
    damage(store, sha)
    url = f"/api/v1/evidence/{sha}/original"
    if not isinstance(store, LocalBlobStore):
        # S3 hands out a signed URL: the app never sees the bytes, and the store kept no checksum of the
        # overwrite. `fieldwatch verify` reads every original and quarantines this one.
        assert client.get(url, headers=headers).status_code == 302
        report = originals.verify_originals(session, store, stop_at_first=False, mark=True)
        session.commit()
        assert [p.sha256 for p in report.problems] == [sha]
    first = client.get(url, headers=headers)
    assert first.status_code == 409 and first.mimetype == "application/problem+json"
    problem = first.get_json()
    assert problem["type"] == "/problems/evidence-damaged" and problem["title"] == "Evidence damaged"
    assert problem["sha256"] == sha and "now hash to" in problem["damage"]
    assert "Upload the genuine file again" in problem["detail"]
    assert client.get(url, headers=headers).status_code == 409
    assert kinds(session, sha).count("evidence.damaged") == 1
    damaged = [e for e in custody.history(session, "blob", sha) if e.kind == "evidence.damaged"][0]
    assert damaged.data["found_by"] == ("read" if isinstance(store, LocalBlobStore) else "verify")
    assert kinds(session, sha).count("evidence.downloaded") == (0 if isinstance(store, LocalBlobStore) else 1)
    facts = client.get(f"/api/v1/evidence/{sha}", headers=headers).get_json()
    assert facts["damaged"] is True and facts["damaged_at"] and "now hash to" in facts["damage"]


def test_on_s3_an_original_of_another_size_is_refused_before_its_url_is_given(client, phone, session, s3_store, app):
    app.extensions["BLOB_STORE"] = s3_store
    _, headers = phone
    data = photo_bytes(SMALL_PHOTO)
    assert post_file(client, headers, data, uuid.uuid4()).status_code == 201
    damage(s3_store, sha256(data), truncate=True)
    resp = client.get(f"/api/v1/evidence/{sha256(data)}/original", headers=headers)
    assert resp.status_code == 409 and "bytes, recorded" in resp.get_json()["damage"]


@pytest.mark.parametrize("channel", ["multipart", "tus"])
def test_uploading_the_genuine_bytes_again_repairs_the_original(client, phone, session, store, channel):
    user, headers = phone
    data = photo_bytes(GPS_PHOTO)
    assert post_file(client, headers, data, uuid.uuid4()).status_code == 201
    sha = sha256(data)
    damage(store, sha)
    originals.verify_originals(session, store, mark=True)
    session.commit()
    assert client.get(f"/api/v1/evidence/{sha}/original", headers=headers).status_code == 409

    if channel == "multipart":
        assert post_file(client, headers, data, uuid.uuid4()).status_code == 201
    else:
        created = create_upload(client, headers, length=len(data), record_id=uuid.uuid4(), sha=sha, body=data)
        assert created.status_code == 201, created.get_json()
    repaired = [e for e in custody.history(session, "blob", sha) if e.kind == "evidence.repaired"]
    assert len(repaired) == 1 and repaired[0].data["rewritten"] is True and repaired[0].actor_id == user.id
    assert repaired[0].data["channel"] == channel and "now hash to" in repaired[0].data["damage"]
    session.expire_all()
    assert session.get(Blob, sha).damaged_at is None
    with store.open_original(sha) as stored:
        assert stored.read() == data
    resp = client.get(f"/api/v1/evidence/{sha}/original", headers=headers)
    if isinstance(store, LocalBlobStore):
        assert resp.status_code == 200 and resp.data == data
    else:
        assert resp.status_code == 302
        with urllib.request.urlopen(resp.headers["Location"]) as downloaded:
            assert downloaded.read() == data
    assert originals.verify_originals(session, store).problems == []


def test_sending_intact_bytes_again_repairs_nothing(client, phone, session, store):
    _, headers = phone
    data = photo_bytes(SMALL_PHOTO)
    assert post_file(client, headers, data, uuid.uuid4()).status_code == 201
    assert post_file(client, headers, data, uuid.uuid4()).status_code == 201
    assert "evidence.repaired" not in kinds(session, sha256(data))
    verified = [e for e in custody.history(session, "blob", sha256(data)) if e.kind == "evidence.verified"]
    assert [e.data["stored"] for e in verified] == ["new", "already stored"]


def test_viewing_copies_are_never_made_from_damaged_bytes(client, phone, session, store):
    _, headers = phone
    data = photo_bytes(GPS_PHOTO)
    assert post_file(client, headers, data, uuid.uuid4()).status_code == 201
    sha = sha256(data)
    damage(store, sha)
    thumb = client.get(f"/api/v1/evidence/{sha}/thumb", headers=headers)
    assert thumb.status_code == 409 and thumb.get_json()["type"] == "/problems/evidence-damaged"
    session.expire_all()
    blob = session.get(Blob, sha)
    assert blob.derivatives_state == DerivativesState.pending and blob.derivatives == []
    assert blob.derive_locked_by is None and not store.derivative_exists(sha, "thumb")
    damaged = [e for e in custody.history(session, "blob", sha) if e.kind == "evidence.damaged"]
    assert [e.data["found_by"] for e in damaged] == ["derive"] and "evidence.derived" not in kinds(session, sha)
    from field.attachments import derivation as service

    assert sha not in service.pending_derivations(session)  # the worker leaves it alone too
    assert post_file(client, headers, data, uuid.uuid4()).status_code == 201  # the repair
    assert client.get(f"/api/v1/evidence/{sha}/thumb", headers=headers).status_code in (200, 302)


def test_a_local_original_changed_while_it_is_sent_ends_the_answer_short(client, phone, app):
    _, headers = phone
    # 3.7 MB, sent in 1 MiB pieces: the test client takes the first piece at once, the flipped
    # byte (in the middle) is read after the change.
    data = photo_bytes("phones/mei__Sony_D5403_Xperia_Z2_.jpg")
    assert post_file(client, headers, data, uuid.uuid4()).status_code == 201
    sha = sha256(data)
    resp = client.get(f"/api/v1/evidence/{sha}/original", headers=headers, buffered=False)
    assert resp.status_code == 200  # checked whole before the first byte
    from api.evidence import blob_store

    with app.app_context():
        damage(blob_store(), sha)  # then changed in place, before the body is read
    with pytest.raises(EvidenceDamaged, match="changed while they were being sent"):
        resp.get_data()
