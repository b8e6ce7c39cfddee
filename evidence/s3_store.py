"""Evidence in an S3-compatible bucket (SeaweedFS, MinIO, AWS): write-once under the SHA-256, tus staging
(s3_staging.py), signed download URLs (the S3BlobStore of field/core/storage.py's protocol)."""

from __future__ import annotations

import base64
import io
import tempfile
from typing import BinaryIO

from field.core.evidence_errors import BlobConflict, BlobNotFound
from field.core.storage import CHUNK_SIZE, OriginalHead, StoredBlob, stream_digest

from .storage import (
    DEFAULT_S3_CONNECT_TIMEOUT_S,
    DEFAULT_S3_MAX_ATTEMPTS,
    DEFAULT_S3_READ_TIMEOUT_S,
    MAX_SIGNED_URL_SECONDS,
    _check_derivative,
    _check_expected,
    _check_sha256,
    _copy_hashing,
    _fan_out,
    content_disposition,
)
from .s3_io import _s3_errors, _status, _StreamingBodyReader
from .s3_staging import S3Staging


class S3BlobStore(S3Staging):
    """Evidence in an S3 bucket (SeaweedFS, MinIO, AWS), same layout as LocalBlobStore under ``prefix``.

    Write-once: the upload is hashed first (in place when the stream can seek, else
    while it is spooled to a local temporary file, so memory stays flat and the key,
    which is the hash, is known before anything is sent), then sent with one PutObject
    carrying ``If-None-Match: *``
    and ``x-amz-checksum-sha256``. The store refuses the write if the key exists
    (412: a concurrent writer of the same bytes won, which is fine) and verifies
    the bytes against our hash (BadDigest on corruption in transit). Both
    conditions are atomic on the server: no HEAD-then-PUT race. A store that
    ignored If-None-Match could only overwrite an object with identical bytes,
    since the key is their hash. One PutObject takes up to 5 GiB, far above any
    evidence file; the temp-key-plus-copy alternative would cost a server-side
    copy and leave orphans on crashes.

    Staging (s3_staging.py) keeps each tus chunk but an upload's last as its own object
    ``staging/<id>/<offset:020d>`` so any app host can continue an upload; a chunk is also
    written with If-None-Match, so two hosts appending at the same offset cannot both win.
    The last chunk goes to the store once, as the original.
    """

    def __init__(
        self,
        endpoint_url: str | None,
        bucket: str,
        access_key: str,
        secret_key: str,
        region: str = "us-east-1",
        prefix: str = "",
        *,
        spool_dir: str | None = None,
        connect_timeout_s: float = DEFAULT_S3_CONNECT_TIMEOUT_S,
        read_timeout_s: float = DEFAULT_S3_READ_TIMEOUT_S,
        max_attempts: int = DEFAULT_S3_MAX_ATTEMPTS,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._spool_dir = spool_dir
        self._init_staging()
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
            config=Config(
                signature_version="s3v4",
                # Path-style works with every S3-compatible server; virtual-host
                # style needs wildcard DNS that SeaweedFS/MinIO setups rarely have.
                s3={"addressing_style": "path"},
                # botocore's defaults (60 s to connect, 60 s of silence, 3 tries with backoff)
                # would hold a request for minutes when the store is unreachable; a quick
                # StorageUnavailable (503, Retry-After) lets the phone retry later instead.
                connect_timeout=connect_timeout_s,
                read_timeout=read_timeout_s,
                retries={"max_attempts": max_attempts, "mode": "standard"},
                # We send our own SHA-256 where it matters; botocore's default
                # CRC trailers (aws-chunked) are not understood by every server.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    def __repr__(self) -> str:
        return f"S3BlobStore(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (development and tests; production buckets are provisioned)."""
        with _s3_errors():
            try:
                self.client.head_bucket(Bucket=self.bucket)
            except self._client_error as exc:
                if _status(exc) != 404:
                    raise
                self.client.create_bucket(Bucket=self.bucket)

    # originals

    def put_original(
        self, stream: BinaryIO, *, expected_sha256: str | None = None, max_bytes: int | None = None
    ) -> StoredBlob:
        if _at_start_of_seekable(stream):
            # A file already (a spooled form file): hashed where it lies, sent from there.
            sha256, size = _copy_hashing(stream, None, max_bytes)
            _check_expected(expected_sha256, sha256)
            stream.seek(0)
            return self._put_new_original(sha256, stream, size)
        with tempfile.TemporaryFile(dir=self._spool_dir, prefix="fieldwatch-put-") as spool:
            sha256, size = _copy_hashing(stream, spool, max_bytes)
            _check_expected(expected_sha256, sha256)
            spool.seek(0)
            return self._put_new_original(sha256, spool, size)

    def _put_new_original(self, sha256: str, body: BinaryIO, size: int) -> StoredBlob:
        """One conditional PutObject of bytes known to hash to ``sha256``; no HEAD first: a stored copy
        answers 412, and only then is its size asked (BlobConflict if it differs)."""
        key = self._original_key(sha256)
        with _s3_errors():
            try:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=body,
                    ContentLength=size,
                    ContentType="application/octet-stream",
                    ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode(),
                    IfNoneMatch="*",
                )
            except self._client_error as exc:
                if _status(exc) not in (409, 412):
                    raise
                # 412: stored before, or meanwhile by another writer; 409: that write is
                # still in flight (AWS). Either way the bytes are, or will be, there.
                return self._existing(sha256, self._head_size(key), size)
        return StoredBlob(sha256, size, created=True)

    def open_original(self, sha256: str) -> BinaryIO:
        return self._open(self._original_key(_check_sha256(sha256)), f"original {sha256}")

    def exists(self, sha256: str) -> bool:
        return self._head_size(self._original_key(_check_sha256(sha256))) is not None

    def size(self, sha256: str) -> int:
        stored = self._head_size(self._original_key(_check_sha256(sha256)))
        if stored is None:
            raise BlobNotFound(f"original {sha256}")
        return stored

    def head_original(self, sha256: str) -> OriginalHead:
        with _s3_errors():
            try:
                head = self.client.head_object(Bucket=self.bucket, Key=self._original_key(_check_sha256(sha256)),
                                               ChecksumMode="ENABLED")
            except self._client_error as exc:
                if _status(exc) == 404:
                    raise BlobNotFound(f"original {sha256}") from None
                raise
        checksum = head.get("ChecksumSHA256")
        try:
            stored = base64.b64decode(checksum).hex() if checksum else None
        except ValueError:
            stored = None
        return OriginalHead(int(head["ContentLength"]), stored)

    def repair_original(self, stream: BinaryIO, sha256: str) -> bool:
        key = self._original_key(_check_sha256(sha256))
        try:
            with self.open_original(sha256) as stored:
                if stream_digest(stored)[0] == sha256:
                    return False
        except BlobNotFound:
            pass
        with tempfile.TemporaryFile(dir=self._spool_dir, prefix="fieldwatch-fix-") as spool:
            actual, size = _copy_hashing(stream, spool, None)
            _check_expected(sha256, actual)
            spool.seek(0)
            with _s3_errors():
                # No If-None-Match: this write replaces the damaged object, and the store checks
                # the bytes against the checksum on the way in.
                self.client.put_object(Bucket=self.bucket, Key=key, Body=spool, ContentLength=size,
                                       ContentType="application/octet-stream",
                                       ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode())
        return True

    # derivatives

    def put_derivative(self, sha256: str, name: str, data: bytes) -> None:
        with _s3_errors():
            self.client.put_object(
                Bucket=self.bucket, Key=self._derivative_key(sha256, name), Body=data, ContentType="image/jpeg"
            )

    def open_derivative(self, sha256: str, name: str) -> BinaryIO:
        return self._open(self._derivative_key(sha256, name), f"{name} of {sha256}")

    def derivative_exists(self, sha256: str, name: str) -> bool:
        return self._head_size(self._derivative_key(sha256, name)) is not None

    def signed_url(
        self,
        key: str,
        *,
        filename: str,
        expires_s: int = 300,
        derivative: str | None = None,
        content_type: str | None = None,
    ) -> str | None:
        if not 1 <= expires_s <= MAX_SIGNED_URL_SECONDS:
            raise ValueError(f"expires_s must be within 1..{MAX_SIGNED_URL_SECONDS}")
        object_key = (
            self._derivative_key(key, derivative) if derivative else self._original_key(_check_sha256(key))
        )
        params = {
            "Bucket": self.bucket,
            "Key": object_key,
            "ResponseContentDisposition": content_disposition(filename),
        }
        if content_type:
            params["ResponseContentType"] = content_type
        with _s3_errors():
            return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_s)

    # keys and requests

    @property
    def _client_error(self) -> type[Exception]:
        return self.client.exceptions.ClientError

    def _original_key(self, sha256: str) -> str:
        return f"{self.prefix}originals/{_fan_out(sha256)}"

    def _derivative_key(self, sha256: str, name: str) -> str:
        return f"{self.prefix}derivatives/{_fan_out(_check_sha256(sha256))}/{_check_derivative(name)}.jpg"

    def _existing(self, sha256: str, stored: int | None, size: int) -> StoredBlob:
        if stored is not None and stored != size:
            raise BlobConflict(sha256, stored, size)
        return StoredBlob(sha256, size, created=False)

    def _head_size(self, key: str) -> int | None:
        with _s3_errors():
            try:
                return int(self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
            except self._client_error as exc:
                if _status(exc) == 404:
                    return None
                raise

    def _open(self, key: str, what: str, byte_range: str | None = None) -> BinaryIO:
        with _s3_errors():
            try:
                extra = {"Range": byte_range} if byte_range else {}
                body = self.client.get_object(Bucket=self.bucket, Key=key, **extra)["Body"]
            except self._client_error as exc:
                if _status(exc) == 404:
                    raise BlobNotFound(what) from None
                raise
        return io.BufferedReader(_StreamingBodyReader(body), buffer_size=CHUNK_SIZE)


def _at_start_of_seekable(stream: BinaryIO) -> bool:
    try:
        return bool(stream.seekable()) and stream.tell() == 0
    except (AttributeError, OSError, ValueError):
        return False
