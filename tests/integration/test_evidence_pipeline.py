"""The evidence pipeline on a real database and both blob stores: receipt, refusals, derivatives, custody, reads."""

from __future__ import annotations

import io
import os
import uuid
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from evidence import pipeline
from field.attachments import access, derivation, originals, receipt
from field.attachments.links import check_record_for_evidence
from field.custody import chain as custody
from evidence import uploads
from field.core.evidence_errors import CorruptMedia, TooLarge, TooManyPixels, UnsupportedMedia
from evidence.photo import read_facts
from evidence.local_store import LocalBlobStore
from field.core.errors import InvalidInput, NotFound
from field.core.models.evidence import Attachment, Blob, BlobDerivative, DerivativesState
from field.custody.models import CustodyEntry
from field.core.models.platform import Role
from field.core.models.base import utcnow
from tests.evidence_fixtures import corpus_photo
from tests.upload_fixtures import (
    GPS_PHOTO,
    GPS_PHOTO_AT,
    GPS_PHOTO_TAKEN,
    LIMITS,
    POLICY,
    SMALL_PHOTO,
    photo_bytes,
    receive_bytes,
    sha256,
    submit_record,
)

#: The first bytes of an MP4 (ISO BMFF, brand isom) and of an AMR recording: sniffable, not decodable.
MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 64
AMR_HEAD = b"#!AMR\n" + b"\x3c" * 200


@pytest.fixture
def local_store(tmp_path):
    return LocalBlobStore(tmp_path / "evidence")


def _count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar()


def _entries(session, sha) -> list[str]:
    return [e.kind for e in custody.history(session, "blob", sha)]


# -- receipt ------------------------------------------------------------------------------------


def test_a_photo_is_stored_once_described_logged_and_attached(session, make_user, blob_store):
    user = make_user(Role.squad_member)
    data, record_id = photo_bytes(GPS_PHOTO), uuid.uuid4()
    received = receive_bytes(session, blob_store, user, data, record_id, declared_sha256=sha256(data))
    blob = received.blob
    assert received.blob_created and received.attachment_created
    with blob_store.open_original(sha256(data)) as stored:
        assert stored.read() == data
    assert (blob.size, blob.mime, blob.ext, blob.media_kind) == (len(data), "image/jpeg", "jpg", "photo")
    assert blob.gps_location.lon == pytest.approx(GPS_PHOTO_AT[0]) and blob.gps_location.lat == pytest.approx(
        GPS_PHOTO_AT[1])
    assert blob.captured_at == GPS_PHOTO_TAKEN and not blob.captured_at_has_offset
    assert (blob.make, blob.model, blob.width, blob.height) == ("NIKON", "COOLPIX P6000", 640, 480)
    assert blob.facts["captured_at"] == "2008-10-22T16:38:20" and blob.has_exif
    assert blob.derivatives_state == DerivativesState.pending and blob.jurisdiction_id == user.jurisdiction_id
    assert received.attachment.record_id == record_id and received.attachment.filename == "photo.jpg"
    assert _entries(session, blob.sha256) == ["evidence.received", "evidence.verified", "evidence.attached"]
    verified = custody.history(session, "blob", blob.sha256)[1]
    assert verified.data["matches_declared"] is True and verified.data["stored"] == "new"


def test_the_same_bytes_from_two_people_are_stored_once_and_attached_twice(session, make_user, blob_store):
    first, second = make_user(Role.squad_member), make_user(Role.inspector)
    data = photo_bytes(SMALL_PHOTO)
    a = receive_bytes(session, blob_store, first, data, uuid.uuid4())
    b = receive_bytes(session, blob_store, second, data, uuid.uuid4())
    assert a.blob_created and not b.blob_created and a.blob.first_uploader_id == first.id
    assert _count(session, Blob) == 1 and _count(session, Attachment) == 2
    again = receive_bytes(session, blob_store, first, data, a.attachment.record_id)
    assert not again.attachment_created and again.attachment.id == a.attachment.id


def test_audio_and_video_are_sniffed_and_kept_without_derivatives(session, make_user, local_store):
    user = make_user(Role.squad_member)
    amr = receive_bytes(session, local_store, user, AMR_HEAD, uuid.uuid4(), kind="audio").blob
    mp4 = receive_bytes(session, local_store, user, MP4_HEAD, uuid.uuid4(), kind="video").blob
    assert (amr.media_kind, amr.mime, amr.derivatives_state) == ("audio", "audio/amr", DerivativesState.none)
    assert (mp4.media_kind, mp4.mime, mp4.derivatives_state) == ("video", "video/mp4", DerivativesState.none)
    # A phone's audio often comes in an MP4 container, which sniffs as video: declared audio may use it.
    voice = MP4_HEAD + b"voice"
    assert receive_bytes(session, local_store, user, voice, uuid.uuid4(), kind="audio").blob.mime == "video/mp4"


@pytest.mark.parametrize("data, kind, error", [
    (b"%PDF-1.7 not evidence" * 10, "photo", UnsupportedMedia),
    (AMR_HEAD, "photo", UnsupportedMedia),
    (b"", "photo", UnsupportedMedia),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "photo", CorruptMedia),
], ids=["pdf", "audio-as-photo", "empty", "png-without-header"])
def test_what_the_declared_kind_does_not_allow_is_refused_and_nothing_is_kept(session, make_user, blob_store, data,
                                                                              kind, error):
    user = make_user(Role.squad_member)
    with pytest.raises(error):
        receive_bytes(session, blob_store, user, data, uuid.uuid4(), kind=kind)
    session.rollback()
    assert not blob_store.exists(sha256(data))
    assert _count(session, Blob) == _count(session, CustodyEntry) == 0


def test_a_hash_other_than_the_phones_keeps_nothing(session, make_user, blob_store):
    user, data = make_user(Role.squad_member), photo_bytes(SMALL_PHOTO)
    with pytest.raises(InvalidInput) as err:
        receive_bytes(session, blob_store, user, data, uuid.uuid4(), declared_sha256="9" * 64)
    assert err.value.fields[0].field == "sha256" and err.value.extra["actual"] == sha256(data)
    assert not blob_store.exists(sha256(data))


def test_a_photo_over_the_pixel_limit_is_refused_from_its_header(session, make_user, local_store):
    user = make_user(Role.squad_member)
    tight = pipeline.Policy(limits=LIMITS, max_pixels=640 * 480 - 1)
    with pytest.raises(TooManyPixels):
        receive_bytes(session, local_store, user, photo_bytes(GPS_PHOTO), uuid.uuid4(), policy=tight)


def test_a_file_over_its_kinds_limit_is_refused(session, make_user, local_store):
    user = make_user(Role.squad_member)
    small = pipeline.Policy(limits=uploads.Limits(photo=1000, audio=1000, video=1000))
    with pytest.raises(TooLarge):
        receive_bytes(session, local_store, user, photo_bytes(SMALL_PHOTO), uuid.uuid4(), policy=small)


def test_evidence_for_someone_elses_record_is_refused(session, make_user, local_store):
    user, other = make_user(Role.squad_member), make_user(Role.squad_member)
    record = submit_record(session, other)
    with pytest.raises(InvalidInput) as err:
        receive_bytes(session, local_store, user, photo_bytes(SMALL_PHOTO), record.id)
    assert err.value.fields[0].field == "record_id"


def test_reading_facts_leaves_the_callers_file_open(tmp_path):
    """The pipeline hashes, sniffs, reads facts and stores from one open file."""
    with open(corpus_photo(GPS_PHOTO), "rb") as fp:
        read_facts(fp)
        assert not fp.closed
        fp.seek(0)
        assert fp.read(3) == b"\xff\xd8\xff"


# -- finishing a tus upload ---------------------------------------------------------------------


def _staged_upload(session, store, user, data, **metadata):
    metadata = {"kind": "photo", "record_id": str(uuid.uuid4()), **metadata}
    upload = uploads.create_upload(session, user, device_id=None, length=len(data), metadata=metadata, limits=LIMITS,
                                   expires_in=timedelta(hours=1), check_record=check_record_for_evidence)
    store.stage_append(upload.staging_id, 0, io.BytesIO(data))
    upload.offset = len(data)
    session.commit()
    return upload


def test_a_finished_upload_becomes_an_original_and_its_staging_goes(session, make_user, blob_store):
    user, data = make_user(Role.squad_member), photo_bytes(GPS_PHOTO)
    upload = _staged_upload(session, blob_store, user, data, sha256=sha256(data), filename="DSCN0021.JPG")
    completion = receipt.complete_upload(session, blob_store, upload, uploader=user, policy=POLICY)
    session.commit()
    assert completion.refusal is None and completion.received.attachment.upload_id == upload.id
    assert upload.state(utcnow()) == "complete" and upload.blob_sha256 == sha256(data)
    assert blob_store.exists(sha256(data))
    # The staged copy stays until the original is committed, then goes.
    assert blob_store.stage_size(upload.staging_id) == len(data)
    uploads.discard_staging(session, blob_store, upload)
    assert blob_store.stage_size(upload.staging_id) == 0 and upload.staging_discarded_at is not None
    assert custody.history(session, "blob", sha256(data))[0].data["channel"] == "tus"


def test_a_refused_upload_fails_and_its_bytes_are_gone(session, make_user, blob_store):
    user, data = make_user(Role.squad_member), photo_bytes(SMALL_PHOTO)
    upload = _staged_upload(session, blob_store, user, data, sha256="0" * 64)
    completion = receipt.complete_upload(session, blob_store, upload, uploader=user, policy=POLICY)
    session.commit()
    assert isinstance(completion.refusal, InvalidInput)
    assert completion.refusal.fields[0].field == "Upload-Metadata.sha256"
    assert upload.state(utcnow()) == "failed" and "SHA-256" in upload.failure
    assert blob_store.stage_size(upload.staging_id) == 0 and not blob_store.exists(sha256(data))


# -- derivatives --------------------------------------------------------------------------------


def test_derivatives_are_recorded_with_their_hashes_and_a_custody_entry(session, make_user, blob_store):
    user, data = make_user(Role.squad_member), photo_bytes(GPS_PHOTO)
    blob = receive_bytes(session, blob_store, user, data, uuid.uuid4()).blob
    assert derivation.claim_derivation(session, blob.sha256, lease=timedelta(minutes=1))
    session.commit()
    derivation.record_derivatives(session, blob, pipeline.make_derivatives(blob_store, blob.sha256, policy=POLICY))
    session.commit()
    assert blob.derivatives_state == DerivativesState.ready and blob.perceptual_hash is not None
    rows = {d.kind: d for d in session.execute(select(BlobDerivative)).scalars()}
    assert set(rows) == {"thumb", "preview"}
    for kind, row in rows.items():
        assert row.original_sha256 == blob.sha256
        with blob_store.open_derivative(blob.sha256, kind) as stored:
            jpeg = stored.read()
        assert sha256(jpeg) == row.sha256 and len(jpeg) == row.size
        image = Image.open(io.BytesIO(jpeg))
        assert image.size == (row.width, row.height) and not image.getexif()
    assert rows["thumb"].width == 320 and rows["preview"].width == 640  # never upscaled
    derived = custody.history(session, "blob", blob.sha256)[-1]
    assert derived.kind == "evidence.derived" and derived.data["preview"]["sha256"] == rows["preview"].sha256
    assert derived.data["original_sha256"] == blob.sha256


def test_a_photo_that_cannot_be_decoded_becomes_opaque_evidence(session, make_user, local_store):
    user = make_user(Role.squad_member)
    data = photo_bytes("broken_odd/pillow__truncated_jpeg.jpg")
    blob = receive_bytes(session, local_store, user, data, uuid.uuid4()).blob
    derivation.claim_derivation(session, blob.sha256, lease=timedelta(minutes=1))
    session.commit()
    derivation.record_derivatives(session, blob, pipeline.make_derivatives(local_store, blob.sha256, policy=POLICY))
    session.commit()
    assert blob.derivatives_state == DerivativesState.failed and "truncated" in blob.derivatives_error
    assert not local_store.derivative_exists(blob.sha256, "thumb") and _count(session, BlobDerivative) == 0
    assert custody.history(session, "blob", blob.sha256)[-1].data["result"] == "failed"


def test_only_one_worker_or_viewer_derives_a_photo(session, make_user, local_store):
    user = make_user(Role.squad_member)
    blob = receive_bytes(session, local_store, user, photo_bytes(SMALL_PHOTO), uuid.uuid4()).blob
    lease = timedelta(minutes=1)
    assert derivation.pending_derivations(session) == [blob.sha256]
    assert derivation.claim_derivation(session, blob.sha256, lease=lease) is not None
    assert derivation.claim_derivation(session, blob.sha256, lease=lease) is None
    assert derivation.pending_derivations(session) == []
    # The holder died: its lease lapses and the next one takes over.
    assert derivation.claim_derivation(session, blob.sha256, lease=lease, now=utcnow() + 2 * lease) is not None
    derivation.record_derivatives(session, blob, pipeline.make_derivatives(local_store, blob.sha256, policy=POLICY))
    assert derivation.claim_derivation(session, blob.sha256, lease=lease, now=utcnow() + 10 * lease) is None


# -- access and its custody ---------------------------------------------------------------------


def test_evidence_is_readable_through_a_visible_record_or_ones_own_upload(session, make_user, tree, local_store):
    user = make_user(Role.squad_member)
    record = submit_record(session, user)
    data = photo_bytes(SMALL_PHOTO)
    receive_bytes(session, local_store, user, data, record.id)
    sha = sha256(data)
    reviewer = make_user(Role.reviewer)
    assert access.readable_attachment(session, user, sha).record_id == record.id
    assert access.readable_attachment(session, reviewer, sha).record_id == record.id
    for outsider in (make_user(Role.squad_member), make_user(Role.reviewer, jurisdiction=tree["other"]),
                     make_user(Role.reviewer, jurisdiction=tree["home_street"])):
        with pytest.raises(NotFound):
            access.readable_attachment(session, outsider, sha)
    with pytest.raises(NotFound):
        access.readable_attachment(session, user, "not-a-sha")


def test_reads_of_originals_are_logged_for_everyone_and_of_copies_for_the_office(session, make_user,
                                                                                   local_store):
    user, reviewer = make_user(Role.squad_member), make_user(Role.reviewer)
    record = submit_record(session, user)
    attachment = receive_bytes(session, local_store, user, photo_bytes(SMALL_PHOTO), record.id).attachment
    for who, what in ((user, "thumb"), (user, "original"), (reviewer, "preview"), (reviewer, "original")):
        originals.log_access(session, user=who, device_id=None, attachment=attachment, what=what)
    logged = [(e.actor_id, e.kind, e.data["what"]) for e in custody.history(session, "blob", attachment.blob_sha256)
              if e.kind in ("evidence.viewed", "evidence.downloaded")]
    assert logged == [(user.id, "evidence.downloaded", "original"), (reviewer.id, "evidence.viewed", "preview"),
                      (reviewer.id, "evidence.downloaded", "original")]


# -- verification -------------------------------------------------------------------------------


def _flip_a_byte(store, sha: str, at: int = 100) -> None:
    """Damage a stored original behind the application's back (bit rot, a careless operator)."""
    with store.open_original(sha) as stored:
        data = bytearray(stored.read())
    data[at] ^= 0x01
    if isinstance(store, LocalBlobStore):
        path = store.root / "originals" / sha[:2] / sha[2:4] / sha
        os.chmod(path, 0o644)
        path.write_bytes(bytes(data))
    else:
        store.client.put_object(Bucket=store.bucket, Key=f"{store.prefix}originals/{sha[:2]}/{sha[2:4]}/{sha}",
                                Body=bytes(data))


def test_re_hashing_the_originals_names_the_first_damaged_one(session, make_user, blob_store):
    user = make_user(Role.squad_member)
    shas = [receive_bytes(session, blob_store, user, photo_bytes(name), uuid.uuid4()).blob.sha256
            for name in (SMALL_PHOTO, GPS_PHOTO)]
    intact = originals.verify_originals(session, blob_store)
    assert intact.checked == 2 and intact.first_problem is None
    damaged = sorted(shas)[1]
    _flip_a_byte(blob_store, damaged)
    report = originals.verify_originals(session, blob_store)
    assert report.first_problem.sha256 == damaged and "now hash to" in report.first_problem.reason


def test_a_missing_original_is_reported(session, make_user, local_store):
    user = make_user(Role.squad_member)
    sha = receive_bytes(session, local_store, user, photo_bytes(SMALL_PHOTO), uuid.uuid4()).blob.sha256
    (local_store.root / "originals" / sha[:2] / sha[2:4] / sha).unlink()
    assert originals.verify_originals(session, local_store).first_problem.reason == "the stored original is missing"
