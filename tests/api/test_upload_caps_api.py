"""Per-user upload caps: unfinished uploads, outstanding bytes and simultaneous streams answer 429 naming the cap."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from field.core.models.platform import Role
from field.core.models.evidence import Upload
from field.core.models.base import utcnow
from tests.directory_fixtures import fast_passwords  # noqa: F401 (fixture)
from tests.upload_fixtures import create_upload, patch_chunk, tus, upload_path


@pytest.fixture
def phone(make_user, login, fast_passwords):  # noqa: F811
    user = make_user(Role.squad_member)
    return user, login(user)


@pytest.fixture
def other_phone(make_user, login, fast_passwords):  # noqa: F811
    user = make_user(Role.squad_member)
    return user, login(user)


def _upload_id(path: str) -> uuid.UUID:
    return uuid.UUID(path.rsplit("/", 1)[-1])


def _assert_capped(resp, limit: str, value: int) -> None:
    assert resp.status_code == 429, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["type"] == "/problems/rate-limited"
    assert body["limit"] == limit and body["limit_value"] == value
    assert int(resp.headers["Retry-After"]) == body["retry_after"] > 0
    assert resp.headers["Tus-Resumable"] == "1.0.0"


def test_a_user_at_the_open_upload_cap_gets_429_and_other_users_are_not_affected(
        app, client, phone, other_phone, session):
    app.config["UPLOAD_MAX_OPEN_PER_USER"] = 2
    _, headers = phone
    first = upload_path(create_upload(client, headers, length=10, record_id=uuid.uuid4()))
    assert create_upload(client, headers, length=10, record_id=uuid.uuid4()).status_code == 201
    _assert_capped(create_upload(client, headers, length=10, record_id=uuid.uuid4()), "open_uploads", 2)
    assert create_upload(client, other_phone[1], length=10, record_id=uuid.uuid4()).status_code == 201
    # Finishing (here: terminating) one frees its place.
    assert client.delete(first, headers=tus(headers)).status_code == 204
    third = upload_path(create_upload(client, headers, length=10, record_id=uuid.uuid4()))
    # An expired upload does not count either.
    session.execute(update(Upload).where(Upload.id == _upload_id(third))
                    .values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert create_upload(client, headers, length=10, record_id=uuid.uuid4()).status_code == 201


def test_bytes_announced_and_not_yet_received_are_capped_per_user(app, client, phone):
    app.config["UPLOAD_MAX_PENDING_BYTES_PER_USER"] = 1000
    _, headers = phone
    first = upload_path(create_upload(client, headers, length=600, record_id=uuid.uuid4()))
    _assert_capped(create_upload(client, headers, length=500, record_id=uuid.uuid4()), "pending_bytes", 1000)
    # Bytes received no longer count as pending.
    assert patch_chunk(client, first, headers, 0, b"x" * 300).status_code == 204
    assert create_upload(client, headers, length=500, record_id=uuid.uuid4()).status_code == 201


def test_a_patch_beyond_the_users_simultaneous_streams_is_429_and_nothing_of_it_is_kept(
        app, client, phone, other_phone, session):
    app.config["UPLOAD_MAX_STREAMS_PER_USER"] = 1
    _, headers = phone
    busy = upload_path(create_upload(client, headers, length=100, record_id=uuid.uuid4()))
    waiting = upload_path(create_upload(client, headers, length=100, record_id=uuid.uuid4()))
    # ``busy`` is receiving bytes in another request: it holds its lease.
    session.execute(update(Upload).where(Upload.id == _upload_id(busy))
                    .values(locked_by="another-request", locked_until=utcnow() + timedelta(minutes=1)))
    session.commit()
    _assert_capped(patch_chunk(client, waiting, headers, 0, b"y" * 10), "streams", 1)
    assert client.head(waiting, headers=tus(headers)).headers["Upload-Offset"] == "0"
    # Another user's uploads are not held back by this one's streams.
    theirs = upload_path(create_upload(client, other_phone[1], length=100, record_id=uuid.uuid4()))
    assert patch_chunk(client, theirs, other_phone[1], 0, b"z" * 10).status_code == 204
    # A lease that lapsed (its holder died) is no longer a stream.
    session.execute(update(Upload).where(Upload.id == _upload_id(busy))
                    .values(locked_until=utcnow() - timedelta(seconds=1)))
    session.commit()
    resp = patch_chunk(client, waiting, headers, 0, b"y" * 10)
    assert resp.status_code == 204 and resp.headers["Upload-Offset"] == "10"


def test_creation_with_upload_counts_against_the_stream_cap_and_tells_where_the_upload_is(
        app, client, phone, session):
    app.config["UPLOAD_MAX_STREAMS_PER_USER"] = 1
    _, headers = phone
    busy = upload_path(create_upload(client, headers, length=100, record_id=uuid.uuid4()))
    session.execute(update(Upload).where(Upload.id == _upload_id(busy))
                    .values(locked_by="another-request", locked_until=utcnow() + timedelta(minutes=1)))
    session.commit()
    resp = create_upload(client, headers, length=100, record_id=uuid.uuid4(), body=b"q" * 10)
    _assert_capped(resp, "streams", 1)
    # The upload exists (the client may resume it at the offset it is told).
    assert resp.headers["Upload-Offset"] == "0"
    head = client.head(upload_path(resp), headers=tus(headers))
    assert head.status_code == 200 and head.headers["Upload-Offset"] == "0"
