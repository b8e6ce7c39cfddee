"""tus against the app served on loopback by a real WSGI server, with tuspy, the reference Python tus client.

The app runs under werkzeug's threaded server, in a thread, against a committed database
of its own (the savepoint fixtures cannot be shared across server threads), on each
database and each blob store (local directory, SeaweedFS). The matrix is kept affordable:
the whole photo corpus goes through tuspy on one combination per run — PostGIS with
SeaweedFS when PostGIS is configured, SpatiaLite with SeaweedFS otherwise, the production
shape closest at hand — and a photo of every folder on the others. broken_odd/ goes
through whole on that combination too, and six of its worst files on the others.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from PIL import Image
from sqlalchemy import select
from tusclient.client import TusClient
from tusclient.exceptions import TusCommunicationError, TusUploadFailed
from tusclient.storage.filestorage import FileStorage
from werkzeug.serving import make_server

from evidence.photo import read_facts
from evidence.local_store import LocalBlobStore
from evidence.s3_store import S3BlobStore
from field.accounts import users as accounts, jurisdictions
from field.core import migrate
from field.core.db import make_engine, make_session_factory
from field.all_models import Base
from field.core.models.platform import JurisdictionLevel, Role
from field.core.models.evidence import Upload
from stress.served import drop_database
from tests.conftest import PASSWORD, fresh_database_url
from tests.evidence_fixtures import TEST_BUCKET, CorpusPhoto, corpus_or_fail

#: One photo of every folder, for the combinations that do not take the whole corpus.
SUBSET = (
    "gps/ianare__87_OSError.jpg",          # GPS and a body serial number
    "heic/mei__IMG_1034.heic",             # iPhone HEIC with GPS
    "large/mei__Issue_525.jpg",            # 12 MP
    "orientation/ianare__landscape_5.jpg",  # EXIF orientation 5
    "phones/mei__Apple_iPhone_4.jpg",
    "png/pillow__exif.png",
    "webp/pillow__hopper_orientation_6.webp",
    "avif/libheif__example.avif",
    "noexif/mei__Issue_131.jpg",
)
#: Broken files for the combinations that do not take the whole folder: a cut JPEG and PNG, an
#: unidentifiable PNG, two HEIF fuzzer files, damaged EXIF.
BROKEN_SUBSET = (
    "broken_odd/pillow__truncated_jpeg.jpg",
    "broken_odd/pillow__truncated_image.png",
    "broken_odd/pillow__broken.png",
    "broken_odd/libheif__clap-overflow-divide-zero.heic",
    "broken_odd/mei__NullPointerException.HeifPictureHandler.processBox.heif",
    "broken_odd/pillow__exif_gps_typeerror.jpg",
)
#: Chunks of this size make the larger photos (up to 4 MB) take several PATCHes.
CHUNK = 2 << 20


@dataclass
class Live:
    base: str
    engine: object
    store: object
    headers: dict
    user_id: uuid.UUID
    full_corpus: bool
    stored: dict = field(default_factory=dict)  # corpus name → what its upload gave (see _uploaded)

    def url(self, path: str) -> str:
        return self.base + path

    def tus(self) -> TusClient:
        return TusClient(self.url("/api/v1/uploads"), headers=dict(self.headers))

    def lease_free(self, upload_url: str, timeout: float = 15.0) -> None:
        """Wait until no request holds the upload (the server finished with a dropped connection)."""
        upload_id = uuid.UUID(upload_url.rsplit("/", 1)[-1])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.engine.connect() as conn:
                holder = conn.execute(select(Upload.locked_by).where(Upload.id == upload_id)).scalar()
                conn.rollback()
            if holder is None:
                return
            time.sleep(0.05)
        raise AssertionError("the upload's lease was never released")

    def lease_taken(self, upload_url: str, timeout: float = 15.0) -> None:
        upload_id = uuid.UUID(upload_url.rsplit("/", 1)[-1])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.engine.connect() as conn:
                holder = conn.execute(select(Upload.locked_by).where(Upload.id == upload_id)).scalar()
                conn.rollback()
            if holder is not None:
                return
            time.sleep(0.01)
        raise AssertionError("no request took the upload's lease")


class _CountingInput:
    """wsgi.input that counts what the app read, so the rest can be drained."""

    def __init__(self, raw):
        self.raw, self.read_bytes = raw, 0

    def read(self, *args):
        data = self.raw.read(*args)
        self.read_bytes += len(data)
        return data

    def readline(self, *args):
        data = self.raw.readline(*args)
        self.read_bytes += len(data)
        return data

    def readinto(self, buffer):
        n = self.raw.readinto(buffer)
        self.read_bytes += n or 0
        return n


def draining(app):
    """Read what the app left of a request body before the server closes the connection, as
    gunicorn does: closing over unread bytes makes the kernel reset the connection, and the
    client may lose the answer (a 409 or 423 sent before the body was read)."""

    def wrapped(environ, start_response):
        counting = _CountingInput(environ["wsgi.input"])
        environ["wsgi.input"] = counting
        try:
            yield from app(environ, start_response)
        finally:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                while counting.read_bytes < length:
                    if not counting.read(min(1 << 16, length - counting.read_bytes)):
                        break
            except OSError:
                pass  # the client is gone
    return wrapped


def _backends_in_run(request) -> list[str]:
    from tests.conftest import _backends

    return _backends()


@pytest.fixture(scope="module", params=["local", "s3"])
def live(request, backend, tmp_path_factory) -> Iterator[Live]:
    store_kind = request.param
    tmp = tmp_path_factory.mktemp(f"live-{backend}-{store_kind}")
    url = fresh_database_url(backend, tmp, f"_evidlive_{store_kind}")
    migrate.upgrade(url)
    engine = make_engine(url)
    Base.metadata.create_all(engine)  # the evidence tables have no migration yet

    from argon2 import PasswordHasher

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        with make_session_factory(engine)() as session:
            parent = None
            for code, name, level in (("500000", "重庆市", JurisdictionLevel.province),
                                      ("500100", "重庆市市辖区", JurisdictionLevel.city),
                                      ("500107", "九龙坡区", JurisdictionLevel.district)):
                parent = jurisdictions.create_jurisdiction(session, actor=None, code=code, name=name, level=level,
                                                           parent_id=parent.id if parent else None)
            user = accounts.create_user(session, actor=None, username="live-monitor", password=PASSWORD,
                                        display_name="Monitor", role=Role.squad_member, jurisdiction_id=parent.id)
            session.commit()
            user_id = user.id

        from api import create_app

        app = create_app({"DATABASE_URL": url, "EVIDENCE_DIR": str(tmp / "evidence"), "SECRET_KEY": "live"})
        if store_kind == "s3":
            server = request.getfixturevalue("seaweed")
            store = S3BlobStore(server.endpoint_url, TEST_BUCKET, server.access_key, server.secret_key,
                                prefix=f"live-{uuid.uuid4().hex}")
        else:
            store = LocalBlobStore(tmp / "evidence")
        app.extensions["BLOB_STORE"] = store
        http = make_server("127.0.0.1", 0, draining(app), threaded=True)
        serving = threading.Thread(target=http.serve_forever, name="live-app", daemon=True)
        serving.start()
        base = f"http://127.0.0.1:{http.server_port}"
        try:
            login = requests.post(base + "/api/v1/auth/login", json={
                "username": "live-monitor", "password": PASSWORD, "device_name": "live phone"}, timeout=30)
            assert login.status_code == 201, login.text
            backends = _backends_in_run(request)
            full = (backend, store_kind) == (backends[-1], "s3")
            yield Live(base, engine, store, {"Authorization": f"Bearer {login.json()['token']}"}, user_id, full)
        finally:
            http.shutdown()
            serving.join(10)
            http.server_close()
            app.extensions["ENGINE"].dispose()
            engine.dispose()
            drop_database(url)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _upload(live: Live, path: Path, *, record_id=None, sha=None, chunk=CHUNK, kind="photo") -> str:
    """Upload a file with tuspy, with a SHA-1 Upload-Checksum on every chunk; returns the upload URL."""
    with open(path, "rb") as stream:
        uploader = live.tus().uploader(
            file_stream=stream, chunk_size=chunk, upload_checksum=True,
            metadata={"kind": kind, "record_id": str(record_id or uuid.uuid4()), "filename": path.name,
                      **({"sha256": sha} if sha else {})})
        uploader.upload()
        return uploader.url


def _photos(live: Live) -> list[CorpusPhoto]:
    photos = [p for p in corpus_or_fail() if p.folder != "broken_odd"]
    return photos if live.full_corpus else [p for p in photos if p.name in SUBSET]


# -- the corpus through tuspy --------------------------------------------------------------------


def _uploaded(live: Live, photos: list[CorpusPhoto]) -> dict:
    """Upload through tuspy those of ``photos`` this server has not had yet; name → what was found.

    Three phones at a time, as a squad coming back into coverage would. Tests of this module
    may run on different xdist workers, each with its own server, so each test uploads what
    it needs; on one worker nothing is uploaded twice.
    """

    def one(photo: CorpusPhoto) -> tuple[str, dict]:
        expected = _sha256(photo.path)
        upload_url = _upload(live, photo.path, sha=expected)
        status = requests.get(upload_url, headers=live.headers, timeout=30).json()
        with live.store.open_original(expected) as stored:
            actual = hashlib.sha256(stored.read()).hexdigest()
        return photo.name, {"expected": expected, "status": status, "stored": actual}

    missing = [photo for photo in photos if photo.name not in live.stored]
    with ThreadPoolExecutor(max_workers=3) as pool:
        live.stored.update(pool.map(one, missing))
    return {photo.name: live.stored[photo.name] for photo in photos}


def _fetch_all(live: Live, paths: list[str]) -> list[requests.Response]:
    """GET each path, three at a time (first views make the viewing copies)."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        return list(pool.map(lambda path: requests.get(live.url(path), headers=live.headers, timeout=120), paths))


def test_tuspy_uploads_the_photos_and_every_stored_original_has_the_files_sha256(live):
    photos = _photos(live)
    uploaded = _uploaded(live, photos)
    wrong = {name: found for name, found in uploaded.items()
             if not (found["status"]["state"] == "complete"
                     and found["status"]["sha256"] == found["stored"] == found["expected"])}
    assert not wrong
    assert len(uploaded) == len(photos) >= len(SUBSET)


def test_derivatives_of_photos_with_gps_or_a_serial_carry_neither(live):
    revealing = []
    for photo in _photos(live):
        facts = read_facts(photo.path)
        if facts.gps_lat is not None or facts.serial_numbers:
            revealing.append((photo, facts.serial_numbers))
    assert len(revealing) >= 3
    uploaded = _uploaded(live, [photo for photo, _ in revealing])
    wanted = [(photo, serials, kind) for photo, serials in revealing for kind in ("thumb", "preview")]
    answers = _fetch_all(live, [f"/api/v1/evidence/{uploaded[photo.name]['expected']}/{kind}"
                                for photo, _, kind in wanted])
    for (photo, serials, kind), resp in zip(wanted, answers):
        assert resp.status_code == 200, (photo.name, kind, resp.text)
        jpeg = resp.content
        assert not _metadata_segments(jpeg), (photo.name, kind)
        image = Image.open(io.BytesIO(jpeg))
        assert not image.getexif() and "exif" not in image.info, (photo.name, kind)
        for serial in serials:
            assert serial.encode() not in jpeg, (photo.name, serial)


def test_oriented_photos_have_upright_derivatives(live):
    oriented = [photo for photo in _photos(live) if read_facts(photo.path).orientation not in (None, 1)]
    assert oriented
    uploaded = _uploaded(live, oriented)
    previews = _fetch_all(live, [f"/api/v1/evidence/{found['expected']}/preview" for found in uploaded.values()])
    for (name, found), resp in zip(uploaded.items(), previews):
        described = requests.get(live.url(f"/api/v1/evidence/{found['expected']}"), headers=live.headers,
                                 timeout=30).json()
        assert resp.status_code == 200, (name, resp.text)
        preview = Image.open(io.BytesIO(resp.content))
        # Upright: shaped as the photo is meant to be seen (display size), not as stored.
        assert (preview.width > preview.height) == (described["width"] > described["height"]), name
        assert abs(preview.width / preview.height - described["width"] / described["height"]) < 0.02, name


def test_every_orientation_of_one_scene_comes_out_the_same(live):
    """The landscape_N samples are one scene stored eight ways: every preview must show it alike."""
    names = [f"orientation/ianare__landscape_{n}.jpg" for n in (1, 2, 4, 5, 7, 8)]
    photos = {p.name: p for p in corpus_or_fail()}
    previews = []
    for name, found in _uploaded(live, [photos[n] for n in names]).items():
        resp = requests.get(live.url(f"/api/v1/evidence/{found['expected']}/thumb"), headers=live.headers,
                            timeout=60)
        previews.append(Image.open(io.BytesIO(resp.content)).convert("L"))
    reference = previews[0]
    for name, preview in zip(names[1:], previews[1:]):
        assert preview.size == reference.size, name
        difference = sum(abs(a - b) for a, b in zip(preview.tobytes(), reference.tobytes())) / len(preview.tobytes())
        assert difference < 12, (name, difference)


def _metadata_segments(jpeg: bytes) -> list[int]:
    """APP1-APP15 and COM markers of a JPEG, up to its image data."""
    found, i = [], 2
    while i + 4 <= len(jpeg) and jpeg[i] == 0xFF:
        marker = jpeg[i + 1]
        if marker == 0xDA:  # start of scan: metadata comes before
            break
        length = int.from_bytes(jpeg[i + 2:i + 4], "big")
        if 0xE1 <= marker <= 0xEF or marker == 0xFE:
            found.append(marker)
        i += 2 + length
    return found


# -- broken and odd files ------------------------------------------------------------------------


def test_broken_and_odd_files_are_refused_with_4xx_or_kept_opaque_and_the_server_stays_up(live):
    broken = [p for p in corpus_or_fail() if p.folder == "broken_odd" and (live.full_corpus or p.name in BROKEN_SUBSET)]
    outcomes = {}
    for photo in broken:
        try:
            _upload(live, photo.path)
        except TusUploadFailed as refused:
            assert refused.status_code is not None and 400 <= refused.status_code < 500, (photo.name, refused)
            outcomes[photo.name] = refused.status_code
            continue
        sha = _sha256(photo.path)
        thumb = requests.get(live.url(f"/api/v1/evidence/{sha}/thumb"), headers=live.headers, timeout=60)
        described = requests.get(live.url(f"/api/v1/evidence/{sha}"), headers=live.headers, timeout=30).json()
        if thumb.status_code == 200:
            assert described["derivatives_state"] == "ready"
            assert Image.open(io.BytesIO(thumb.content)).format == "JPEG"
        else:
            assert thumb.status_code == 404 and described["derivatives_state"] == "failed", photo.name
            assert described["derivatives"] == []
        outcomes[photo.name] = described["derivatives_state"]
    assert requests.get(live.url("/healthz"), timeout=10).status_code == 200
    assert set(outcomes) == {p.name for p in broken}
    assert any(isinstance(v, int) for v in outcomes.values()) and "failed" in outcomes.values()


# -- bad networks --------------------------------------------------------------------------------


class _Kept(io.BytesIO):
    """The file as tuspy's resume needs it: its fingerprinting closes the stream it is given."""

    def close(self) -> None:
        pass


def _create(live: Live, length: int) -> str:
    created = requests.post(live.url("/api/v1/uploads"), headers={
        **live.headers, "Tus-Resumable": "1.0.0", "Upload-Length": str(length),
        "Upload-Metadata": f"kind {base64.b64encode(b'photo').decode()},"
                           f"record_id {base64.b64encode(str(uuid.uuid4()).encode()).decode()}",
    }, timeout=30)
    assert created.status_code == 201, created.text
    return created.headers["Location"]


def _raw_patch(live: Live, upload_url: str, offset: int, body: bytes, *, send: int, then=None) -> socket.socket:
    """A PATCH sent by hand: its headers announce ``len(body)`` bytes, ``send`` of them go out,
    then ``then()`` runs (drop the connection, or wait); returns the socket."""
    parts = urlsplit(upload_url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    head = (f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Authorization: {live.headers['Authorization']}\r\nTus-Resumable: 1.0.0\r\n"
            f"Upload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    sock.sendall(head.encode() + body[:send])
    if then is not None:
        then(sock)
    return sock


def _status_of(sock: socket.socket) -> int:
    answer = b""
    while b"\r\n" not in answer:
        piece = sock.recv(4096)
        if not piece:
            break
        answer += piece
    return int(answer.split(b" ", 2)[1])


def test_an_upload_cut_off_mid_chunk_resumes_with_tuspy_from_its_stored_url(live, tmp_path):
    photo = next(p for p in corpus_or_fail() if p.name == "large/mei__Issue_525.jpg")
    data, expected = photo.path.read_bytes(), _sha256(photo.path)
    assert len(data) > 1_000_000
    urls = FileStorage(str(tmp_path / "tus-urls.json"))
    try:
        first = live.tus().uploader(file_stream=_Kept(data), store_url=True, url_storage=urls, chunk_size=CHUNK,
                                    metadata={"kind": "photo", "record_id": str(uuid.uuid4())})
        first.set_url(first.create_url())  # the phone keeps the URL before sending a byte
        upload_url = first.url
        # The network drops 700 kB into a 1.3 MB chunk.
        sock = _raw_patch(live, upload_url, 0, data, send=700_000, then=lambda _: live.lease_taken(upload_url))
        sock.close()
        live.lease_free(upload_url)
        # The app starts again: a new uploader finds the URL by the file's fingerprint and asks the offset.
        resumed = live.tus().uploader(file_stream=_Kept(data), store_url=True, url_storage=urls, chunk_size=256_000,
                                      metadata={"kind": "photo", "record_id": str(uuid.uuid4())})
        assert resumed.url == upload_url and 0 < resumed.offset <= 700_000
        resumed.upload()
    finally:
        urls.close()
    status = requests.get(upload_url, headers=live.headers, timeout=30).json()
    assert status["state"] == "complete" and status["sha256"] == expected
    with live.store.open_original(expected) as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == expected


def test_racing_patches_at_the_same_offset_never_interleave(live):
    """Two PATCHes at offset 0, the first slowed mid-body: the second is refused (423 while
    the first holds the upload, or 409 after it moved the offset); the staged bytes are the
    first's, whole."""
    length = 400_000
    first_body = bytes([0xAA]) * (length // 2)
    second_body = bytes([0x55]) * (length // 2)
    upload_url = _create(live, length)
    release = threading.Event()
    results = {}

    def slow_first():
        sock = _raw_patch(live, upload_url, 0, first_body, send=50_000, then=lambda s: release.wait(30))
        sock.sendall(first_body[50_000:])
        results["first"] = _status_of(sock)
        sock.close()

    sender = threading.Thread(target=slow_first)
    sender.start()
    live.lease_taken(upload_url)
    second = requests.patch(upload_url, data=second_body, headers={
        **live.headers, "Tus-Resumable": "1.0.0", "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream"}, timeout=30)
    release.set()
    sender.join(30)
    assert results["first"] == 204 and second.status_code in (409, 423)
    head = requests.head(upload_url, headers={**live.headers, "Tus-Resumable": "1.0.0"}, timeout=30)
    assert head.headers["Upload-Offset"] == str(len(first_body))
    with live.store.stage_open(uuid.UUID(upload_url.rsplit("/", 1)[-1]).hex) as staged:
        assert staged.read() == first_body


def test_two_phones_sending_to_one_upload_at_once_never_interleave(live):
    """Both start at once and send slowly; whoever wins, the staged bytes are one sender's, whole."""
    length = 300_000
    bodies = {"a": bytes([0x11]) * (length // 2), "b": bytes([0x22]) * (length // 2)}
    upload_url = _create(live, length)
    start = threading.Barrier(2)
    results = {}

    def send(name):
        body = bodies[name]
        start.wait(10)
        sock = _raw_patch(live, upload_url, 0, body, send=10_000, then=lambda s: time.sleep(0.3))
        try:
            sock.sendall(body[10_000:])
        except OSError:
            pass  # refused early: the server may stop listening
        results[name] = _status_of(sock)
        sock.close()

    threads = [threading.Thread(target=send, args=(name,)) for name in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results.values())[0] == 204 and sorted(results.values())[1] in (409, 423), results
    winner = next(name for name, status in results.items() if status == 204)
    with live.store.stage_open(uuid.UUID(upload_url.rsplit("/", 1)[-1]).hex) as staged:
        assert staged.read() == bodies[winner]


def test_a_refused_upload_answers_415_then_410_to_a_client_resuming_it(live, tmp_path):
    fake = tmp_path / "not-a-photo.jpg"
    fake.write_bytes(b"%PDF-1.4 " + os.urandom(5000))
    with open(fake, "rb") as stream:
        uploader = live.tus().uploader(file_stream=stream, chunk_size=CHUNK,
                                       metadata={"kind": "photo", "record_id": str(uuid.uuid4())})
        with pytest.raises(TusUploadFailed) as refused:
            uploader.upload()
        assert refused.value.status_code == 415
        with pytest.raises(TusCommunicationError) as gone:
            live.tus().uploader(file_stream=stream, url=uploader.url)
        assert gone.value.status_code == 410


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_a_plain_client_patching_another_type_gets_the_tus_415_and_tuspy_then_finishes(live, content_type):
    """The JSON body guard once answered such a PATCH itself (400 "not valid JSON", or its own
    415 asking for JSON), in the wrong protocol; the tus view answers now, and the upload is
    unharmed: tuspy resumes it from offset 0 and completes it."""
    data = Image.new("RGB", (64, 48), (40, 90, 160))
    buffer = io.BytesIO()
    data.save(buffer, "JPEG")
    photo = buffer.getvalue()
    upload_url = _create(live, len(photo))
    resp = requests.patch(upload_url, data=b'{"not": "tus"} ' + photo[:100], timeout=30, headers={
        **live.headers, "Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": content_type})
    assert resp.status_code == 415, resp.text
    assert resp.headers["Tus-Resumable"] == "1.0.0" and resp.headers["Content-Type"] == "application/problem+json"
    assert "application/offset+octet-stream" in resp.json()["detail"]
    head = requests.head(upload_url, headers={**live.headers, "Tus-Resumable": "1.0.0"}, timeout=30)
    assert head.headers["Upload-Offset"] == "0"
    uploader = live.tus().uploader(file_stream=_Kept(photo), url=upload_url, chunk_size=CHUNK)
    uploader.upload()
    assert requests.get(upload_url, headers=live.headers, timeout=30).json()["state"] == "complete"
