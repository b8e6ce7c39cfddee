"""The storage of evidence bytes as the domain needs it: the BlobStore protocol, which evidence/storage.py
implements (a local folder, S3), the one way originals are hashed, and how a damaged one is described."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any, BinaryIO, Protocol, runtime_checkable

from .evidence_errors import TooLarge

#: Bytes read from an incoming stream at a time: the whole memory cost of an upload.
CHUNK_SIZE = 1 << 20
#: Names of the derivatives kept beside an original.
DERIVATIVE_NAMES = frozenset({"thumb", "preview"})


@dataclass(frozen=True, slots=True)
class StoredBlob:
    sha256: str
    size: int
    #: False when an object with these bytes was already stored (nothing was written).
    created: bool


@dataclass(frozen=True, slots=True)
class OriginalHead:
    """What a store says of a stored original without reading it."""

    size: int
    #: The SHA-256 the store itself checked when the bytes were written and still keeps (S3's
    #: x-amz-checksum-sha256), or None where the store keeps none (a local file).
    sha256: str | None


@dataclass(frozen=True)
class StagedBytes:
    """All of a tus upload's bytes, as ``stage_complete`` hands them to the completion: one local,
    seekable file (never written to while this is held), their SHA-256 and size as the store
    measured them, and what the store needs to keep them (``keep_staged``)."""

    file: BinaryIO
    sha256: str
    size: int
    #: The store's own handle on the staging (a path, a spooled tail): opaque to callers.
    token: Any = None


@runtime_checkable
class BlobStore(Protocol):
    """Where evidence bytes live. Originals are addressed by SHA-256 and never overwritten."""

    def put_original(
        self, stream: BinaryIO, *, expected_sha256: str | None = None, max_bytes: int | None = None
    ) -> StoredBlob:
        """Store a stream, hashing it in flight; keeps nothing on HashMismatch or TooLarge."""
        ...

    def open_original(self, sha256: str) -> BinaryIO:
        """A streaming reader of an original; BlobNotFound if absent. Close it."""
        ...

    def exists(self, sha256: str) -> bool: ...

    def size(self, sha256: str) -> int: ...

    def head_original(self, sha256: str) -> OriginalHead:
        """Size (and the store's own checksum, if it keeps one) of an original; BlobNotFound if absent."""
        ...

    def repair_original(self, stream: BinaryIO, sha256: str) -> bool:
        """The one exception to write-once: replace a stored original whose bytes fail their hash
        (or that is missing) with ``stream``, which must hash to ``sha256`` (HashMismatch otherwise,
        nothing written). Returns False, writing nothing, when the stored copy is intact."""
        ...

    def put_derivative(self, sha256: str, name: str, data: bytes) -> None:
        """Store (or replace: derivatives can be remade) the thumb or preview of an original."""
        ...

    def open_derivative(self, sha256: str, name: str) -> BinaryIO: ...

    def derivative_exists(self, sha256: str, name: str) -> bool: ...

    def signed_url(
        self,
        key: str,
        *,
        filename: str,
        expires_s: int = 300,
        derivative: str | None = None,
        content_type: str | None = None,
    ) -> str | None:
        """A time-limited download URL of an original (``key`` is its SHA-256) or of one of its
        derivatives, as an attachment named ``filename``; None when the backend cannot sign
        and the app must stream the bytes itself."""
        ...

    def stage_append(self, upload_id: str, offset: int, stream: BinaryIO, max_bytes: int | None = None) -> int:
        """Append a chunk that must start at ``offset``; returns the new staged length.

        OffsetMismatch if ``offset`` is not the staged length (or another request appended
        first); TooLarge, keeping nothing of this chunk, if the total would pass ``max_bytes``.
        If reading ``stream`` fails midway, what was received is kept (tus resumes from it)
        and the error propagates.
        """
        ...

    def stage_size(self, upload_id: str, known: int = 0) -> int:
        """The staged length. ``known``: a length already committed for this upload (its offset), which the
        store may take as staged without looking again; StageBusy while an append is in flight."""
        ...

    def stage_open(self, upload_id: str) -> BinaryIO:
        """A streaming reader of the staged bytes in order (empty if nothing was staged)."""
        ...

    def stage_discard(self, upload_id: str, length: int | None = None) -> None:
        """Drop the staged bytes; ``length``: how many there are, when known (the hot path after a
        completion), so that the store need not list them."""
        ...

    def stage_truncate(self, upload_id: str, offset: int) -> None:
        """Forget the staged bytes beyond ``offset`` (a chunk that failed its checksum)."""
        ...

    def stage_complete(self, upload_id: str, length: int) -> AbstractContextManager[StagedBytes]:
        """The ``length`` staged bytes of an upload, for its completion (hash, sniff, facts, then
        ``keep_staged``), all of them in one local file: the staging file itself locally, the one
        spool of the last chunk (with any earlier chunks read into it) on S3. OffsetMismatch if fewer
        or more bytes are staged. The staging stays until ``stage_discard``."""
        ...

    def keep_staged(self, staged: StagedBytes, sha256: str) -> StoredBlob:
        """Store the staged bytes as the original ``sha256``, write-once, without copying them again
        through the app; HashMismatch (nothing stored) if they do not hash to ``sha256``."""
        ...

    def promote_staged(self, upload_id: str, expected_sha256: str | None = None) -> StoredBlob:
        """Store the staged bytes as an original, then discard the staging.

        On HashMismatch the staging is kept, so the caller decides (discard or let the
        client check); the original is not stored.
        """
        ...


def read_chunks(stream: BinaryIO) -> Iterator[memoryview]:
    """The stream in pieces of at most CHUNK_SIZE, read into one reused buffer.

    Each piece is only valid until the next one is asked for: the whole memory
    cost of moving an upload is this one buffer.
    """
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    readinto = getattr(stream, "readinto", None)
    while True:
        if readinto is not None:
            n = readinto(view)
            if not n:
                return
            yield view[:n]
        else:
            chunk = stream.read(CHUNK_SIZE)
            if not chunk:
                return
            yield memoryview(chunk)


def copy_digest(stream: BinaryIO, sink: BinaryIO | None = None, *,
                max_bytes: int | None = None) -> tuple[str, int]:
    """SHA-256 and length of what is left of ``stream``, read in CHUNK_SIZE pieces and, with a ``sink``,
    written there as it is hashed; TooLarge as soon as ``max_bytes`` is passed. The one hashing loop."""
    digest = hashlib.sha256()
    size = 0
    for chunk in read_chunks(stream):
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise TooLarge(max_bytes)
        digest.update(chunk)
        if sink is not None:
            sink.write(chunk)
    return digest.hexdigest(), size


def hash_file(fp: BinaryIO, *, max_bytes: int | None = None) -> tuple[str, int]:
    """SHA-256 and length of a seekable file from its start, in CHUNK_SIZE pieces; TooLarge past ``max_bytes``."""
    fp.seek(0)
    found = copy_digest(fp, max_bytes=max_bytes)
    fp.seek(0)
    return found


def stream_digest(stream: BinaryIO) -> tuple[str, int]:
    """SHA-256 and length of what is left of ``stream`` (seekable or not), read in CHUNK_SIZE pieces."""
    return copy_digest(stream)


#: How a stored original that cannot be read is described (a read, the worker, ``fieldwatch verify``).
MISSING = "the stored original is missing"


def mismatch(actual: str, length: int, size: int | None) -> str:
    """How a stored original whose bytes hash to ``actual`` is described."""
    recorded = f", recorded {size}" if size is not None else ""
    return f"its stored bytes now hash to {actual} ({length} bytes{recorded})"
