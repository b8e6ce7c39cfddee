"""The tus state machine on a real database and both blob stores: creation, the lease, chunks, the end."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import timedelta

import pytest

from evidence import uploads
from field.attachments import receipt
from field.attachments.links import check_record_for_evidence
from field.core.evidence_errors import OffsetMismatch, TooLarge
from evidence.local_store import LocalBlobStore
from field.core.errors import InvalidInput, NotFound
from field.core.models.platform import Role
from field.core.models.base import utcnow
from tests.upload_fixtures import LIMITS, submit_record

HOUR = timedelta(hours=1)


@pytest.fixture
def local_store(tmp_path):
    return LocalBlobStore(tmp_path / "evidence")


def _create(session, user, length=100, **metadata):
    metadata = {"kind": "photo", "record_id": str(uuid.uuid4()), **metadata}
    upload = uploads.create_upload(session, user, device_id=None, length=length, metadata=metadata, limits=LIMITS,
                                   expires_in=HOUR, check_record=check_record_for_evidence)
    session.commit()
    return upload


def _locked(session, store, upload):
    token = uploads.acquire_lock(session, store, upload)
    session.commit()
    return token


class Failing(io.RawIOBase):
    """A request body whose client goes away after ``after`` bytes."""

    def __init__(self, data: bytes, after: int):
        self.data, self.after, self.pos = data, after, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.pos >= self.after:
            raise ConnectionResetError("client went away")
        n = min(len(buffer), self.after - self.pos, 7)
        buffer[:n] = self.data[self.pos:self.pos + n]
        self.pos += n
        return n


class Trickle(io.RawIOBase):
    """A request body arriving 7 bytes at a time."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        piece = self.data[self.pos:self.pos + 7]
        buffer[:len(piece)] = piece
        self.pos += len(piece)
        return len(piece)


# -- creation -----------------------------------------------------------------------------------


def test_an_upload_records_its_declared_length_kind_record_and_hash(session, make_user):
    user = make_user(Role.squad_member)
    record_id = uuid.uuid4()
    upload = _create(session, user, length=5000, record_id=str(record_id), sha256="AB" * 32,
                     filename="../../DCIM/IMG_0001.HEIC")
    assert (upload.length, upload.offset, upload.kind, upload.record_id) == (5000, 0, "photo", record_id)
    assert upload.declared_sha256 == "ab" * 32 and upload.filename == "IMG_0001.HEIC"
    assert upload.jurisdiction_id == user.jurisdiction_id and upload.state(utcnow()) == "open"
    assert upload.expires_at - upload.created_at == HOUR


def test_the_limit_of_the_declared_kind_applies(session, make_user):
    user = make_user(Role.squad_member)
    with pytest.raises(TooLarge):
        _create(session, user, length=LIMITS.photo + 1)
    assert _create(session, user, length=LIMITS.photo + 1, kind="video").length == LIMITS.photo + 1


def test_evidence_may_name_a_record_still_to_come_but_not_someone_elses(session, make_user):
    user, other = make_user(Role.squad_member), make_user(Role.squad_member)
    own = submit_record(session, user)
    assert _create(session, user, record_id=str(own.id)).record_id == own.id
    assert _create(session, user, record_id=str(uuid.uuid4()))
    theirs = submit_record(session, other)
    with pytest.raises(InvalidInput) as err:
        _create(session, user, record_id=str(theirs.id))
    assert err.value.fields[0].field == "Upload-Metadata.record_id"


def test_only_the_creator_finds_an_upload(session, make_user):
    user = make_user(Role.squad_member)
    upload = _create(session, user)
    assert uploads.get_upload(session, user, upload.id) is upload
    for other in (make_user(Role.squad_member), make_user(Role.admin)):
        with pytest.raises(NotFound):
            uploads.get_upload(session, other, upload.id)


# -- the lease ----------------------------------------------------------------------------------


def test_only_one_request_holds_an_upload_at_a_time(session, make_user, local_store):
    upload = _create(session, make_user(Role.squad_member))
    token = _locked(session, local_store, upload)
    with pytest.raises(uploads.UploadLocked):
        uploads.acquire_lock(session, local_store, upload)
    uploads.release_lock(session, upload, "not-the-token")
    with pytest.raises(uploads.UploadLocked):
        uploads.acquire_lock(session, local_store, upload)
    uploads.release_lock(session, upload, token)
    assert _locked(session, local_store, upload) != token


def test_a_lease_lapses_unless_renewed(session, make_user, local_store):
    upload = _create(session, make_user(Role.squad_member))
    token = uploads.acquire_lock(session, local_store, upload, lease=timedelta(seconds=30))
    later = utcnow() + timedelta(seconds=20)
    assert uploads.renew_lock(session, upload.id, token, lease=timedelta(seconds=30), now=later)
    with pytest.raises(uploads.UploadLocked):
        uploads.acquire_lock(session, local_store, upload, now=later + timedelta(seconds=20))
    taken = uploads.acquire_lock(session, local_store, upload, now=later + timedelta(seconds=31))
    assert taken != token and not uploads.renew_lock(session, upload.id, token)


# -- chunks -------------------------------------------------------------------------------------


def test_chunks_append_in_order_and_the_offset_follows(session, make_user, blob_store):
    upload = _create(session, make_user(Role.squad_member), length=30)
    _locked(session, blob_store, upload)
    assert uploads.append(session, blob_store, upload, offset=0, stream=io.BytesIO(b"a" * 10), expires_in=HOUR) == 10
    assert uploads.append(session, blob_store, upload, offset=10, stream=io.BytesIO(b"b" * 20), expires_in=HOUR) == 30
    with blob_store.stage_open(upload.staging_id) as staged:
        assert staged.read() == b"a" * 10 + b"b" * 20


def test_a_chunk_at_another_offset_is_refused_unread(session, make_user, local_store):
    upload = _create(session, make_user(Role.squad_member), length=30)
    _locked(session, local_store, upload)
    body = io.BytesIO(b"x" * 10)
    with pytest.raises(OffsetMismatch) as err:
        uploads.append(session, local_store, upload, offset=5, stream=body, expires_in=HOUR)
    assert err.value.expected == 0 and body.tell() == 0


def test_a_chunk_announced_past_the_length_is_refused_unread(session, make_user, local_store):
    upload = _create(session, make_user(Role.squad_member), length=30)
    _locked(session, local_store, upload)
    body = io.BytesIO(b"x" * 31)
    with pytest.raises(TooLarge):
        uploads.append(session, local_store, upload, offset=0, stream=body, declared_size=31, expires_in=HOUR)
    assert body.tell() == 0 and local_store.stage_size(upload.staging_id) == 0


def test_a_chunk_cut_off_midway_keeps_what_arrived_for_the_resume(session, make_user, blob_store):
    upload = _create(session, make_user(Role.squad_member), length=100)
    _locked(session, blob_store, upload)
    data = bytes(range(100))
    with pytest.raises(ConnectionResetError):
        uploads.append(session, blob_store, upload, offset=0, stream=Failing(data, 42), expires_in=HOUR)
    session.rollback()
    uploads.resync(session, blob_store, upload)
    assert upload.offset == 42
    assert uploads.append(session, blob_store, upload, offset=42, stream=io.BytesIO(data[42:]), expires_in=HOUR) == 100
    with blob_store.stage_open(upload.staging_id) as staged:
        assert staged.read() == data


def test_a_cut_chunk_that_announced_a_checksum_is_discarded_whole(session, make_user, blob_store):
    upload = _create(session, make_user(Role.squad_member), length=100)
    _locked(session, blob_store, upload)
    data = bytes(range(100))
    checksum = uploads.Checksum("sha256", hashlib.sha256(data[:60]).digest())
    with pytest.raises(ConnectionResetError):
        uploads.append(session, blob_store, upload, offset=0, stream=Failing(data, 42), checksum=checksum,
                       expires_in=HOUR)
    assert blob_store.stage_size(upload.staging_id) == 0


def test_a_chunk_that_fails_its_checksum_is_discarded(session, make_user, local_store):
    upload = _create(session, make_user(Role.squad_member), length=100)
    _locked(session, local_store, upload)
    uploads.append(session, local_store, upload, offset=0, stream=io.BytesIO(b"a" * 50), expires_in=HOUR)
    wrong = uploads.Checksum("sha1", hashlib.sha1(b"b" * 50).digest())
    with pytest.raises(uploads.ChecksumMismatch):
        uploads.append(session, local_store, upload, offset=50, stream=io.BytesIO(b"c" * 50), checksum=wrong,
                       expires_in=HOUR)
    assert upload.offset == 50 and local_store.stage_size(upload.staging_id) == 50


def test_an_unknown_checksum_algorithm_is_refused():
    with pytest.raises(uploads.UnsupportedChecksum):
        uploads.Checksum("crc32", b"\0\0\0\0")


def test_the_lease_is_renewed_while_bytes_flow(session, make_user, local_store):
    upload = _create(session, make_user(Role.squad_member), length=10_000)
    _locked(session, local_store, upload)
    renewals = []
    uploads.append(session, local_store, upload, offset=0, stream=Trickle(b"z" * 10_000), expires_in=HOUR,
                   renew=lambda: renewals.append(1), renew_every_s=0)
    assert len(renewals) >= 10_000 // 7


def test_each_chunk_moves_the_expiry_forward(session, make_user, local_store):
    upload = _create(session, make_user(Role.squad_member), length=10)
    _locked(session, local_store, upload)
    later = upload.created_at + timedelta(minutes=50)
    uploads.append(session, local_store, upload, offset=0, stream=io.BytesIO(b"x"), expires_in=HOUR, now=later)
    assert upload.expires_at == later + HOUR


# -- the end of an upload -----------------------------------------------------------------------


def test_expired_and_refused_uploads_are_gone_to_tus_but_say_why_as_json(session, make_user, local_store):
    user = make_user(Role.squad_member)
    expired, refused = _create(session, user), _create(session, user)
    expired.expires_at = utcnow() - timedelta(seconds=1)
    receipt.mark_failed(session, local_store, refused, "not a photo")
    session.commit()
    for upload in (expired, refused):
        with pytest.raises(uploads.UploadGone):
            uploads.get_upload(session, user, upload.id)
    assert uploads.get_upload(session, user, refused.id, live=False).failure == "not a photo"


def test_terminating_discards_the_bytes_and_forgets_the_upload(session, make_user, blob_store):
    user = make_user(Role.squad_member)
    upload = _create(session, user)
    _locked(session, blob_store, upload)
    uploads.append(session, blob_store, upload, offset=0, stream=io.BytesIO(b"x" * 10), expires_in=HOUR)
    uploads.terminate(session, blob_store, upload)
    session.commit()
    assert blob_store.stage_size(upload.staging_id) == 0
    with pytest.raises(NotFound):
        uploads.get_upload(session, user, upload.id)


def test_clean_up_discards_expired_unfinished_staging_only(session, make_user, local_store):
    user = make_user(Role.squad_member)
    stale, fresh, busy = _create(session, user), _create(session, user), _create(session, user)
    for upload in (stale, fresh, busy):
        local_store.stage_append(upload.staging_id, 0, io.BytesIO(b"x" * 10))
    past = utcnow() - timedelta(seconds=1)
    stale.expires_at = busy.expires_at = past
    busy.locked_by, busy.locked_until = "a request", utcnow() + timedelta(minutes=1)
    session.commit()
    assert uploads.cleanup_expired(session, local_store) == 1
    assert local_store.stage_size(stale.staging_id) == 0
    assert local_store.stage_size(fresh.staging_id) == local_store.stage_size(busy.staging_id) == 10
    assert stale.staging_discarded_at is not None
    assert uploads.cleanup_expired(session, local_store) == 0


def test_clean_up_removes_staged_copies_a_crash_left_behind_completed_uploads(session, make_user, local_store):
    upload = _create(session, make_user(Role.squad_member), length=10)
    local_store.stage_append(upload.staging_id, 0, io.BytesIO(b"x" * 10))
    upload.completed_at = utcnow()
    session.commit()  # the original was committed, and the process died before discarding the staged copy
    assert uploads.cleanup_expired(session, local_store) == 1
    assert local_store.stage_size(upload.staging_id) == 0 and upload.staging_discarded_at is not None
