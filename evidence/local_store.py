"""Evidence in a local folder: originals fanned out by SHA-256, written once through a temporary file
and a hard link, staging appended under an flock and linked as the original in place (the LocalBlobStore
of field/core/storage.py's protocol)."""

from __future__ import annotations

import errno
import fcntl
import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from field.core.evidence_errors import BlobConflict, BlobNotFound, OffsetMismatch, StageBusy, TooLarge
from field.core.storage import OriginalHead, StagedBytes, StoredBlob, stream_digest

from .storage import (
    _check_derivative,
    _check_expected,
    _check_sha256,
    _check_upload_id,
    _copy_hashing,
    _fan_out,
    _read_chunks,
)


class LocalBlobStore:
    """Evidence under one directory: ``originals/ab/cd/<sha256>``, ``derivatives/ab/cd/<sha256>/<name>.jpg``,
    ``staging/<upload_id>``, and ``tmp/`` for writes in progress (same filesystem, so links are atomic).

    Write-once: an original is written to a temp file, fsynced, made read-only and
    hard-linked to its final name. ``link`` fails if the name exists, so of two
    writers of the same bytes one creates it and the other finds it; nobody ever
    sees a half-written original. Needs a filesystem with hard links (any local one).

    A tus upload's staging file is that temp file: its completion hashes it under the
    stage's lock and links it, fsynced, as the original (``keep_staged``), so the bytes are
    written once. From then on the staging name is a second name of the original until
    ``stage_discard``; nothing writes through it (a linked staging file is refused to
    appenders, and an appender checks the name still holds the file it locked).
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._originals = self.root / "originals"
        self._derivatives = self.root / "derivatives"
        self._staging = self.root / "staging"
        self._tmp = self.root / "tmp"
        for directory in (self._originals, self._derivatives, self._staging, self._tmp):
            directory.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalBlobStore({str(self.root)!r})"

    # originals

    def put_original(
        self, stream: BinaryIO, *, expected_sha256: str | None = None, max_bytes: int | None = None
    ) -> StoredBlob:
        with self._temp_file("put-") as (tmp, handle):
            sha256, size = _copy_hashing(stream, handle, max_bytes)
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            _check_expected(expected_sha256, sha256)
            final = self._original_path(sha256)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(tmp, 0o444)
            try:
                os.link(tmp, final)
            except FileExistsError:
                stored = final.stat().st_size
                if stored != size:
                    raise BlobConflict(sha256, stored, size) from None
                return StoredBlob(sha256, size, created=False)
            _fsync_directory(final.parent)
            return StoredBlob(sha256, size, created=True)

    def open_original(self, sha256: str) -> BinaryIO:
        try:
            return open(self._original_path(_check_sha256(sha256)), "rb")
        except FileNotFoundError:
            raise BlobNotFound(f"original {sha256}") from None

    def exists(self, sha256: str) -> bool:
        return self._original_path(_check_sha256(sha256)).is_file()

    def size(self, sha256: str) -> int:
        try:
            return self._original_path(_check_sha256(sha256)).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(f"original {sha256}") from None

    def head_original(self, sha256: str) -> OriginalHead:
        return OriginalHead(self.size(sha256), None)

    def repair_original(self, stream: BinaryIO, sha256: str) -> bool:
        final = self._original_path(_check_sha256(sha256))
        try:
            with open(final, "rb") as stored:
                if stream_digest(stored)[0] == sha256:
                    return False
        except FileNotFoundError:
            pass
        with self._temp_file("fix-") as (tmp, handle):
            actual, _size = _copy_hashing(stream, handle, None)
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            _check_expected(sha256, actual)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(tmp, 0o444)
            # Atomic: a reader sees the damaged file (and its hash check refuses it) or the genuine one.
            os.replace(tmp, final)
            _fsync_directory(final.parent)
        return True

    # derivatives

    def put_derivative(self, sha256: str, name: str, data: bytes) -> None:
        final = self._derivative_path(sha256, name)
        final.parent.mkdir(parents=True, exist_ok=True)
        with self._temp_file("der-") as (tmp, handle):
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            os.replace(tmp, final)  # atomic: readers see the old or the new derivative

    def open_derivative(self, sha256: str, name: str) -> BinaryIO:
        try:
            return open(self._derivative_path(sha256, name), "rb")
        except FileNotFoundError:
            raise BlobNotFound(f"{name} of {sha256}") from None

    def derivative_exists(self, sha256: str, name: str) -> bool:
        return self._derivative_path(sha256, name).is_file()

    def signed_url(
        self,
        key: str,
        *,
        filename: str,
        expires_s: int = 300,
        derivative: str | None = None,
        content_type: str | None = None,
    ) -> str | None:
        return None  # a directory cannot sign: the app streams the file itself

    # staging

    def stage_append(self, upload_id: str, offset: int, stream: BinaryIO, max_bytes: int | None = None) -> int:
        with self._locked_stage(upload_id) as handle:
            status = os.fstat(handle.fileno())
            staged = status.st_size
            if offset != staged:
                raise OffsetMismatch(staged, offset)
            kept = status.st_nlink > 1  # already linked as an original: not one more byte
            handle.seek(staged)
            written = 0
            try:
                for chunk in _read_chunks(stream):
                    if kept:
                        raise TooLarge(staged)
                    written += len(chunk)
                    if max_bytes is not None and staged + written > max_bytes:
                        if written > len(chunk):
                            handle.truncate(staged)
                        raise TooLarge(max_bytes)
                    handle.write(chunk)
            finally:
                # Whatever was received stays (tus resumes from it), unless refused above.
                handle.flush()
                os.fsync(handle.fileno())
            return staged + written

    def stage_size(self, upload_id: str, known: int = 0) -> int:
        """The staged size, never read in the middle of an append: StageBusy while one is in flight.

        A request taking over a lapsed lease re-reads the offset from here while the request
        it took over from may still be writing; a size read mid-chunk was answered (and
        committed) as the offset, though no client ever sent a chunk ending there.
        """
        try:
            fd = os.open(self._stage_path(upload_id), os.O_RDONLY)
        except FileNotFoundError:
            return 0
        with os.fdopen(fd, "rb") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)  # an appender holds LOCK_EX
            except BlockingIOError:
                raise StageBusy() from None
            try:
                return os.fstat(handle.fileno()).st_size
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def stage_open(self, upload_id: str) -> BinaryIO:
        try:
            return open(self._stage_path(upload_id), "rb")
        except FileNotFoundError:
            return io.BytesIO(b"")

    def stage_discard(self, upload_id: str, length: int | None = None) -> None:
        # Only the name goes: when the staging was kept as the original, the original keeps the file.
        self._stage_path(upload_id).unlink(missing_ok=True)

    def stage_truncate(self, upload_id: str, offset: int) -> None:
        if offset < 0:
            raise ValueError("offset must be >= 0")
        with self._locked_stage(upload_id) as handle:
            status = os.fstat(handle.fileno())
            if offset > status.st_size:
                raise OffsetMismatch(status.st_size, offset)
            if status.st_nlink > 1:  # kept as an original: never shortened
                raise OffsetMismatch(status.st_size, offset)
            handle.truncate(offset)
            os.fsync(handle.fileno())

    @contextmanager
    def stage_complete(self, upload_id: str, length: int) -> Iterator[StagedBytes]:
        # The exclusive lock is held until the completion ends: an appender waits, and a request
        # taking over a lapsed lease meanwhile finds the stage busy (stage_size: StageBusy, 423).
        with self._locked_stage(upload_id) as handle:
            handle.seek(0)
            sha256, size = stream_digest(handle)
            if size != length:
                raise OffsetMismatch(size, length)
            handle.seek(0)
            yield StagedBytes(handle, sha256, size, self._stage_path(upload_id))

    def keep_staged(self, staged: StagedBytes, sha256: str) -> StoredBlob:
        _check_expected(sha256, staged.sha256)
        handle, stage = staged.file, staged.token
        os.fsync(handle.fileno())  # durable before it has its name: nobody sees a partial original
        final = self._original_path(staged.sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(stage, final)
        except FileExistsError:
            stored = final.stat()
            if os.path.samestat(stored, os.fstat(handle.fileno())):
                return StoredBlob(staged.sha256, staged.size, created=True)  # our own earlier, uncommitted try
            if stored.st_size != staged.size:
                raise BlobConflict(staged.sha256, stored.st_size, staged.size) from None
            return StoredBlob(staged.sha256, staged.size, created=False)
        os.chmod(handle.fileno(), 0o444)
        _fsync_directory(final.parent)
        return StoredBlob(staged.sha256, staged.size, created=True)

    def promote_staged(self, upload_id: str, expected_sha256: str | None = None) -> StoredBlob:
        with self.stage_complete(upload_id, self.stage_size(upload_id)) as staged:
            blob = self.keep_staged(staged, expected_sha256.lower() if expected_sha256 else staged.sha256)
        self.stage_discard(upload_id)
        return blob

    # paths and files

    def _original_path(self, sha256: str) -> Path:
        return self._originals / _fan_out(sha256)

    def _derivative_path(self, sha256: str, name: str) -> Path:
        return self._derivatives / _fan_out(_check_sha256(sha256)) / f"{_check_derivative(name)}.jpg"

    def _stage_path(self, upload_id: str) -> Path:
        return self._staging / _check_upload_id(upload_id)

    @contextmanager
    def _temp_file(self, prefix: str) -> Iterator[tuple[Path, BinaryIO]]:
        fd, name = tempfile.mkstemp(dir=self._tmp, prefix=prefix)
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as handle:
                yield path, handle
        finally:
            # After a link the temp name is a second name of the original: drop it.
            # After any failure it is the only copy of refused bytes: drop it too.
            path.unlink(missing_ok=True)

    @contextmanager
    def _locked_stage(self, upload_id: str) -> Iterator[BinaryIO]:
        # One appender at a time per upload: tus clients retry a PATCH while the
        # first one is still draining, and both must not write at the same offset.
        path = self._stage_path(upload_id)
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
                mode = "r+b"
            except PermissionError:  # kept as an original (0444): read, never written
                fd, mode = os.open(path, os.O_RDONLY), "rb"
            handle = os.fdopen(fd, mode)
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                current = os.stat(path)
            except FileNotFoundError:
                current = None
            if current is not None and os.path.samestat(current, os.fstat(handle.fileno())):
                break
            # Discarded (or replaced) while we waited for the lock: that file is no longer the stage.
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()
        with handle:
            try:
                yield handle
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _fsync_directory(path: Path) -> None:
    # The link is durable only once its directory entry is on disk.
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as exc:  # some filesystems refuse fsync on directories
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)
