"""Domain errors of evidence handling: what went wrong with the bytes, knowing nothing of HTTP."""

from __future__ import annotations

from typing import ClassVar

from .errors import FieldProblem


class EvidenceError(Exception):
    """Base of every refusal or failure of the evidence package.

    ``code`` is a stable machine name the API maps to a problem type; ``detail``
    is a sentence a person can read. Subclasses add the figures that explain
    the refusal (``extra``: members of the problem body) so the API can put them there.
    """

    code: ClassVar[str] = "evidence_error"
    default_detail: ClassVar[str] = "The evidence could not be handled."

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.default_detail
        #: The input the refused bytes came from, once the pipeline knows it (``about``).
        self.fields: list[FieldProblem] = []
        super().__init__(self.detail)

    def about(self, field: str) -> None:
        """Name the request field whose bytes this refusal is about (``file``, ``_body``)."""
        self.fields = [FieldProblem(field, self.detail)]


class UnsupportedMedia(EvidenceError):
    """The content is not a type we accept (decided from the bytes, never the name)."""

    code = "unsupported_media"
    default_detail = "The file is not a photo, audio or video format that is accepted."


class CorruptMedia(EvidenceError):
    """The content claims a known type but is truncated or cannot be decoded."""

    code = "corrupt_media"
    default_detail = "The file is truncated or damaged and cannot be decoded."


class TooManyPixels(EvidenceError):
    """The image header declares more pixels than we are willing to decode (decompression bomb)."""

    code = "too_many_pixels"

    def __init__(self, max_pixels: int, width: int | None = None, height: int | None = None) -> None:
        self.max_pixels = max_pixels
        self.width = width
        self.height = height
        declared = f"{width}x{height} = {width * height} pixels" if width and height else "more pixels"
        super().__init__(f"The image declares {declared}; at most {max_pixels} are accepted.")
        #: Members of the problem body: the limit and what the header declared.
        self.extra = {"max_pixels": max_pixels, "width": width, "height": height}


class TooLarge(EvidenceError):
    """The byte stream is longer than the limit given for it."""

    code = "too_large"

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        super().__init__(f"The upload is larger than the limit of {max_bytes} bytes.")


class HashMismatch(EvidenceError):
    """The bytes received do not have the SHA-256 the client announced."""

    code = "hash_mismatch"

    def __init__(self, expected: str, actual: str) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"The received bytes have SHA-256 {actual}, not the announced {expected}."
        )


class BlobNotFound(EvidenceError):
    """No stored object under this address."""

    code = "blob_not_found"

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"No stored evidence object {what}.")


class OffsetMismatch(EvidenceError):
    """A resumable-upload chunk does not start where the staged bytes end (tus answers 409)."""

    code = "offset_mismatch"

    def __init__(self, expected: int, given: int) -> None:
        self.expected = expected
        self.given = given
        super().__init__(
            f"The chunk starts at offset {given} but the upload holds {expected} bytes."
        )


class StageBusy(EvidenceError):
    """A chunk is being appended to the staged bytes right now: their size is not settled.

    Raised instead of waiting: whoever asks (taking over a lapsed lease, the clean-up) holds a
    database transaction, which the appender needs to renew its lease; waiting for the appender
    there would make each wait for the other.
    """

    code = "stage_busy"

    def __init__(self) -> None:
        super().__init__("A chunk is being appended to this upload right now.")


class BlobConflict(EvidenceError):
    """An object already stored under a hash does not match bytes with that hash.

    Content addressing means this can only happen if the stored copy was damaged
    or truncated outside this code; it is an alarm for an operator, and the
    stored copy is left untouched for examination.
    """

    code = "blob_conflict"

    def __init__(self, sha256: str, stored_size: int, new_size: int) -> None:
        self.sha256 = sha256
        self.stored_size = stored_size
        self.new_size = new_size
        super().__init__(
            f"Stored object {sha256} holds {stored_size} bytes but bytes with that hash"
            f" are {new_size} long: the stored copy is damaged."
        )


class StorageUnavailable(EvidenceError):
    """The storage backend could not be reached or refused the operation."""

    code = "storage_unavailable"
    default_detail = "Evidence storage is unavailable; try again later."


class EvidenceDamaged(EvidenceError):
    """The stored original no longer matches its SHA-256 (or is gone): quarantined, never served (409).

    Sending the genuine bytes again (tus or multipart, same SHA-256) repairs it.
    """

    code = "evidence_damaged"

    def __init__(self, sha256: str, reason: str | None = None) -> None:
        self.sha256 = sha256
        self.reason = reason
        #: Members of the problem body.
        self.extra = {"sha256": sha256, "damage": reason}
        super().__init__(
            f"The stored original {sha256} is damaged ({reason or 'its bytes no longer match their SHA-256'}); "
            "it is quarantined and not served. Upload the genuine file again (same SHA-256, tus or multipart) "
            "to repair it.")
