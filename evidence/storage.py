"""Content-addressed, write-once storage of evidence originals, their derivatives and tus staging.

The stores implement the BlobStore protocol the domain declares (field/core/storage.py): a local
folder (local_store.py) or an S3 bucket (s3_store.py), whichever the configuration names
(``make_blob_store``). This module holds what both share: addresses (a checked SHA-256 fanned out
in folders, tame upload ids, derivative names), copying a stream while hashing it, download names.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

from field.core.evidence_errors import HashMismatch
from field.core.storage import CHUNK_SIZE, DERIVATIVE_NAMES, BlobStore  # noqa: F401 (CHUNK_SIZE: api reads it here)
from field.core.storage import copy_digest
from field.core.storage import read_chunks as _read_chunks  # noqa: F401 (the stores read through it)


#: S3 client bounds when the configuration gives none (see S3_* in api/config.py).
DEFAULT_S3_CONNECT_TIMEOUT_S = 3.0
DEFAULT_S3_READ_TIMEOUT_S = 20.0
DEFAULT_S3_MAX_ATTEMPTS = 2
#: Longest lifetime of a signed URL S3 accepts (7 days, SigV4).
MAX_SIGNED_URL_SECONDS = 7 * 24 * 3600

_SHA256 = re.compile(r"[0-9a-f]{64}")
# tus upload ids are ours (server-made), but they reach paths and keys: keep them tame.
_UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def make_blob_store(config: Mapping[str, Any]) -> BlobStore:
    """The store the configuration asks for: ``EVIDENCE_STORAGE`` = local (default) or s3."""
    # The stores build on this module's helpers: they are imported where they are chosen.
    from .local_store import LocalBlobStore
    from .s3_store import S3BlobStore

    kind = str(config.get("EVIDENCE_STORAGE") or "local").lower()
    if kind == "local":
        return LocalBlobStore(Path(config.get("EVIDENCE_DIR") or "var/evidence"))
    if kind == "s3":
        missing = [k for k in ("S3_BUCKET", "S3_ACCESS_KEY", "S3_SECRET_KEY") if not config.get(k)]
        if missing:
            raise ValueError(f"EVIDENCE_STORAGE=s3 needs {', '.join(missing)}")
        return S3BlobStore(
            endpoint_url=config.get("S3_ENDPOINT_URL") or None,
            bucket=config["S3_BUCKET"],
            access_key=config["S3_ACCESS_KEY"],
            secret_key=config["S3_SECRET_KEY"],
            region=config.get("S3_REGION") or "us-east-1",
            prefix=config.get("S3_PREFIX") or "",
            connect_timeout_s=float(config.get("S3_CONNECT_TIMEOUT_S") or DEFAULT_S3_CONNECT_TIMEOUT_S),
            read_timeout_s=float(config.get("S3_READ_TIMEOUT_S") or DEFAULT_S3_READ_TIMEOUT_S),
            max_attempts=int(config.get("S3_MAX_ATTEMPTS") or DEFAULT_S3_MAX_ATTEMPTS),
        )
    raise ValueError(f"EVIDENCE_STORAGE must be 'local' or 's3', not {kind!r}")


def new_upload_id() -> str:
    """A fresh tus upload id of the form the staging area accepts."""
    return uuid.uuid4().hex


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact UTF-8 name (RFC 6266, RFC 8187)."""
    name = "".join(ch for ch in filename if ch.isprintable()).strip() or "evidence"
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = re.sub(r'["\\/;]+', "_", fallback).strip() or "evidence"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _check_sha256(value: str) -> str:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise ValueError(f"not a lowercase hex SHA-256: {value!r}")
    return value


def _check_upload_id(value: str) -> str:
    if not isinstance(value, str) or not _UPLOAD_ID.fullmatch(value):
        raise ValueError(f"not a valid upload id: {value!r}")
    return value


def _check_derivative(name: str) -> str:
    if name not in DERIVATIVE_NAMES:
        raise ValueError(f"derivative must be one of {sorted(DERIVATIVE_NAMES)}, not {name!r}")
    return name


def _fan_out(sha256: str) -> str:
    # Two levels of 256 directories keep any one directory small on any filesystem.
    return f"{sha256[0:2]}/{sha256[2:4]}/{sha256}"


def _copy_hashing(stream: BinaryIO, sink: BinaryIO, max_bytes: int | None) -> tuple[str, int]:
    """Copy in CHUNK_SIZE pieces while hashing; TooLarge as soon as ``max_bytes`` is passed."""
    return copy_digest(stream, sink, max_bytes=max_bytes)


def _check_expected(expected: str | None, actual: str) -> None:
    if expected is not None and expected.lower() != actual:
        raise HashMismatch(expected.lower(), actual)


# -- S3-compatible ------------------------------------------------------------------------------------
