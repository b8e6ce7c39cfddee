"""Originals are what their SHA-256 says, or they are not served: checked reads, quarantine, repair.

Storage is write-once, but disks rot, operators slip and buckets get written by other tools. What
the application does about a stored original whose bytes no longer hash to its address:

- **Local store, read.** The whole file is hashed before the first byte of the answer
  (``open_checked``; measured here: 6 ms for a 12 MB photo, 54 ms for 100 MB), because a
  streamed 200 cannot be taken back: a damaged original answers 409
  instead. The bytes then stream from the same open file through ``CheckedReader``, which hashes
  them again and ends the stream short of its Content-Length if they changed in between: the
  client sees a failed download, never a complete wrong one.
- **S3, read.** The answer is a redirect to a signed URL; the bytes never pass through the app,
  which cannot hash them. Before the URL is given, ``cheap_check`` asks the store for the object's
  size and for the SHA-256 the store itself checked when the app wrote it (HEAD with checksum
  mode): a different size or checksum is damage. What the store cannot see (a bit flipped on its
  disks, an overwrite that dropped the checksum) is found by ``fieldwatch verify``, which reads
  every original; from then on the redirect is refused. Clients that want S3's own check can
  compare the x-amz-checksum-sha256 it returns.
- **Quarantine** (``blobs.damaged_at``, ``damage``): set by whoever finds the damage first (a
  read, the derivation worker, ``verify``), with one custody entry ``evidence.damaged``. A
  quarantined original answers 409 ``evidence-damaged`` and is never derived from.
- **Repair.** The genuine bytes sent again (tus or multipart, the same SHA-256) replace a stored
  copy that fails its hash: storage's ``repair_original``, the only write over an original, and
  only of bytes that hash right over bytes that do not. The quarantine is lifted with a custody
  entry ``evidence.repaired``.

This module holds the checks of the bytes (evidence imports only field.core); the quarantine
and its repair, which write custody entries and blob rows, and ``fieldwatch verify``'s walk
over every original are the domain's (field/attachments/originals.py).
"""

from __future__ import annotations

import hashlib
import io
import shutil
import tempfile
from typing import Any, BinaryIO

from field.core.evidence_errors import BlobNotFound, EvidenceDamaged
from field.core.models.evidence import Blob
from field.core.storage import CHUNK_SIZE, MISSING, BlobStore, mismatch, stream_digest


def open_checked(store: BlobStore, sha256: str, size: int | None = None) -> BinaryIO:
    """The original as a seekable file at its start, once all of it hashed to ``sha256`` (and,
    when given, is ``size`` bytes long); EvidenceDamaged (with the reason) otherwise. The caller
    closes it."""
    try:
        stream = store.open_original(sha256)
    except BlobNotFound:
        raise EvidenceDamaged(sha256, MISSING) from None
    try:
        if not getattr(stream, "seekable", lambda: False)():
            # An S3 body cannot seek: a local temporary copy, hashed on the way (memory stays flat).
            spool = tempfile.TemporaryFile(prefix="fieldwatch-original-")
            with stream:
                shutil.copyfileobj(stream, spool, CHUNK_SIZE)
            stream = spool
        stream.seek(0)
        actual, length = stream_digest(stream)
        if actual != sha256 or (size is not None and length != size):
            raise EvidenceDamaged(sha256, mismatch(actual, length, size) if actual != sha256
                                  else f"it holds {length} bytes, recorded {size}")
        stream.seek(0)
        return stream
    except BaseException:
        stream.close()
        raise


class CheckedReader(io.RawIOBase):
    """A stored original read to the end while hashing: at the end, EvidenceDamaged if it was not
    the expected bytes (raised into the response body, so the answer stops short)."""

    def __init__(self, stream: BinaryIO, sha256: str) -> None:
        self._stream = stream
        self._sha256 = sha256
        self._digest = hashlib.sha256()
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._stream.read(len(view))
        if data:
            view[:len(data)] = data
            self._digest.update(data)
            return len(data)
        if not self._done:
            self._done = True
            if self._digest.hexdigest() != self._sha256:
                raise EvidenceDamaged(self._sha256, "its bytes changed while they were being sent")
        return 0

    def close(self) -> None:
        self._stream.close()
        super().close()


def cheap_check(store: BlobStore, blob: Blob) -> str | None:
    """What the store tells without reading the bytes: missing, another size, another checksum."""
    try:
        head = store.head_original(blob.sha256)
    except BlobNotFound:
        return MISSING
    if head.size != blob.size:
        return f"it holds {head.size} bytes, recorded {blob.size}"
    if head.sha256 is not None and head.sha256 != blob.sha256:
        return f"the store's own checksum of it is now {head.sha256}"
    return None
