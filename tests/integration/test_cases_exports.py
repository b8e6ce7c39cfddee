"""Exports of cases at domain level: keyset batches, and an evidence ZIP that streams in flat memory."""

from __future__ import annotations

import csv
import io
import json
import os
import tracemalloc
import zipfile

import pytest

from evidence.local_store import LocalBlobStore
from field.cases import evidence_zip, exports as case_exports, lifecycle as cases
from tests.integration.test_cases import (  # noqa: F401  (fixtures)
    OPENED,
    add_evidence,
    admin,
    make_case,
    make_record,
    make_user,
    member,
    office,
)


def test_the_csv_reads_every_case_once_across_batches_in_number_order(session, office, make_case, monkeypatch):
    monkeypatch.setattr(case_exports, "BATCH", 2)
    numbers = [make_case().number for _ in range(5)]
    stmt = cases.cases_query(office["reviewer"])
    chunks = list(case_exports.csv_chunks(session, stmt, OPENED))
    assert len(chunks) == 1 + 3  # the header, then one chunk per batch of two
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == sorted(numbers)
    assert all(r[11] == "否" for r in rows[1:])  # not overdue on the day they were opened
    features = json.loads(b"".join(case_exports.geojson_chunks(session, stmt, OPENED)))["features"]
    assert [f["properties"]["number"] for f in features] == sorted(numbers)


def test_an_evidence_zip_of_a_large_original_streams_in_flat_memory(session, office, make_case, make_record,
                                                                    add_evidence, tmp_path):
    store = LocalBlobStore(tmp_path / "evidence")
    big = os.urandom(12 * 1024 * 1024)  # a 12 MB video, say
    record = make_record()
    sha = add_evidence(record, big, store=store)
    case = make_case(sources=[record])
    export = evidence_zip.prepare_evidence_export(session, office["reviewer"], case, store)
    session.commit()
    out = tmp_path / "export.zip"
    tracemalloc.start()
    try:
        with out.open("wb") as f:
            for chunk in evidence_zip.evidence_zip(session, export, store):
                f.write(chunk)
                assert len(chunk) <= 2 * evidence_zip.CHUNK
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB for a 12 MB original"
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        assert zf.read(f"evidence/{sha}.jpg") == big
        assert zf.read("MANIFEST.sha256").decode() == f"{sha}  evidence/{sha}.jpg\n"


def test_an_export_is_refused_to_anyone_outside_the_office(session, make_user, make_case, tmp_path):
    from field.core.errors import NotFound
    from field.core.models.platform import Role

    case = make_case()
    with pytest.raises(NotFound):
        evidence_zip.prepare_evidence_export(session, make_user(Role.inspector), case,
                                             LocalBlobStore(tmp_path / "evidence"))
