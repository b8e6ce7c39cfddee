"""Blob storage, on the local directory backend and on a real SeaweedFS S3 server."""

from __future__ import annotations

import hashlib
import io
import random
import stat
import threading
import tracemalloc
import urllib.request
from pathlib import Path
from urllib.parse import unquote

import pytest

from field.core.evidence_errors import BlobConflict, BlobNotFound, HashMismatch, OffsetMismatch, StageBusy, TooLarge
from evidence.local_store import LocalBlobStore
from evidence.s3_store import S3BlobStore
from evidence.storage import CHUNK_SIZE, BlobStore, content_disposition, make_blob_store, new_upload_id
from field.core.storage import StoredBlob
from tests.evidence_fixtures import s3_calls

MB = 1 << 20


def data_of(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def original_key(digest: str) -> str:
    return f"originals/{digest[:2]}/{digest[2:4]}/{digest}"


def keys(store: BlobStore) -> list[str]:
    """Every object the store holds (for the local one: every file, temp files included)."""
    if isinstance(store, LocalBlobStore):
        return sorted(str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file())
    assert isinstance(store, S3BlobStore)
    pages = store.client.get_paginator("list_objects_v2").paginate(Bucket=store.bucket, Prefix=store.prefix)
    return sorted(item["Key"][len(store.prefix):] for page in pages for item in page.get("Contents", []))


def originals(store: BlobStore) -> list[str]:
    return [key for key in keys(store) if not key.startswith("staging/")]


class GeneratedStream(io.RawIOBase):
    """``size`` bytes made on the fly, hashed as they are handed out, never held whole."""

    def __init__(self, size: int, *, fail_after: int | None = None) -> None:
        self.remaining = size
        self.handed_out = 0
        self.fail_after = fail_after
        self.digest = hashlib.sha256()
        self._block = random.Random(size).randbytes(64 * 1024)
        self._counter = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.fail_after is not None and self.handed_out >= self.fail_after:
            raise ConnectionResetError("client went away")
        n = min(len(buffer), self.remaining, len(self._block))
        if self.fail_after is not None:
            n = min(n, self.fail_after - self.handed_out)
        self._counter += 1
        chunk = self._counter.to_bytes(8, "big") + self._block[8:n] if n >= 8 else self._block[:n]
        buffer[:n] = chunk
        self.digest.update(chunk)
        self.remaining -= n
        self.handed_out += n
        return n


def test_both_backends_implement_the_interface(blob_store):
    assert isinstance(blob_store, BlobStore)


# -- originals --------------------------------------------------------------------------------------


def test_an_original_is_stored_under_its_sha256_and_reads_back_unchanged(blob_store):
    data = data_of(3 * CHUNK_SIZE + 123)
    blob = blob_store.put_original(io.BytesIO(data))
    assert blob == StoredBlob(sha(data), len(data), created=True)
    assert keys(blob_store) == [original_key(blob.sha256)]
    assert blob_store.exists(blob.sha256)
    assert blob_store.size(blob.sha256) == len(data)
    with blob_store.open_original(blob.sha256) as stream:
        assert stream.read(10) == data[:10]
        assert stream.read() == data[10:]


def test_an_empty_upload_is_a_valid_original(blob_store):
    blob = blob_store.put_original(io.BytesIO(b""))
    assert blob == StoredBlob(sha(b""), 0, created=True)
    with blob_store.open_original(blob.sha256) as stream:
        assert stream.read() == b""


def test_the_same_bytes_stored_twice_are_stored_once(blob_store):
    data = data_of(MB + 7)
    first = blob_store.put_original(io.BytesIO(data))
    second = blob_store.put_original(io.BytesIO(data))
    assert (first.created, second.created) == (True, False)
    assert (second.sha256, second.size) == (first.sha256, first.size)
    assert keys(blob_store) == [original_key(first.sha256)]


def test_a_hash_mismatch_keeps_nothing(blob_store):
    data = data_of(2 * MB)
    wrong = sha(b"something else")
    with pytest.raises(HashMismatch) as refused:
        blob_store.put_original(io.BytesIO(data), expected_sha256=wrong)
    assert (refused.value.expected, refused.value.actual) == (wrong, sha(data))
    assert keys(blob_store) == []
    assert not blob_store.exists(sha(data))


def test_the_expected_hash_is_compared_case_insensitively(blob_store):
    data = data_of(1000)
    assert blob_store.put_original(io.BytesIO(data), expected_sha256=sha(data).upper()).created


def test_passing_max_bytes_keeps_nothing(blob_store):
    data = data_of(2 * MB + 1)
    with pytest.raises(TooLarge) as refused:
        blob_store.put_original(io.BytesIO(data), max_bytes=2 * MB)
    assert refused.value.max_bytes == 2 * MB
    assert keys(blob_store) == []
    assert blob_store.put_original(io.BytesIO(data), max_bytes=len(data)).size == len(data)


def test_an_endless_stream_is_cut_off_at_max_bytes(blob_store):
    stream = GeneratedStream(1 << 40)
    with pytest.raises(TooLarge):
        blob_store.put_original(stream, max_bytes=3 * MB)
    assert stream.handed_out <= 3 * MB + CHUNK_SIZE
    assert keys(blob_store) == []


def test_a_stored_original_is_never_overwritten(blob_store):
    data = data_of(100_000)
    blob = blob_store.put_original(io.BytesIO(data))
    if isinstance(blob_store, LocalBlobStore):
        path = blob_store.root / original_key(blob.sha256)
        assert stat.S_IMODE(path.stat().st_mode) == 0o444
        # Simulate damage done outside the application.
        path.chmod(0o644)
        path.write_bytes(b"damaged")
        path.chmod(0o444)
    else:
        blob_store.client.put_object(Bucket=blob_store.bucket, Key=blob_store.prefix + original_key(blob.sha256),
                                     Body=b"damaged")
    with pytest.raises(BlobConflict) as alarm:
        blob_store.put_original(io.BytesIO(data))
    assert (alarm.value.stored_size, alarm.value.new_size) == (7, len(data))
    with blob_store.open_original(blob.sha256) as stream:
        assert stream.read() == b"damaged"  # left as found, for examination


def test_concurrent_writers_of_the_same_bytes_store_it_once(blob_store):
    data = data_of(4 * MB, seed=3)
    results: list[StoredBlob] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def write() -> None:
        try:
            start.wait(timeout=10)
            results.append(blob_store.put_original(io.BytesIO(data)))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert sorted(r.created for r in results) == [False, False, False, True]
    assert keys(blob_store) == [original_key(sha(data))]
    with blob_store.open_original(sha(data)) as stream:
        assert stream.read() == data


def test_s3_write_once_is_the_stores_own_refusal_with_no_existence_check_before(s3_store):
    data = data_of(50_000)
    s3_store.put_original(io.BytesIO(data))
    calls = s3_calls(s3_store)
    blob = s3_store.put_original(io.BytesIO(data))  # PutObject If-None-Match: * answers 412
    assert blob == StoredBlob(sha(data), len(data), created=False)
    # No HEAD before the write (a race between the two could not be closed anyway): the store refuses
    # it, and only then is the stored copy's size asked, to tell a damaged copy from the same bytes.
    assert calls == ["PutObject", "HeadObject"]


def test_unknown_originals_are_not_found(blob_store):
    missing = sha(b"never stored")
    assert not blob_store.exists(missing)
    with pytest.raises(BlobNotFound):
        blob_store.open_original(missing)
    with pytest.raises(BlobNotFound):
        blob_store.size(missing)


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ABCDEF" + "0" * 58, "0" * 63, "", "0" * 64 + "/x"])
def test_malformed_hashes_are_refused(blob_store, bad):
    with pytest.raises(ValueError):
        blob_store.exists(bad)
    with pytest.raises(ValueError):
        blob_store.open_original(bad)
    with pytest.raises(ValueError):
        blob_store.put_derivative(bad, "thumb", b"x")


# -- derivatives ------------------------------------------------------------------------------------


def test_derivatives_are_kept_beside_their_original_and_can_be_remade(blob_store):
    digest = blob_store.put_original(io.BytesIO(b"original")).sha256
    assert not blob_store.derivative_exists(digest, "thumb")
    blob_store.put_derivative(digest, "thumb", b"thumb v1")
    blob_store.put_derivative(digest, "preview", b"preview")
    blob_store.put_derivative(digest, "thumb", b"thumb v2")
    assert blob_store.derivative_exists(digest, "thumb")
    with blob_store.open_derivative(digest, "thumb") as stream:
        assert stream.read() == b"thumb v2"
    with blob_store.open_derivative(digest, "preview") as stream:
        assert stream.read() == b"preview"
    prefix = f"derivatives/{digest[:2]}/{digest[2:4]}/{digest}"
    assert keys(blob_store) == sorted([original_key(digest), f"{prefix}/preview.jpg", f"{prefix}/thumb.jpg"])


def test_only_known_derivatives_exist(blob_store):
    digest = sha(b"x")
    with pytest.raises(ValueError):
        blob_store.put_derivative(digest, "../original", b"x")
    with pytest.raises(BlobNotFound):
        blob_store.open_derivative(digest, "preview")


# -- signed URLs --------------------------------------------------------------------------------------


def test_the_local_store_cannot_sign_urls(tmp_path):
    store = LocalBlobStore(tmp_path)
    digest = store.put_original(io.BytesIO(b"x")).sha256
    assert store.signed_url(digest, filename="x.jpg", expires_s=60) is None


def test_an_s3_signed_url_downloads_the_original_as_a_named_attachment(s3_store):
    data = data_of(5000)
    digest = s3_store.put_original(io.BytesIO(data)).sha256
    url = s3_store.signed_url(digest, filename="现场照片 1.jpg", expires_s=120, content_type="image/jpeg")
    assert url is not None and "X-Amz-Signature=" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == data
        disposition = response.headers["Content-Disposition"]
        assert response.headers["Content-Type"] == "image/jpeg"
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == "现场照片 1.jpg"
    s3_store.put_derivative(digest, "preview", b"preview bytes")
    with urllib.request.urlopen(s3_store.signed_url(digest, filename="p.jpg", derivative="preview")) as response:
        assert response.read() == b"preview bytes"


def test_an_s3_signed_url_needs_a_lifetime_s3_accepts(s3_store):
    digest = sha(b"x")
    for expires in (0, 8 * 24 * 3600):
        with pytest.raises(ValueError):
            s3_store.signed_url(digest, filename="x", expires_s=expires)


def test_content_disposition_has_an_ascii_fallback_and_the_exact_name():
    header = content_disposition('现场 "照片"\n.jpg')
    assert header.startswith('attachment; filename="')
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii() and '"' not in fallback and "\n" not in fallback
    assert unquote(header.split("filename*=UTF-8''", 1)[1]) == '现场 "照片".jpg'


# -- staging for resumable uploads ----------------------------------------------------------------


def test_chunks_append_in_order_and_read_back_as_one_stream(blob_store):
    upload = new_upload_id()
    parts = [data_of(CHUNK_SIZE + 500, 1), data_of(10, 2), data_of(700_000, 3)]
    offset = 0
    for part in parts:
        offset = blob_store.stage_append(upload, offset, io.BytesIO(part), max_bytes=10 * MB)
    assert offset == blob_store.stage_size(upload) == sum(map(len, parts))
    with blob_store.stage_open(upload) as stream:
        assert stream.read() == b"".join(parts)


def test_an_unknown_upload_is_empty(blob_store):
    assert blob_store.stage_size("never-started") == 0
    with blob_store.stage_open("never-started") as stream:
        assert stream.read() == b""


def test_a_chunk_at_the_wrong_offset_is_refused(blob_store):
    upload = new_upload_id()
    blob_store.stage_append(upload, 0, io.BytesIO(b"hello"))
    for wrong in (0, 4, 6):
        with pytest.raises(OffsetMismatch) as refused:
            blob_store.stage_append(upload, wrong, io.BytesIO(b"world"))
        assert (refused.value.expected, refused.value.given) == (5, wrong)
    assert blob_store.stage_size(upload) == 5


class _Paused(io.RawIOBase):
    """A request body that sends ``first`` bytes, then waits for ``go`` before sending the rest."""

    def __init__(self, data: bytes, first: int, go: threading.Event, sent_first: threading.Event):
        self._data, self._first, self._go, self._sent_first, self._at = data, first, go, sent_first, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._at == self._first:
            self._sent_first.set()
            self._go.wait(10)
        end = min(len(self._data), self._at + len(buffer), self._first if self._at < self._first else len(self._data))
        n = end - self._at
        buffer[:n] = self._data[self._at:end]
        self._at = end
        return n


def test_the_staged_size_is_never_read_mid_chunk(blob_store):
    """Found by stress/racing_patch.py: a request taking over a lapsed lease read the size of a
    chunk still being written (49152 of 54626) and answered it as the upload's offset. The size
    is the one before the chunk (S3: a chunk is one object, stored whole) or StageBusy (local),
    and asking never waits for the appender (the asker holds a database transaction the
    appender needs to renew its lease)."""
    upload = new_upload_id()
    blob_store.stage_append(upload, 0, io.BytesIO(b"p" * 1000))
    go, sent_first = threading.Event(), threading.Event()
    chunk = data_of(3 * 65536, 7)
    writer = threading.Thread(target=blob_store.stage_append,
                              args=(upload, 1000, _Paused(chunk, 65536, go, sent_first)))
    writer.start()
    try:
        assert sent_first.wait(10)
        try:
            seen = blob_store.stage_size(upload)  # answers at once: the writer is paused until ``go``
        except StageBusy:
            seen = "busy"
    finally:
        go.set()
        writer.join(10)
    assert seen == ("busy" if isinstance(blob_store, LocalBlobStore) else 1000)
    assert blob_store.stage_size(upload) == 1000 + len(chunk)


def test_a_chunk_passing_max_bytes_is_refused_whole(blob_store):
    upload = new_upload_id()
    blob_store.stage_append(upload, 0, io.BytesIO(data_of(MB)), max_bytes=2 * MB)
    with pytest.raises(TooLarge):
        blob_store.stage_append(upload, MB, io.BytesIO(data_of(MB + 1)), max_bytes=2 * MB)
    assert blob_store.stage_size(upload) == MB
    assert blob_store.stage_append(upload, MB, io.BytesIO(data_of(MB)), max_bytes=2 * MB) == 2 * MB


def test_an_interrupted_chunk_keeps_what_arrived(blob_store):
    upload = new_upload_id()
    blob_store.stage_append(upload, 0, io.BytesIO(b"x" * 1000))
    # Unbuffered on purpose: bytes a buffered reader took in before the error are lost to us too.
    stream = GeneratedStream(MB, fail_after=300_000)
    with pytest.raises(ConnectionResetError):
        blob_store.stage_append(upload, 1000, stream)
    assert blob_store.stage_size(upload) == 301_000  # the client resumes from here


def test_truncating_discards_only_what_lies_beyond_the_offset(blob_store):
    upload = new_upload_id()
    first, bad, good = data_of(CHUNK_SIZE + 10, 1), data_of(5000, 2), data_of(3000, 3)
    blob_store.stage_append(upload, 0, io.BytesIO(first))
    blob_store.stage_append(upload, len(first), io.BytesIO(bad))
    blob_store.stage_truncate(upload, len(first))  # the chunk failed its checksum
    assert blob_store.stage_size(upload) == len(first)
    blob_store.stage_append(upload, len(first), io.BytesIO(good))
    with blob_store.stage_open(upload) as stream:
        assert stream.read() == first + good
    blob_store.stage_truncate(upload, 100)  # inside the first chunk
    with blob_store.stage_open(upload) as stream:
        assert stream.read() == first[:100]
    with pytest.raises(OffsetMismatch):
        blob_store.stage_truncate(upload, 101)


def test_promoting_stores_the_staged_bytes_and_discards_the_staging(blob_store):
    upload = new_upload_id()
    parts = [data_of(CHUNK_SIZE, 1), data_of(12345, 2)]
    offset = 0
    for part in parts:
        offset = blob_store.stage_append(upload, offset, io.BytesIO(part))
    whole = b"".join(parts)
    blob = blob_store.promote_staged(upload, expected_sha256=sha(whole))
    assert blob == StoredBlob(sha(whole), len(whole), created=True)
    assert blob_store.stage_size(upload) == 0
    assert keys(blob_store) == [original_key(sha(whole))]
    with blob_store.open_original(blob.sha256) as stream:
        assert stream.read() == whole


def test_promoting_with_a_wrong_hash_stores_nothing_and_keeps_the_staging(blob_store):
    upload = new_upload_id()
    blob_store.stage_append(upload, 0, io.BytesIO(b"evidence"))
    with pytest.raises(HashMismatch):
        blob_store.promote_staged(upload, expected_sha256=sha(b"other"))
    assert originals(blob_store) == []
    assert not blob_store.exists(sha(b"evidence"))
    assert blob_store.stage_size(upload) == 8


def test_discarding_removes_every_staged_chunk(blob_store):
    upload = new_upload_id()
    offset = 0
    for n in range(3):
        offset = blob_store.stage_append(upload, offset, io.BytesIO(data_of(1000, n)))
    blob_store.stage_discard(upload)
    assert blob_store.stage_size(upload) == 0
    assert [k for k in keys(blob_store) if upload in k] == []


def test_two_appends_at_the_same_offset_cannot_both_win(blob_store):
    upload = new_upload_id()
    # On S3 both requests get past the length check before either writes; the
    # conditional PutObject must then refuse one. Locally the lock serialises them.
    both_checked = threading.Barrier(2) if isinstance(blob_store, S3BlobStore) else None
    outcomes: list[object] = []

    class Chunk(io.BytesIO):
        def read(self, size=-1):
            if both_checked is not None and self.tell() == 0:
                both_checked.wait(timeout=10)
            return super().read(size)

    def append(payload: bytes) -> None:
        try:
            outcomes.append(blob_store.stage_append(upload, 0, Chunk(payload)))
        except OffsetMismatch as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=append, args=(bytes([n]) * 1000,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(type(o).__name__ for o in outcomes) == ["OffsetMismatch", "int"]
    with blob_store.stage_open(upload) as stream:
        staged = stream.read()
    assert staged in (b"\x01" * 1000, b"\x02" * 1000)


@pytest.mark.parametrize("bad", ["../x", "a/b", "", "x" * 129, "ä"])
def test_upload_ids_are_checked(blob_store, bad):
    with pytest.raises(ValueError):
        blob_store.stage_append(bad, 0, io.BytesIO(b"x"))
    with pytest.raises(ValueError):
        blob_store.stage_size(bad)


# -- memory ------------------------------------------------------------------------------------------


def test_storing_a_200_mb_stream_keeps_memory_flat(blob_store):
    stream = GeneratedStream(200 * MB)
    tracemalloc.start()
    try:
        blob = blob_store.put_original(io.BufferedReader(stream, buffer_size=CHUNK_SIZE))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert blob.size == 200 * MB
    assert blob.sha256 == stream.digest.hexdigest()
    print(f"tracemalloc peak storing 200 MiB on {type(blob_store).__name__}: {peak / MB:.2f} MiB")
    assert peak < 4 * MB, f"peak {peak / MB:.1f} MiB"


# -- configuration -----------------------------------------------------------------------------------


def test_the_factory_builds_the_configured_backend(tmp_path, seaweed):
    local = make_blob_store({"EVIDENCE_DIR": str(tmp_path / "ev")})
    assert isinstance(local, LocalBlobStore) and Path(local.root) == tmp_path / "ev"
    s3 = make_blob_store({
        "EVIDENCE_STORAGE": "s3", "S3_ENDPOINT_URL": seaweed.endpoint_url, "S3_BUCKET": "fieldwatch-evidence-tests",
        "S3_ACCESS_KEY": seaweed.access_key, "S3_SECRET_KEY": seaweed.secret_key, "S3_PREFIX": "factory/",
    })
    assert isinstance(s3, S3BlobStore) and s3.prefix == "factory/"
    assert s3.put_original(io.BytesIO(b"through the factory")).size == 19


@pytest.mark.parametrize(("config", "message"), [
    ({"EVIDENCE_STORAGE": "s3", "S3_BUCKET": "b"}, "S3_ACCESS_KEY"),
    ({"EVIDENCE_STORAGE": "ftp"}, "'local' or 's3'"),
])
def test_the_factory_refuses_incomplete_configuration(config, message):
    with pytest.raises(ValueError, match=message):
        make_blob_store(config)


# -- one pass: the staged bytes become the original as they lie ------------------------------------


def test_the_last_chunk_on_s3_is_sent_once_as_the_original_with_no_get_and_no_list(s3_store):
    upload = new_upload_id()
    whole = data_of(3 * MB + 17, 5)
    calls = s3_calls(s3_store)
    assert s3_store.stage_append(upload, 0, io.BytesIO(whole), max_bytes=len(whole)) == len(whole)
    with s3_store.stage_complete(upload, len(whole)) as staged:
        assert staged.sha256 == sha(whole)  # hashed as it arrived
        assert s3_store.keep_staged(staged, sha(whole)).created
    s3_store.stage_discard(upload, len(whole))
    assert calls.count("PutObject") == 1 and "GetObject" not in calls and "ListObjectsV2" not in calls, calls
    assert keys(s3_store) == [original_key(sha(whole))]


def test_earlier_chunks_on_s3_are_read_back_once_into_the_same_spool_without_a_list(s3_store):
    upload = new_upload_id()
    first, last = data_of(MB + 3, 1), data_of(2 * MB, 2)
    length = len(first) + len(last)
    calls = s3_calls(s3_store)
    s3_store.stage_append(upload, 0, io.BytesIO(first), max_bytes=length)
    s3_store.stage_append(upload, len(first), io.BytesIO(last), max_bytes=length)
    with s3_store.stage_complete(upload, length) as staged:
        assert staged.file.read() == first + last and staged.sha256 == sha(first + last)
        s3_store.keep_staged(staged, staged.sha256)
    s3_store.stage_discard(upload, length)
    assert [c for c in calls if c in ("PutObject", "GetObject")] == ["PutObject", "GetObject", "PutObject"]
    assert "ListObjectsV2" not in calls, calls
    assert keys(s3_store) == [original_key(sha(first + last))]


def test_a_last_chunk_whose_completion_failed_is_in_s3_staging_after_the_next_look(s3_store):
    upload = new_upload_id()
    whole = data_of(100_000, 3)
    s3_store.stage_append(upload, 0, io.BytesIO(whole), max_bytes=len(whole))
    with s3_store.stage_complete(upload, len(whole)):
        pass  # the completion went no further (the store down, the transaction failed)
    assert s3_store.stage_size(upload) == len(whole)  # the failed request's resync writes it
    assert originals(s3_store) == []
    with s3_store.stage_open(upload) as stream:
        assert stream.read() == whole


def test_another_thread_finds_a_stage_busy_while_its_last_chunk_is_held(s3_store):
    upload = new_upload_id()
    s3_store.stage_append(upload, 0, io.BytesIO(b"last"), max_bytes=4)
    seen = []
    looker = threading.Thread(target=lambda: seen.append(_outcome(lambda: s3_store.stage_size(upload))))
    looker.start()
    looker.join(30)
    assert seen == ["StageBusy"]
    s3_store.stage_discard(upload, 4)


def _outcome(call):
    try:
        return call()
    except StageBusy as exc:
        return type(exc).__name__


def test_the_local_staging_file_is_linked_as_the_original_with_no_temporary_copy(tmp_path):
    store = LocalBlobStore(tmp_path / "evidence")
    upload = new_upload_id()
    whole = data_of(2 * MB, 4)
    store.stage_append(upload, 0, io.BytesIO(whole), max_bytes=len(whole))
    staging = tmp_path / "evidence" / "staging" / upload
    with store.stage_complete(upload, len(whole)) as staged:
        assert store.keep_staged(staged, sha(whole)).created
        assert list((tmp_path / "evidence" / "tmp").iterdir()) == []
    original = tmp_path / "evidence" / "originals" / sha(whole)[:2] / sha(whole)[2:4] / sha(whole)
    assert original.samefile(staging)  # the same file: the bytes were written once
    assert stat.S_IMODE(original.stat().st_mode) == 0o444
    # Nothing writes through the staging name now, not even the holder of a lapsed lease.
    with pytest.raises(TooLarge):
        store.stage_append(upload, len(whole), io.BytesIO(b"more"))
    with pytest.raises(OffsetMismatch):
        store.stage_truncate(upload, 10)
    store.stage_discard(upload)
    assert original.read_bytes() == whole and not staging.exists()


def test_a_wrong_hash_keeps_nothing_of_the_staged_bytes(blob_store):
    upload = new_upload_id()
    blob_store.stage_append(upload, 0, io.BytesIO(b"evidence"), max_bytes=8)
    with blob_store.stage_complete(upload, 8) as staged:
        with pytest.raises(HashMismatch):
            blob_store.keep_staged(staged, sha(b"other"))
    assert originals(blob_store) == []
    assert blob_store.stage_size(upload) == 8


_CHILD = """
import io, sys, time
from evidence.local_store import LocalBlobStore
from evidence.s3_store import S3BlobStore
kind, upload, length, *where = sys.argv[1:]
store = LocalBlobStore(where[0]) if kind == "local" else S3BlobStore(*where[:4], prefix=where[4])
with store.stage_complete(upload, int(length)) as staged:
    print("completing", flush=True)
    time.sleep(60)  # killed here, between the checks and the keep
"""


def test_a_process_killed_during_completion_leaves_nothing_at_the_content_address(blob_store, tmp_path, request):
    import signal
    import subprocess
    import sys

    upload = new_upload_id()
    whole = data_of(MB, 6)
    blob_store.stage_append(upload, 0, io.BytesIO(whole))  # staged by an earlier request
    if isinstance(blob_store, LocalBlobStore):
        where = [str(blob_store.root)]
    else:
        server = request.getfixturevalue("seaweed")
        where = [server.endpoint_url, blob_store.bucket, server.access_key, server.secret_key,
                 blob_store.prefix.rstrip("/")]
    child = subprocess.Popen([sys.executable, "-c", _CHILD, "local" if where[1:] == [] else "s3", upload,
                              str(len(whole)), *where], stdout=subprocess.PIPE, cwd=Path(__file__).parents[2])
    try:
        assert child.stdout.readline() == b"completing\n"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(30)
        child.stdout.close()
    assert originals(blob_store) == [] and not blob_store.exists(sha(whole))
    assert blob_store.stage_size(upload) == len(whole)  # the next request completes it
    assert blob_store.promote_staged(upload, expected_sha256=sha(whole)).created
    with blob_store.open_original(sha(whole)) as stream:
        assert stream.read() == whole
