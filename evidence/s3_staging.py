"""tus staging on S3 without a second trip through the store: the last chunk of an upload stays in this
process's one spool file and becomes the original from there; earlier chunks are objects, found without LIST.

Each chunk that does not finish its upload is an object ``staging/<id>/<offset:020d>``, written with
If-None-Match (two hosts appending at one offset cannot both win), so any host can continue the
upload. The chunk that brings an upload to its length is not sent to the store: it is spooled to one
local temporary file at its own offset (the earlier chunks, if any, are read into the same file at
completion), hashed on the way when it is the whole upload, and held for the completion of the same
request (``stage_complete``), whose ``keep_staged`` sends it once, as the original. Until the upload's
staging is discarded the spool is kept: if the completion fails (the store down, a crash of the
transaction), the next look at the stage (``stage_size``, the resync after every failed request)
writes it as an ordinary chunk, so the upload is again complete in the store for the next HEAD. A
process that dies loses the spool and the upload resumes from its last stored chunk (tus resends the
last chunk). A held spool belongs to the thread that received it: another thread finds the stage
busy (StageBusy: 423 to a request taking over a lapsed lease) until it is settled, or left for
``ORPHAN_AFTER_S``.

No LIST on the way: a chunk's offset is checked with one HEAD at that offset plus the staged end this
process last established for the upload (else a LIST, as for ``stage_open``, ``stage_truncate`` and a
discard without a length: tests, the checksum-failure path and ``fieldwatch cleanup-uploads``).
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from field.core.evidence_errors import BlobNotFound, OffsetMismatch, StageBusy, StorageUnavailable, TooLarge
from field.core.storage import CHUNK_SIZE, StagedBytes, StoredBlob, stream_digest

from .s3_io import _ChainedObjects, _s3_errors, _status
from .storage import _check_expected, _check_upload_id, _copy_hashing, _read_chunks

#: A spool held this long by a thread is taken as abandoned (a request that ended without settling it).
ORPHAN_AFTER_S = 600.0
#: Staged ends remembered per process (uploads in flight); forgotten wholesale past this.
MAX_REMEMBERED = 10_000


@dataclass
class _Tail:
    """The last chunk of an upload, spooled at its own offset in ``file``, not (yet) in the store."""

    offset: int
    size: int
    file: BinaryIO
    #: The whole upload's SHA-256 when the chunk is the whole upload (hashed as it arrived).
    sha256: str | None
    owner: int = field(default_factory=threading.get_ident)
    since: float = field(default_factory=time.monotonic)


class _Window(io.RawIOBase):
    """``size`` bytes of ``file`` from ``start``, as a seekable stream of their own (a chunk's body)."""

    def __init__(self, file: BinaryIO, start: int, size: int) -> None:
        self._file, self._start, self._size, self._at = file, start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._at

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._at, io.SEEK_END: self._size}[whence]
        self._at = min(max(base + offset, 0), self._size)
        return self._at

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._size - self._at)
        if want <= 0:
            return 0
        self._file.seek(self._start + self._at)
        n = self._file.readinto(view[:want]) or 0
        self._at += n
        return n


class S3Staging:
    """The staging half of S3BlobStore (it provides ``client``, ``bucket``, ``prefix``, ``_spool_dir``,
    ``_head_size``, ``_open``, ``_put_new_original``)."""

    def _init_staging(self) -> None:
        self._tails: dict[str, _Tail] = {}
        self._ends: dict[str, int] = {}
        self._staging_lock = threading.Lock()

    def __del__(self) -> None:
        # A last chunk held by a caller that neither completed nor discarded its upload (tests, a tool).
        for tail in getattr(self, "_tails", {}).values():
            tail.file.close()

    # the protocol

    def stage_append(self, upload_id: str, offset: int, stream: BinaryIO, max_bytes: int | None = None) -> int:
        self._settle(upload_id)
        self._check_offset(upload_id, offset)
        spool: BinaryIO | None = tempfile.TemporaryFile(dir=self._spool_dir, prefix="fieldwatch-chunk-")
        try:
            spool.seek(offset)  # the upload's own positions: a last chunk's spool is the whole upload's file
            digest = hashlib.sha256() if offset == 0 else None
            received = 0
            failure: BaseException | None = None
            try:
                for chunk in _read_chunks(stream):
                    received += len(chunk)
                    if max_bytes is not None and offset + received > max_bytes:
                        raise TooLarge(max_bytes)  # nothing of this chunk is stored
                    spool.write(chunk)
                    if digest is not None:
                        digest.update(chunk)
            except TooLarge:
                raise
            except Exception as exc:  # noqa: BLE001 - the client went away: keep what arrived, as tus wants
                failure = exc
            if failure is None and received and max_bytes is not None and offset + received == max_bytes:
                tail = _Tail(offset, received, spool, digest.hexdigest() if digest is not None else None)
                with self._staging_lock:
                    self._tails[upload_id] = tail
                spool = None  # the tail holds it now
                return offset + received
            if received:
                self._put_chunk(upload_id, offset, _Window(spool, offset, received), received)
            if failure is not None:
                raise failure
            return offset + received
        finally:
            if spool is not None:
                spool.close()

    def stage_size(self, upload_id: str, known: int = 0) -> int:
        self._settle(upload_id)
        end = known
        while (size := self._chunk_size(upload_id, end)) is not None:
            end += size
        self._remember(upload_id, end)
        return end

    def stage_open(self, upload_id: str) -> BinaryIO:
        self._settle(upload_id)
        keys = []
        end = 0
        for chunk_offset, chunk_size, key in self._chunks(upload_id):
            if chunk_offset != end:
                break
            keys.append(key)
            end += chunk_size
        return io.BufferedReader(_ChainedObjects(self, keys), buffer_size=CHUNK_SIZE)

    def stage_discard(self, upload_id: str, length: int | None = None) -> None:
        with self._staging_lock:
            tail = self._tails.pop(upload_id, None)
            self._ends.pop(upload_id, None)
        if tail is not None:
            tail.file.close()
        if length is None:
            keys = [key for _offset, _size, key in self._chunks(upload_id)]
        else:
            keys, end = [], 0
            while end < length and (size := self._chunk_size(upload_id, end)) is not None:
                keys.append(self._chunk_key(upload_id, end))
                end += size
        self._delete(keys)

    def stage_truncate(self, upload_id: str, offset: int) -> None:
        if offset < 0:
            raise ValueError("offset must be >= 0")
        with self._staging_lock:
            tail = self._tails.get(upload_id)
            if tail is not None and tail.owner == threading.get_ident() and tail.offset >= offset:
                del self._tails[upload_id]  # a refused last chunk never reaches the store
                tail.file.close()
        self._settle(upload_id)
        staged = self._list_size(upload_id)
        if offset > staged:
            raise OffsetMismatch(staged, offset)
        doomed = []
        for chunk_offset, chunk_size, key in self._chunks(upload_id):
            if chunk_offset >= offset:
                doomed.append(key)
            elif chunk_offset + chunk_size > offset:
                self._shorten_chunk(key, offset - chunk_offset)
        self._delete(doomed)
        self._remember(upload_id, offset)

    @contextmanager
    def stage_complete(self, upload_id: str, length: int) -> Iterator[StagedBytes]:
        with self._staging_lock:
            tail = self._tails.get(upload_id)
            if tail is not None and tail.owner != threading.get_ident() and not self._orphaned(tail):
                raise StageBusy()
            if tail is not None:
                del self._tails[upload_id]
        if tail is not None and tail.offset + tail.size != length:
            self._flush(upload_id, tail)  # not the end of this upload: an ordinary chunk
            tail = None
        spool = tail.file if tail is not None else tempfile.TemporaryFile(dir=self._spool_dir,
                                                                          prefix="fieldwatch-staged-")
        try:
            # The earlier chunks, in place before the last one: the spool becomes the whole upload.
            front = tail.offset if tail is not None else length
            position = 0
            while position < front:
                position += self._read_chunk_into(upload_id, position, spool, length)
            if position != front:
                raise OffsetMismatch(position, length)
            if tail is not None and tail.sha256 is not None:
                sha256 = tail.sha256
            else:
                spool.seek(0)
                sha256, size = stream_digest(spool)
                if size != length:
                    raise OffsetMismatch(size, length)
            spool.seek(0)
            yield StagedBytes(spool, sha256, length, upload_id)
        finally:
            if tail is not None:
                # Kept until the staging is discarded (after the commit) or settled (a failed request).
                tail.since = time.monotonic()
                with self._staging_lock:
                    self._tails[upload_id] = tail
            else:
                spool.close()

    def keep_staged(self, staged: StagedBytes, sha256: str) -> StoredBlob:
        _check_expected(sha256, staged.sha256)
        staged.file.seek(0)
        return self._put_new_original(staged.sha256, staged.file, staged.size)

    def promote_staged(self, upload_id: str, expected_sha256: str | None = None) -> StoredBlob:
        with self.stage_complete(upload_id, self.stage_size(upload_id)) as staged:
            blob = self.keep_staged(staged, expected_sha256.lower() if expected_sha256 else staged.sha256)
        self.stage_discard(upload_id)
        return blob

    # held last chunks

    def _orphaned(self, tail: _Tail) -> bool:
        return time.monotonic() - tail.since > ORPHAN_AFTER_S

    def _settle(self, upload_id: str) -> None:
        """Write this thread's held last chunk of the upload as an ordinary chunk; StageBusy if another
        thread holds one (it is completing the upload right now)."""
        with self._staging_lock:
            tail = self._tails.get(upload_id)
            if tail is None:
                return
            if tail.owner != threading.get_ident() and not self._orphaned(tail):
                raise StageBusy()
            del self._tails[upload_id]
        self._flush(upload_id, tail)

    def _flush(self, upload_id: str, tail: _Tail) -> None:
        try:
            self._put_chunk(upload_id, tail.offset, _Window(tail.file, tail.offset, tail.size), tail.size)
        except (StorageUnavailable, OffsetMismatch):
            pass  # lost with this request: the client resends the chunk from the stored offset
        finally:
            tail.file.close()

    # chunks in the store

    def _chunk_key(self, upload_id: str, offset: int) -> str:
        return f"{self._staging_prefix(upload_id)}{offset:020d}"

    def _staging_prefix(self, upload_id: str) -> str:
        return f"{self.prefix}staging/{_check_upload_id(upload_id)}/"

    def _chunk_size(self, upload_id: str, offset: int) -> int | None:
        return self._head_size(self._chunk_key(upload_id, offset))

    def _remember(self, upload_id: str, end: int) -> None:
        with self._staging_lock:
            if len(self._ends) >= MAX_REMEMBERED:
                self._ends.clear()
            self._ends[upload_id] = end

    def _check_offset(self, upload_id: str, offset: int) -> None:
        """OffsetMismatch unless ``offset`` is the staged end: no chunk starts there, and the chunks
        before reach it (known from offset 0, from this process's last look, or else listed)."""
        with self._staging_lock:
            remembered = self._ends.get(upload_id)
        if (self._chunk_size(upload_id, offset) is not None
                or (offset > 0 and remembered != offset and self._list_size(upload_id) != offset)):
            raise OffsetMismatch(self._list_size(upload_id), offset)

    def _read_chunk_into(self, upload_id: str, offset: int, spool: BinaryIO, length: int) -> int:
        try:
            body = self._open(self._chunk_key(upload_id, offset), "staged chunk")
        except BlobNotFound:
            raise OffsetMismatch(offset, length) from None
        with body:
            spool.seek(offset)
            _digest, size = _copy_hashing(body, spool, None)
        if size == 0:
            raise OffsetMismatch(offset, length)
        return size

    def _list_size(self, upload_id: str) -> int:
        end = 0
        for chunk_offset, chunk_size, _key in self._chunks(upload_id):
            if chunk_offset != end:
                break  # only the contiguous run from 0 counts; see stage_truncate
            end += chunk_size
        return end

    def _chunks(self, upload_id: str) -> list[tuple[int, int, str]]:
        prefix = self._staging_prefix(upload_id)
        found = []
        with _s3_errors():
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    name = item["Key"][len(prefix):]
                    if name.isdigit():
                        found.append((int(name), int(item["Size"]), item["Key"]))
        return sorted(found)

    def _put_chunk(self, upload_id: str, offset: int, body: BinaryIO, size: int) -> None:
        with _s3_errors():
            try:
                self.client.put_object(Bucket=self.bucket, Key=self._chunk_key(upload_id, offset), Body=body,
                                       ContentLength=size, IfNoneMatch="*")
            except self._client_error as exc:
                if _status(exc) in (409, 412):
                    raise OffsetMismatch(self._list_size(upload_id), offset) from None
                raise
        self._remember(upload_id, offset + size)

    def _shorten_chunk(self, key: str, keep: int) -> None:
        with tempfile.TemporaryFile(dir=self._spool_dir, prefix="fieldwatch-chunk-") as spool:
            with self._open(key, key, byte_range=f"bytes=0-{keep - 1}") as head:
                _copy_hashing(head, spool, None)
            spool.seek(0)
            with _s3_errors():
                # A staging chunk is ours to rewrite; only originals are write-once.
                self.client.put_object(Bucket=self.bucket, Key=key, Body=spool, ContentLength=keep)

    def _delete(self, keys: list[str]) -> None:
        with _s3_errors():
            for start in range(0, len(keys), 1000):  # DeleteObjects takes 1000 keys at most
                batch = keys[start : start + 1000]
                self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
                )
