"""Deriving a photo's viewing copies holds no database transaction while it reads and decodes the original.

On SQLite every transaction takes the write lock (BEGIN IMMEDIATE, field/core/db.py): a decode of
seconds inside one stopped every other request, and parallel first views of previews waited
out the 15 s a viewer waits for a lease and answered 503 (the flake of
test_uploads_live.py::test_derivatives_of_photos_with_gps_or_a_serial_carry_neither on
SpatiaLite). On PostgreSQL it kept a connection idle in transaction for as long.

The original is replaced by a named pipe, so the derivation blocks reading it for as long as
the test wants: while it does, the database must show no transaction of the app's.
"""

from __future__ import annotations

import errno
import io
import os
import threading
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import text
from sqlalchemy.engine import make_url
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from cli import main
from evidence.local_store import LocalBlobStore
from field.core.db import make_engine
from stress.served import drop_database
from stress.world import build
from tests.conftest import fresh_database_url

#: How long the test waits for the derivation to reach the original.
REACH_S = 30.0


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def district(backend, tmp_path):
    url = fresh_database_url(backend, tmp_path, "_derivetx")
    evidence = tmp_path / "evidence"
    world = build(url, str(evidence))
    yield world, url, evidence
    world.close()
    drop_database(url)


def _received(world, data: bytes) -> str:
    """Upload ``data`` as the world's monitor (multipart); its SHA-256, still without viewing copies."""
    boundary, body = encode_multipart({"record_id": str(uuid.uuid4()), "kind": "photo",
                                       "file": FileStorage(io.BytesIO(data), "photo.jpg")})
    resp = world.app.test_client().post("/api/v1/evidence", headers=world.monitor_headers, data=body,
                                        content_type=f"multipart/form-data; boundary={boundary}")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()["sha256"]


def _original_as_a_pipe(evidence: Path, sha256: str) -> Path:
    path = LocalBlobStore(evidence)._original_path(sha256)
    path.unlink()
    os.mkfifo(path)
    return path


def _wait_for_reader(pipe: Path) -> int:
    """Open the pipe for writing once the derivation has opened it for reading (it then blocks reading)."""
    deadline = time.monotonic() + REACH_S
    while time.monotonic() < deadline:
        try:
            return os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:  # ENXIO: no reader yet
                raise
        time.sleep(0.02)
    raise AssertionError("the derivation never opened the original")


#: PostgreSQL is sampled this many times, 50 ms apart: a waiter's claim and refresh are short
#: transactions of their own, which one snapshot may catch; one held across the wait shows in most.
SAMPLES = 20


def _transactions_held(url: str) -> str | None:
    """What the database shows of a transaction another connection holds for a while, or None."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        import pysqlite3.dbapi2 as sqlite

        conn = sqlite.connect(parsed.database, timeout=1.0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return None
        except sqlite.OperationalError as exc:
            return f"the write lock is held: {exc}"
        finally:
            conn.close()
    engine = make_engine(url)
    seen = []
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for _ in range(SAMPLES):
                held = conn.execute(text(
                    "SELECT state, query FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'")).all()
                if held:
                    seen.append(held)
                time.sleep(0.05)
    finally:
        engine.dispose()
    return f"idle in transaction in {len(seen)} of {SAMPLES} samples: {seen[0]}" if len(seen) > SAMPLES // 2 else None


def _while_the_original_is_read(url: str, pipe: Path, data: bytes, derive) -> tuple[str | None, object]:
    """Run ``derive`` in a thread; once it is blocked reading the original, look at the database, then
    let the bytes through. Returns what the database showed and what ``derive`` returned."""
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(result=derive()), daemon=True)
    worker.start()
    fd = _wait_for_reader(pipe)
    try:
        seen = _transactions_held(url)
    finally:
        os.set_blocking(fd, True)
        os.write(fd, data)
        os.close(fd)
        worker.join(60)
    assert not worker.is_alive(), "the derivation did not finish"
    return seen, outcome.get("result")


def test_a_first_view_holds_no_transaction_while_it_reads_and_decodes_the_original(district):
    world, url, evidence = district
    data = _photo()
    sha = _received(world, data)
    pipe = _original_as_a_pipe(evidence, sha)
    client = world.app.test_client()

    seen, resp = _while_the_original_is_read(
        url, pipe, data, lambda: client.get(f"/api/v1/evidence/{sha}/preview", headers=world.monitor_headers))
    assert seen is None, seen
    assert resp.status_code == 200 and resp.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(resp.data)).size == (320, 240)


def test_the_derive_worker_holds_no_transaction_while_it_reads_and_decodes_the_original(district, monkeypatch):
    world, url, evidence = district
    data = _photo()
    sha = _received(world, data)
    pipe = _original_as_a_pipe(evidence, sha)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("EVIDENCE_STORAGE", "local")
    monkeypatch.setenv("EVIDENCE_DIR", str(evidence))

    seen, result = _while_the_original_is_read(
        url, pipe, data, lambda: CliRunner().invoke(main, ["derive"], catch_exceptions=False))
    assert seen is None, seen
    assert result.exit_code == 0 and "derived: 1," in result.output, result.output
    states = world.app.test_client().get(f"/api/v1/evidence/{sha}", headers=world.monitor_headers).get_json()
    assert states["derivatives_state"] == "ready"


def test_a_viewer_waiting_for_anothers_derivation_holds_no_transaction_while_it_waits(district):
    # The waiter used to sleep inside the transaction its refresh had begun: on SQLite it held the
    # write lock nearly all the time, and the derivation it waited for could not record its result
    # (database is locked after 30 s: 503 for both).
    world, url, evidence = district
    data = _photo()
    sha = _received(world, data)
    pipe = _original_as_a_pipe(evidence, sha)
    client = world.app.test_client()
    answers = {}

    def view(name: str) -> None:
        answers[name] = client.get(f"/api/v1/evidence/{sha}/{name}", headers=world.monitor_headers)

    first = threading.Thread(target=view, args=("preview",), daemon=True)
    first.start()
    fd = _wait_for_reader(pipe)
    waiter = threading.Thread(target=view, args=("thumb",), daemon=True)
    try:
        waiter.start()
        time.sleep(1.0)  # the waiter finds the lease taken and waits, a quarter of a second at a time
        seen = [_transactions_held(url) for _ in range(3)]
    finally:
        os.set_blocking(fd, True)
        os.write(fd, data)
        os.close(fd)
        first.join(60)
        waiter.join(60)
    assert seen == [None] * 3, seen
    assert answers["preview"].status_code == 200 and answers["thumb"].status_code == 200, \
        {k: v.get_data(as_text=True)[:200] for k, v in answers.items()}
