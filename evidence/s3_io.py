"""The S3 plumbing under s3_store.py: its failures as StorageUnavailable, one object's streaming body read
as an ordinary file, and a tus upload's staged chunks (one object each) read in order as one stream."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, BinaryIO

from field.core.evidence_errors import StorageUnavailable

if TYPE_CHECKING:
    from .s3_store import S3BlobStore


class _StreamingBodyReader(io.RawIOBase):
    """botocore's StreamingBody as a raw stream, so callers get an ordinary buffered file."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        with _s3_errors():  # a connection lost mid-download
            data = self._body.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class _ChainedObjects(io.RawIOBase):
    """The concatenation of objects, each opened only when the previous one is exhausted."""

    def __init__(self, store: S3BlobStore, keys: list[str]) -> None:
        self._store = store
        self._keys = list(keys)
        self._current: BinaryIO | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while True:
            if self._current is None:
                if not self._keys:
                    return 0
                key = self._keys.pop(0)
                self._current = self._store._open(key, key)
            data = self._current.read(len(view))
            if data:
                view[: len(data)] = data
                return len(data)
            self._current.close()
            self._current = None

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None
        super().close()


def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None) or {}
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if status is None:
        code = response.get("Error", {}).get("Code")
        status = {"NoSuchKey": 404, "NotFound": 404, "PreconditionFailed": 412}.get(code)
    return status


@contextmanager
def _s3_errors() -> Iterator[None]:
    """Connection failures and unexpected S3 answers become StorageUnavailable."""
    # botocore wraps the transport's failures, mid-download ones included
    # (ResponseStreamingError, ReadTimeoutError), in BotoCoreError.
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise StorageUnavailable(f"Evidence storage failed: {exc}") from exc
