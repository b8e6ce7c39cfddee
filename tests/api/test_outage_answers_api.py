"""A database or S3 store that is down or silent: a prompt 503 problem with Retry-After, never a hang or a 500.

"Silent" is a loopback listener that never accepts: the kernel completes the TCP
handshake for its backlog and then nothing answers, as with a wedged server or a host
dropping packets. Without connect/read timeouts a request would wait minutes on it.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator

import pytest

from api import create_app
from tests.upload_fixtures import SMALL_PHOTO, create_upload, photo_bytes

#: How long a request may take before the test calls it a hang: far above the configured
#: timeouts (1 s), far below what the defaults would cost (two minutes and more).
HANG_S = 60.0


@pytest.fixture
def silent_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answer(client, method: str, path: str, **kwargs):
    """The response, or None if it did not come within HANG_S."""
    result = []
    worker = threading.Thread(target=lambda: result.append(getattr(client, method)(path, **kwargs)), daemon=True)
    worker.start()
    worker.join(HANG_S)
    return result[0] if result else None


def _assert_unavailable(resp) -> None:
    assert resp is not None, "the request hung"
    assert resp.status_code == 503, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    assert resp.get_json()["type"] == "/problems/unavailable"
    assert int(resp.headers["Retry-After"]) > 0


@pytest.mark.parametrize("port_kind", ["closed_port", "silent_port"])
def test_a_database_that_is_down_or_silent_answers_503_with_retry_after(request, port_kind, tmp_path):
    port = request.getfixturevalue(port_kind)
    app = create_app({"DATABASE_URL": f"postgresql://fieldwatch@127.0.0.1:{port}/fieldwatch",
                      "DATABASE_CONNECT_TIMEOUT_S": 1, "SECRET_KEY": "test",
                      "EVIDENCE_DIR": str(tmp_path / "evidence")})
    client = app.test_client()
    try:
        _assert_unavailable(_answer(client, "get", "/readyz"))
        _assert_unavailable(_answer(client, "get", "/api/v1/findings",
                                    headers={"Authorization": "Bearer fw_not-checked-before-the-database"}))
    finally:
        app.extensions["ENGINE"].dispose()


@pytest.fixture
def phone(make_user, login):
    from field.core.models.platform import Role

    return login(make_user(Role.squad_member))


@pytest.mark.parametrize("port_kind", ["closed_port", "silent_port"])
def test_an_s3_store_that_is_down_or_silent_makes_an_upload_answer_503_and_keeps_it_resumable(
        request, port_kind, app, client, phone):
    from evidence.storage import make_blob_store

    port = request.getfixturevalue(port_kind)
    app.config.update(EVIDENCE_STORAGE="s3", S3_ENDPOINT_URL=f"http://127.0.0.1:{port}", S3_ACCESS_KEY="k",
                      S3_SECRET_KEY="s", S3_CONNECT_TIMEOUT_S=1.0, S3_READ_TIMEOUT_S=1.0, S3_MAX_ATTEMPTS=2)
    app.extensions["BLOB_STORE"] = make_blob_store(app.config)
    data = photo_bytes(SMALL_PHOTO)
    result = []
    worker = threading.Thread(target=lambda: result.append(
        create_upload(client, phone, length=len(data), record_id=uuid.uuid4(), body=data)), daemon=True)
    worker.start()
    worker.join(HANG_S)
    resp = result[0] if result else None
    _assert_unavailable(resp)
    # The upload was created before the store failed: the phone is told where it is, to resume later.
    assert "Location" in resp.headers and resp.headers["Tus-Resumable"] == "1.0.0"
