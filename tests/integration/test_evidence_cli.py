"""The evidence commands: verify re-hashes originals, derive works through pending photos, cleanup-uploads."""

from __future__ import annotations

import io
import os
import uuid
from datetime import timedelta

import pytest
from click.testing import CliRunner

from cli import main
from evidence import uploads
from field.attachments.links import check_record_for_evidence
from evidence.local_store import LocalBlobStore
from field.accounts import users as accounts, jurisdictions
from field.core import migrate
from field.core.db import make_engine, make_session_factory
from field.all_models import Base
from field.core.models.evidence import Blob, DerivativesState, Upload
from field.core.models.platform import JurisdictionLevel, Role
from field.core.models.base import utcnow
from tests.conftest import fresh_database_url
from tests.directory_fixtures import fast_passwords  # noqa: F401 (fixture)
from tests.evidence_fixtures import TEST_BUCKET
from tests.upload_fixtures import GPS_PHOTO, LIMITS, SMALL_PHOTO, photo_bytes, receive_bytes


@pytest.fixture(params=["local", "s3"])
def store_env(request, tmp_path, monkeypatch):
    """The command line's evidence store, configured through the environment as in production."""
    if request.param == "local":
        monkeypatch.setenv("EVIDENCE_STORAGE", "local")
        monkeypatch.setenv("EVIDENCE_DIR", str(tmp_path / "evidence"))
        return LocalBlobStore(tmp_path / "evidence")
    store = request.getfixturevalue("s3_store")
    server = request.getfixturevalue("seaweed")
    for name, value in {"EVIDENCE_STORAGE": "s3", "S3_ENDPOINT_URL": server.endpoint_url, "S3_BUCKET": TEST_BUCKET,
                        "S3_ACCESS_KEY": server.access_key, "S3_SECRET_KEY": server.secret_key,
                        "S3_PREFIX": store.prefix}.items():
        monkeypatch.setenv(name, value)
    return store


@pytest.fixture
def cli_db(backend, tmp_path, monkeypatch, fast_passwords):  # noqa: F811
    """A committed database of its own, with a district and a squad member; yields a session on it."""
    url = fresh_database_url(backend, tmp_path, "_evidcli")
    migrate.upgrade(url)
    engine = make_engine(url)
    Base.metadata.create_all(engine)  # the evidence tables have no migration yet
    monkeypatch.setenv("DATABASE_URL", url)
    with make_session_factory(engine)() as session:
        parent = None
        for code, name, level in (("500000", "重庆市", JurisdictionLevel.province),
                                  ("500100", "重庆市市辖区", JurisdictionLevel.city),
                                  ("500107", "九龙坡区", JurisdictionLevel.district)):
            parent = jurisdictions.create_jurisdiction(session, actor=None, code=code, name=name, level=level,
                                                       parent_id=parent.id if parent else None)
        district = parent
        user = accounts.create_user(session, actor=None, username="monitor-1", password="correct horse battery",
                                    display_name="Monitor", role=Role.squad_member, jurisdiction_id=district.id)
        session.commit()
        session.info["user"] = user
        yield session
    engine.dispose()


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _flip_a_byte(store, sha: str) -> None:
    with store.open_original(sha) as stored:
        data = bytearray(stored.read())
    data[len(data) // 2] ^= 0x80
    if isinstance(store, LocalBlobStore):
        path = store.root / "originals" / sha[:2] / sha[2:4] / sha
        path.chmod(0o644)
        path.write_bytes(bytes(data))
    else:  # straight to the bucket, as a careless operator or a failing disk would
        store.client.put_object(Bucket=store.bucket, Key=f"{store.prefix}originals/{sha[:2]}/{sha[2:4]}/{sha}",
                                Body=bytes(data))


def test_verify_re_hashes_every_original_and_names_one_with_a_flipped_byte(cli_db, store_env):
    user = cli_db.info["user"]
    small = receive_bytes(cli_db, store_env, user, photo_bytes(SMALL_PHOTO), uuid.uuid4()).blob.sha256
    receive_bytes(cli_db, store_env, user, photo_bytes(GPS_PHOTO), uuid.uuid4())
    intact = run("verify")
    assert intact.exit_code == 0, intact.output
    assert "originals checked: 2" in intact.output and "originals intact" in intact.output
    _flip_a_byte(store_env, small)
    broken = run("verify")
    assert broken.exit_code == 1
    assert f"BROKEN original {small}: its stored bytes now hash to" in broken.output


def test_derive_makes_the_missing_viewing_copies_and_keeps_undecodable_photos(cli_db, tmp_path, monkeypatch):
    monkeypatch.setenv("EVIDENCE_STORAGE", "local")
    monkeypatch.setenv("EVIDENCE_DIR", str(tmp_path / "evidence"))
    store = LocalBlobStore(tmp_path / "evidence")
    user = cli_db.info["user"]
    good = receive_bytes(cli_db, store, user, photo_bytes(SMALL_PHOTO), uuid.uuid4()).blob.sha256
    bad = receive_bytes(cli_db, store, user, photo_bytes("broken_odd/pillow__truncated_jpeg.jpg"),
                        uuid.uuid4()).blob.sha256
    result = run("derive")
    assert result.exit_code == 0 and "derived: 1, undecodable (kept without derivatives): 1" in result.output
    cli_db.expire_all()
    assert cli_db.get(Blob, good).derivatives_state == DerivativesState.ready
    assert cli_db.get(Blob, bad).derivatives_state == DerivativesState.failed
    assert store.derivative_exists(good, "thumb") and store.derivative_exists(good, "preview")
    cli_db.rollback()  # SQLite: an open transaction would hold the command's writes back
    assert "derived: 0" in run("derive").output


def test_cleanup_uploads_discards_expired_staging(cli_db, tmp_path, monkeypatch):
    monkeypatch.setenv("EVIDENCE_STORAGE", "local")
    monkeypatch.setenv("EVIDENCE_DIR", str(tmp_path / "evidence"))
    store = LocalBlobStore(tmp_path / "evidence")
    user = cli_db.info["user"]
    made = []
    for _ in range(2):
        upload = uploads.create_upload(cli_db, user, device_id=None, length=100, limits=LIMITS,
                                       metadata={"kind": "photo", "record_id": str(uuid.uuid4())},
                                       expires_in=timedelta(hours=1), check_record=check_record_for_evidence)
        store.stage_append(upload.staging_id, 0, io.BytesIO(b"x" * 40))
        made.append(upload)
    made[0].expires_at = utcnow() - timedelta(minutes=1)
    cli_db.commit()
    result = run("cleanup-uploads")
    assert result.exit_code == 0 and "expired uploads cleaned up: 1" in result.output
    assert store.stage_size(made[0].staging_id) == 0 and store.stage_size(made[1].staging_id) == 40
    cli_db.expire_all()
    assert cli_db.get(Upload, made[0].id).staging_discarded_at is not None


def test_cleanup_uploads_completes_received_uploads_whose_completion_was_cut_short(cli_db, tmp_path, monkeypatch):
    """A phone sent every byte, the server died (or the store was down) before completing, and the
    phone never asked again: the cleanup completes it, even past its expiry, instead of discarding
    the evidence. Only truly incomplete uploads are discarded; a held lease is left alone."""
    import hashlib

    from sqlalchemy import select

    from field.core.models.evidence import Attachment

    monkeypatch.setenv("EVIDENCE_STORAGE", "local")
    monkeypatch.setenv("EVIDENCE_DIR", str(tmp_path / "evidence"))
    store = LocalBlobStore(tmp_path / "evidence")
    user = cli_db.info["user"]
    data = {SMALL_PHOTO: photo_bytes(SMALL_PHOTO), GPS_PHOTO: photo_bytes(GPS_PHOTO)}
    past, now = utcnow() - timedelta(minutes=5), utcnow()

    def staged_upload(name: str, staged: int, offset: int, *, locked_until=None):
        body = data[name]
        upload = uploads.create_upload(cli_db, user, device_id=None, length=len(body), limits=LIMITS,
                                       metadata={"kind": "photo", "record_id": str(uuid.uuid4()),
                                                 "filename": name.split("/")[-1]},
                                       expires_in=timedelta(hours=1), check_record=check_record_for_evidence)
        store.stage_append(upload.staging_id, 0, io.BytesIO(body[:staged]))
        upload.offset = offset
        upload.expires_at = past  # expired: the phone never came back
        if locked_until is not None:
            upload.locked_by, upload.locked_until = "a-dead-process", locked_until
        return upload

    full = staged_upload(SMALL_PHOTO, len(data[SMALL_PHOTO]), len(data[SMALL_PHOTO]), locked_until=past)
    # The last chunk reached the store, but the crash came before its offset was committed.
    uncommitted = staged_upload(GPS_PHOTO, len(data[GPS_PHOTO]), 1000)
    partial = staged_upload(SMALL_PHOTO, 1000, 1000)
    held = staged_upload(GPS_PHOTO, len(data[GPS_PHOTO]), len(data[GPS_PHOTO]),
                         locked_until=now + timedelta(minutes=10))
    cli_db.commit()

    result = run("cleanup-uploads")
    assert result.exit_code == 0, result.output
    assert "received uploads completed: 2, refused: 0, left for the next run: 0" in result.output
    assert "expired uploads cleaned up: 1" in result.output

    cli_db.expire_all()
    for upload, name in ((full, SMALL_PHOTO), (uncommitted, GPS_PHOTO)):
        row = cli_db.get(Upload, upload.id)
        sha = hashlib.sha256(data[name]).hexdigest()
        assert row.completed_at is not None and row.blob_sha256 == sha and row.failed_at is None
        assert row.locked_by is None and row.staging_discarded_at is not None
        with store.open_original(sha) as stored:
            assert hashlib.sha256(stored.read()).hexdigest() == sha
        assert cli_db.execute(select(Attachment).where(Attachment.blob_sha256 == sha,
                                                       Attachment.record_id == row.record_id)).first()
    gone = cli_db.get(Upload, partial.id)
    assert gone.staging_discarded_at is not None and gone.completed_at is None
    assert store.stage_size(partial.staging_id) == 0
    kept = cli_db.get(Upload, held.id)
    assert kept.completed_at is None and kept.staging_discarded_at is None
    assert store.stage_size(held.staging_id) == len(data[GPS_PHOTO])

    cli_db.rollback()  # SQLite: an open transaction would hold the command's writes back
    again = run("cleanup-uploads")
    assert "received uploads completed: 0, refused: 0, left for the next run: 0" in again.output
    assert "expired uploads cleaned up: 0" in again.output


def test_verify_all_originals_quarantines_each_damaged_original_once_and_a_repair_lifts_it(cli_db, store_env):
    from field.custody import chain as custody

    user = cli_db.info["user"]
    data = {name: photo_bytes(name) for name in (SMALL_PHOTO, GPS_PHOTO)}
    shas = [receive_bytes(cli_db, store_env, user, body, uuid.uuid4()).blob.sha256 for body in data.values()]
    for sha in shas:
        _flip_a_byte(store_env, sha)
    cli_db.rollback()  # SQLite: an open transaction would hold the command's writes back
    first = run("verify", "--all-originals")
    assert first.exit_code == 1
    for sha in shas:
        assert f"BROKEN original {sha}: its stored bytes now hash to" in first.output
    assert first.output.count("(quarantined: not served until the genuine file is uploaded again)") == 2
    cli_db.expire_all()
    assert all(cli_db.get(Blob, sha).damaged_at is not None for sha in shas)
    cli_db.rollback()
    assert run("verify", "--all-originals").exit_code == 1
    for sha in shas:  # found twice, quarantined and logged once
        found = [e for e in custody.history(cli_db, "blob", sha) if e.kind == "evidence.damaged"]
        assert [e.data["found_by"] for e in found] == ["verify"]
    cli_db.rollback()

    receive_bytes(cli_db, store_env, user, data[SMALL_PHOTO], uuid.uuid4())  # the genuine bytes again
    cli_db.rollback()
    after = run("verify", "--all-originals")
    assert after.exit_code == 1 and shas[0] not in after.output and f"BROKEN original {shas[1]}" in after.output
    cli_db.expire_all()
    assert cli_db.get(Blob, shas[0]).damaged_at is None and cli_db.get(Blob, shas[1]).damaged_at is not None


def test_the_derive_worker_gives_way_to_the_web_workers(cli_db, tmp_path, monkeypatch):
    """With --follow the worker lowers its own CPU priority (run apart: it would renice this process)."""
    import subprocess
    import sys

    monkeypatch.setenv("EVIDENCE_STORAGE", "local")
    monkeypatch.setenv("EVIDENCE_DIR", str(tmp_path / "evidence"))
    cli_db.rollback()
    base = os.nice(0)
    worker = subprocess.Popen([sys.executable, "-c", "from cli import main; main()", "derive", "--follow",
                               "--nice", "7", "--interval", "60"], stdout=subprocess.PIPE, text=True)
    try:
        first = worker.stdout.readline()
        assert first.strip() == f"derive worker at nice {base + 7} (below the web workers)"
        assert os.getpriority(os.PRIO_PROCESS, worker.pid) == base + 7
    finally:
        worker.kill()
        worker.wait()
        worker.stdout.close()
