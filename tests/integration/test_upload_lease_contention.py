"""Two requests on one upload, each on a connection of its own, with PostgreSQL's row locks for real.

The savepoint fixtures share one connection, so these tests build a committed database of
their own. Found by stress/racing_patch.py: a PATCH arriving while another request on the
same upload was between its chunk and its commit deadlocked (503) on PostgreSQL.
"""

from __future__ import annotations

import io
import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text

from evidence import uploads
from field.attachments.links import check_record_for_evidence
from evidence.local_store import LocalBlobStore
from field.accounts import users as accounts, jurisdictions
from field.core.db import make_session_factory
from field.core.models.platform import JurisdictionLevel, Role
from field.core.models.evidence import Upload
from tests.conftest import PASSWORD, own_database
from tests.upload_fixtures import LIMITS


@pytest.fixture
def committed(backend, tmp_path):
    if backend != "postgis":
        pytest.skip("row-lock modes are PostgreSQL's; SQLite's BEGIN IMMEDIATE serialises writers whole")
    with own_database(backend, tmp_path, "_lease") as engine:
        yield make_session_factory(engine), engine


def _waiting_on_a_lock(engine, second: dict, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            waiting = conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")).scalar()
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError(f"the second request never waited for the first: {second}")


def test_a_patch_arriving_while_another_finishes_its_chunk_waits_and_then_takes_the_upload(committed, tmp_path):
    """The first request's lease lapsed (a chunk that stalled) while it appended: its transaction
    holds the upload's row. The second, under its owner's lock for the stream cap, finds the
    lease free and waits for that row. The first now releases its lease: neither may deadlock
    (PostgreSQL checks the upload's foreign key to its owner on that second UPDATE of the row,
    a KEY SHARE lock the owner's lock must not block). The first commits, the second then
    holds the upload."""
    factory, engine = committed
    store = LocalBlobStore(tmp_path / "evidence")
    with factory() as s:
        province = jurisdictions.create_jurisdiction(s, actor=None, code="500000", name="重庆市",
                                                     level=JurisdictionLevel.province)
        user = accounts.create_user(s, actor=None, username="monitor", password=PASSWORD, display_name="m",
                                    role=Role.squad_member, jurisdiction_id=province.id)
        upload = uploads.create_upload(s, user, device_id=None, length=100, limits=LIMITS,
                                       metadata={"kind": "photo", "record_id": str(uuid.uuid4())},
                                       expires_in=timedelta(hours=1), check_record=check_record_for_evidence)
        s.commit()
        user_id, upload_id = user.id, upload.id
    caps = uploads.Caps(streams=4)
    first = factory()
    mine = first.get(Upload, upload_id)
    token = uploads.acquire_lock(first, store, mine, caps=caps, lease=timedelta(milliseconds=1))
    first.commit()
    time.sleep(0.01)
    uploads.append(first, store, mine, offset=0, stream=io.BytesIO(b"x" * 40), expires_in=timedelta(hours=1))

    second: dict = {}

    def patch_again():
        with factory() as s:
            try:
                theirs = uploads.get_upload(s, s.get(type(user), user_id), upload_id)
                second["token"] = uploads.acquire_lock(s, store, theirs, caps=caps)
                s.commit()
                second["offset"] = theirs.offset
            except Exception as exc:  # what the request would have answered
                second["error"] = exc

    thread = threading.Thread(target=patch_again)
    thread.start()
    try:
        _waiting_on_a_lock(engine, second)
        uploads.release_lock(first, mine, token)
        first.commit()
    finally:
        first.close()
        thread.join(30)
    assert "error" not in second, second.get("error")
    assert second["token"] and second["offset"] == 40
