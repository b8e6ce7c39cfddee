"""Benchmark 2, evidence ingest: phone JPEGs uploaded with tuspy through gunicorn to SeaweedFS, against boto3 alone.

    python -m bench.evidence_ingest [--quick]

fieldwatch: the JPEGs of the corpus between 2 and 5 MB (``../shared/data/photos/``, listed in
the rows' notes) go up through tuspy's uploader, each in ONE request: tus creation-with-upload
(tuspy 1.1 sends the bytes in a PATCH after the POST; ``OneRequestUploader`` below, a subclass
of it, puts them in the creation POST instead, as mobile tus clients do), with the phone's
SHA-256 in Upload-Metadata, at concurrency 4 and 16 (threads of this process, each a phone: a
squad member with a device token of their own).
The server (gunicorn on PostGIS, SeaweedFS S3 on loopback: the production shape) stages the
bytes, hashes, sniffs, reads the EXIF facts, stores the original write-once, writes the blob
row, custody entries and the attachment. Every upload is a new original: each is its photo
with 16 random bytes after the JPEG's end marker, which decoders ignore, so nothing is
deduplicated. uploads/s and MB/s (10^6 bytes) over the wall time of the batch; p50/p95 of one
upload. Derivatives (thumb, preview) are made off the request path by the worker
``fieldwatch derive --follow`` running beside gunicorn, as in production; the benchmark reports
how long after the batch's last upload every upload's photo had its derivatives.

Floor: the same bytes hashed with hashlib.sha256 and written with boto3 ``put_object`` to the
same bucket from this one Python process, one after the other: what storing them costs
without fieldwatch. Target: fieldwatch's MB/s at least 60 % of the floor's (issue 18).

The two are interleaved, A/B/A/B (``ROUNDS`` rounds per concurrency: a fieldwatch batch, the
derive worker left to finish, then the floor on the same bytes), and each side's MB/s is its
bytes over its own time summed over the rounds, so that what else the shared machine does
weighs on both alike; the notes give every round's own ratio, to show the noise.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from tests import corpus

from .common import PHOTOS, Options, Row, main_of, percentile
from .serve import Served, serving

NAME = "2 evidence ingest"
TARGET_RATIO = 0.60
#: fieldwatch and floor runs alternate this many times per concurrency (A/B/A/B...).
ROUNDS = 2
MIN_BYTES, MAX_BYTES = 2_000_000, 5_000_000
#: uploads per concurrency level (quick, full)
UPLOADS = {4: (8, 32), 16: (16, 64)}  # split evenly over the rounds
DERIVE_TIMEOUT_S = 600.0


def phone_jpegs() -> list[Path]:
    """The corpus JPEGs between 2 and 5 MB (the broken ones left out)."""
    found = [p for p in sorted(PHOTOS.rglob("*")) if p.is_file() and p.suffix.lower() in (".jpg", ".jpeg")
             and p.parent.name != "broken_odd" and MIN_BYTES <= p.stat().st_size <= MAX_BYTES]
    if not found:
        raise RuntimeError(corpus.missing() or f"no JPEG of 2-5 MB under {PHOTOS}")
    return found


def variant(data: bytes) -> bytes:
    """The photo with 16 random bytes after its end marker: a new SHA-256, the same image."""
    return data + secrets.token_bytes(16)


def _one_request_uploader():
    from tusclient.exceptions import TusCommunicationError
    from tusclient.uploader import Uploader

    class OneRequestUploader(Uploader):
        """tuspy's Uploader with tus creation-with-upload: the bytes (up to chunk_size) go in the POST."""

        def create_url(self):
            import requests

            headers = self.get_url_creation_headers()
            headers["Content-Type"] = "application/offset+octet-stream"
            self.file_stream.seek(0)
            body = self.file_stream.read(self.chunk_size)
            resp = requests.post(self.client.url, headers=headers, data=body, timeout=300)
            location = resp.headers.get("location")
            if resp.status_code != 201 or location is None:
                raise TusCommunicationError(f"creation answered {resp.status_code}", resp.status_code, resp.content)
            self.created_offset = int(resp.headers.get("upload-offset", "0"))
            return urljoin(self.client.url, location)

        def upload(self, stop_at=None):
            self.stop_at = stop_at or self.get_file_size()
            self.set_url(self.create_url())
            self.offset = self.created_offset
            while self.offset < self.stop_at:  # only if the server took less than everything
                self.upload_chunk()

    return OneRequestUploader


@dataclass
class Batch:
    seconds: float
    latencies: list[float]
    errors: list[str]
    sha256s: list[str]
    bytes_sent: int
    finished_at: float


def upload_batch(served: Served, payloads: list[bytes], concurrency: int) -> Batch:
    from tusclient.client import TusClient

    uploader_class = _one_request_uploader()
    # One phone per concurrent upload: a user's uploads at once are capped (UPLOAD_MAX_STREAMS_PER_USER).
    clients = [TusClient(served.base_url + "/api/v1/uploads", headers=served.phone(i)) for i in range(concurrency)]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def one(job: tuple[int, bytes]) -> None:
        i, data = job
        client = clients[i % concurrency]
        sha = hashlib.sha256(data).hexdigest()
        start = time.perf_counter()
        try:
            uploader = uploader_class(client=client, file_stream=io.BytesIO(data), chunk_size=len(data),
                                      metadata={"kind": "photo", "record_id": str(uuid.uuid4()), "sha256": sha,
                                                "filename": f"{sha[:12]}.jpg"})
            uploader.upload()
        except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
            with lock:
                errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
            return
        with lock:
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, enumerate(payloads)))
    finished = time.perf_counter()
    return Batch(finished - start, latencies, errors, [hashlib.sha256(d).hexdigest() for d in payloads],
                 sum(len(d) for d in payloads), finished)


def stored_state(served: Served, sha256s: list[str]) -> dict[str, int]:
    """How many of ``sha256s`` are originals, and how many of those still wait for derivatives."""
    import psycopg

    url = served.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT derivatives_state, count(*) FROM blobs WHERE sha256 = ANY(%s) "
                            "GROUP BY derivatives_state", (sha256s,)).fetchall()
    counts = {state: n for state, n in rows}
    counts["stored"] = sum(counts.values())
    return counts


def wait_for_derivatives(served: Served, sha256s: list[str], since: float) -> tuple[float | None, dict]:
    """Seconds from ``since`` until none of ``sha256s`` is pending (None on timeout), and the final counts."""
    while True:
        counts = stored_state(served, sha256s)
        if not counts.get("pending"):
            return time.perf_counter() - since, counts
        if time.perf_counter() - since > DERIVE_TIMEOUT_S:
            return None, counts
        if served.derive is not None and served.derive.poll() is not None:
            raise RuntimeError(f"the derive worker exited with {served.derive.returncode}")
        time.sleep(0.1)


class Floor:
    """boto3 put_object of each payload after hashing it, one by one, from this process."""

    def __init__(self, served: Served) -> None:
        import boto3
        from botocore.config import Config

        s3 = served.s3
        self.bucket = s3["bucket"]
        self.client = boto3.client("s3", endpoint_url=s3["endpoint_url"], aws_access_key_id=s3["access_key"],
                                   aws_secret_access_key=s3["secret_key"], region_name="us-east-1",
                                   config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                                 request_checksum_calculation="when_required",
                                                 response_checksum_validation="when_required"))
        self.prefix = f"floor-{secrets.token_hex(4)}"
        self.client.put_object(Bucket=self.bucket, Key=f"{self.prefix}/warm", Body=b"warm")  # connection, credentials

    def seconds(self, payloads: list[bytes]) -> float:
        import base64

        start = time.perf_counter()
        for data in payloads:
            digest = hashlib.sha256(data).digest()
            self.client.put_object(Bucket=self.bucket, Key=f"{self.prefix}/{digest.hex()}", Body=data,
                                   ContentType="application/octet-stream",
                                   ChecksumSHA256=base64.b64encode(digest).decode(), IfNoneMatch="*")
        return time.perf_counter() - start


def run(opts: Options) -> list[Row]:
    photos = phone_jpegs()
    originals = [p.read_bytes() for p in photos]
    names = ", ".join(f"{p.parent.name}/{p.name} ({p.stat().st_size / 1e6:.1f} MB)" for p in photos)
    rows: list[Row] = []
    with serving(opts, "evidence", storage="s3", derive=True, phones=max(UPLOADS)) as served:
        # Warm-up: every worker imports Pillow and boto3 and opens its S3 client.
        warm = [variant(originals[i % len(originals)]) for i in range(served.workers * 2)]
        upload_batch(served, warm, served.workers)
        floor = Floor(served)
        floor.seconds(warm[:2])
        for concurrency, (quick_n, full_n) in UPLOADS.items():
            n = quick_n if opts.quick else full_n
            fw_s = floor_s = 0.0
            sent = stored = 0
            latencies: list[float] = []
            errors: list[str] = []
            derived: list[float | None] = []
            counts: dict[str, int] = {}
            rounds: list[str] = []
            for r in range(ROUNDS):
                payloads = [variant(originals[(r * n + i) % len(originals)]) for i in range(n // ROUNDS)]
                batch = upload_batch(served, payloads, concurrency)  # A: fieldwatch
                derived_after, round_counts = wait_for_derivatives(served, batch.sha256s, batch.finished_at)
                floor_round = floor.seconds(payloads)  # B: the floor, once the derive worker is idle
                fw_s, floor_s, sent = fw_s + batch.seconds, floor_s + floor_round, sent + batch.bytes_sent
                latencies += batch.latencies
                errors += batch.errors
                derived.append(derived_after)
                stored += round_counts["stored"]
                for state in ("ready", "failed", "pending"):
                    counts[state] = counts.get(state, 0) + round_counts.get(state, 0)
                rounds.append(f"{batch.bytes_sent / 1e6 / batch.seconds:.1f}/"
                              f"{batch.bytes_sent / 1e6 / floor_round:.1f}="
                              f"{floor_round / batch.seconds:.2f}")
                print(f"concurrency {concurrency}, round {r + 1}: fieldwatch/floor MB/s = {rounds[-1]}",
                      file=sys.stderr, flush=True)
            n = ROUNDS * (n // ROUNDS)
            mb_s = sent / 1e6 / fw_s
            floor_mb = sent / 1e6 / floor_s
            ratio = mb_s / floor_mb if floor_mb else None
            failures = len(errors) + (n - stored)
            case = f"concurrency {concurrency}"
            setup = f"{served.describe()}, derive worker beside it; {n} uploads in {ROUNDS} rounds"
            slowest = None if None in derived else max(derived)
            rows += [
                Row(NAME, case, "uploads/s", n / fw_s, notes=setup),
                Row(NAME, case, "MB/s", mb_s, "sha256 + boto3 put_object, one process, MB/s (interleaved)",
                    floor_mb, ratio, f">= {TARGET_RATIO:.2f}", ratio is not None and ratio >= TARGET_RATIO,
                    f"{sent / 1e6:.0f} MB in {fw_s:.1f} s; rounds fieldwatch/floor MB/s=ratio: "
                    + ", ".join(rounds)),
                Row(NAME, case, "p50 ms per upload", percentile(latencies, 50) * 1000),
                Row(NAME, case, "p95 ms per upload", percentile(latencies, 95) * 1000),
                Row(NAME, case, "errors", float(failures), target="0", met=failures == 0,
                    notes="; ".join(errors[:3]) or f"{stored} of {n} stored"),
                Row(NAME, case, "s until all derivatives", slowest if slowest is not None else float("nan"),
                    notes=f"after a round's last upload, the slower round; ready {counts.get('ready', 0)}, "
                          f"failed {counts.get('failed', 0)}, pending {counts.get('pending', 0)}"),
            ]
    rows[0].notes += f"; photos: {names}"
    return rows


def main(argv=None) -> int:
    return main_of(run, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
