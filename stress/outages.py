"""Outages: the database, then the S3 store, stopped for --down seconds under load; quick 503s, nothing half-written.

    python -m stress.outages --down 30 [--clients 4] [--bound-s 3] [--storage s3|local]

A private PostgreSQL cluster (the machine's own is never touched) and a private
SeaweedFS hold the data; gunicorn serves the app with deploy/gunicorn.conf.py. Phones
(one account each) keep submitting findings, listing them and uploading photos (tus:
creation with the whole photo, resumed with HEAD and PATCH after a failure) while
the harness stops PostgreSQL (``pg_ctl stop -m fast``) for ``--down`` seconds and starts
it again, then stops SeaweedFS for ``--down`` seconds and starts it again. gunicorn
is never restarted.

Checked: every request sent during an outage is answered within ``--bound-s``, with a
success or a 503 with Retry-After and an application/problem+json body (never a
500, never a hang); a request sent while a stopped server is coming up again ("db
starting", "s3 starting": SeaweedFS accepts connections seconds before it answers) has
no time bound but must not hang or fail otherwise; every request sent and answered while all is up succeeds (409 and
423 are the tus protocol's own answers); after the restarts service is full again;
every finding acknowledged (201/200) is stored exactly once with its custody entry,
no finding is stored without its custody entry, every upload a phone finished is
complete with the phone's SHA-256, and every original the database knows is whole in
the store. Prints p50/p95/max latency and the statuses per phase; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import func, select

from .serve import Stack, build_stack, member_token, photos
from .world import finding

TUS = {"Tus-Resumable": "1.0.0"}
#: A request taking longer than this is a hang whatever the bound (the client gives up).
CLIENT_TIMEOUT_S = 60.0


@dataclass
class Sample:
    phase: str  # when it was sent
    ended: str  # when its answer came: a request sent just before an outage may meet it
    kind: str
    status: int  # 0: no answer (connection refused, reset or the client's timeout)
    seconds: float
    problem: bool
    retry_after: bool


@dataclass
class Load:
    phase: str = "before"
    samples: list[Sample] = field(default_factory=list)
    acknowledged: list[uuid.UUID] = field(default_factory=list)
    unanswered: list[uuid.UUID] = field(default_factory=list)
    uploads: list[tuple[str, str, str]] = field(default_factory=list)  # (url, phone's sha256, token)
    unfinished: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def timed(self, kind: str, send) -> requests.Response | None:
        phase, started = self.phase, time.monotonic()
        try:
            resp = send()
        except requests.RequestException:
            resp = None
        seconds = time.monotonic() - started
        with self.lock:
            self.samples.append(Sample(
                phase, self.phase, kind, resp.status_code if resp is not None else 0, seconds,
                resp is not None and resp.headers.get("Content-Type", "").startswith("application/problem+json"),
                resp is not None and "Retry-After" in resp.headers))
        return resp


def _metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def _upload(load: Load, base: str, token: str, path: Path) -> None:
    """One photo by tus: creation with all its bytes; after a failure HEAD, then PATCH the rest."""
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    auth = {**TUS, "Authorization": f"Bearer {token}"}
    resp = load.timed("tus create", lambda: requests.post(f"{base}/api/v1/uploads", headers={
        **auth, "Upload-Length": str(len(data)), "Content-Type": "application/offset+octet-stream",
        "Upload-Metadata": _metadata(kind="photo", record_id=str(uuid.uuid4()), sha256=sha, filename=path.name)},
        data=data, timeout=CLIENT_TIMEOUT_S))
    if resp is None or "Location" not in resp.headers:
        return  # nothing was created, or we cannot know where: a phone would start again
    url = resp.headers["Location"]
    with load.lock:
        load.uploads.append((url, sha, token))
    deadline = time.monotonic() + 300
    while resp is None or resp.status_code not in (201, 204) or resp.headers.get("Upload-Offset") != str(len(data)):
        if time.monotonic() > deadline or (resp is not None and resp.status_code in (404, 410, 415, 422)):
            with load.lock:
                load.unfinished.append(url)
            return
        time.sleep(0.5)
        resp = load.timed("tus head", lambda: requests.head(url, headers=auth, timeout=CLIENT_TIMEOUT_S))
        if resp is None or resp.status_code != 200:
            continue
        offset = int(resp.headers["Upload-Offset"])
        if offset == len(data):
            break  # the HEAD finished it, or it was done
        resp = load.timed("tus patch", lambda: requests.patch(url, headers={
            **auth, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"},
            data=data[offset:], timeout=CLIENT_TIMEOUT_S))


def phone(load: Load, base: str, token: str, unit_id: uuid.UUID, corpus: list[Path], seed: int) -> None:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    while not load.stop.is_set():
        rid = uuid.uuid4()
        resp = load.timed("submit finding", lambda: requests.post(
            f"{base}/api/v1/findings", json=finding(unit_id, rid), headers=headers, timeout=CLIENT_TIMEOUT_S))
        with load.lock:
            (load.acknowledged if resp is not None and resp.status_code in (200, 201) else load.unanswered).append(rid)
        load.timed("list findings", lambda: requests.get(f"{base}/api/v1/findings?limit=20", headers=headers,
                                                         timeout=CLIENT_TIMEOUT_S))
        if rng.random() < 0.5:
            _upload(load, base, token, rng.choice(corpus))
        time.sleep(rng.uniform(0.05, 0.2))


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def judge(load: Load, bound_s: float) -> list[str]:
    failures = []
    by_phase: dict[str, list[Sample]] = defaultdict(list)
    for sample in load.samples:
        by_phase[sample.phase].append(sample)
    for phase, samples in by_phase.items():
        for s in samples:
            if s.status >= 500 and s.status != 503:
                failures.append(f"{phase}: {s.kind} answered {s.status}")
            if s.status == 503 and not (s.problem and s.retry_after):
                failures.append(f"{phase}: {s.kind} answered 503 without problem+json and Retry-After")
            if phase.endswith("down") and s.seconds > bound_s:
                failures.append(f"{phase}: {s.kind} took {s.seconds:.1f} s (bound {bound_s} s), status {s.status}")
            if phase.endswith(("down", "starting")) and s.status == 0:
                failures.append(f"{phase}: {s.kind} got no answer")
            if phase in ("before", "after") and s.ended == phase and not (
                    200 <= s.status < 300 or s.status in (409, 423)):
                failures.append(f"{phase}: {s.kind} answered {s.status} with everything up")
    return failures


def check_data(stack: Stack, load: Load) -> tuple[dict, list[str]]:
    from field.core.models.evidence import Attachment, Blob, Upload
    from field.custody.models import CustodyEntry
    from field.visits.models import Finding

    failures = []
    factory = stack.world.app.extensions["SESSION_FACTORY"]
    store = stack.store()
    with factory() as s:
        stored = Counter(s.execute(select(Finding.id)).scalars())
        logged = {str(v) for v in s.execute(select(CustodyEntry.subject_id)
                                            .where(CustodyEntry.kind == "record.created")).scalars()}
        for rid in load.acknowledged:
            if stored.get(rid) != 1:
                failures.append(f"acknowledged finding {rid} stored {stored.get(rid, 0)} times")
        for rid in stored:
            if str(rid) not in logged and rid.hex not in logged:
                failures.append(f"finding {rid} has no custody entry")
        unanswered_stored = sum(1 for rid in load.unanswered if rid in stored)
        sizes = dict(s.execute(select(Blob.sha256, Blob.size)).all())
        for sha, size in sizes.items():
            try:
                whole = store.size(sha) == size
            except Exception:  # noqa: BLE001 - absent is what we look for
                whole = False
            if not whole:
                failures.append(f"original {sha} is missing or partial in the store")
        orphans = s.execute(select(func.count()).select_from(Attachment)
                            .where(Attachment.blob_sha256.not_in(list(sizes) or [""]))).scalar()
        if orphans:
            failures.append(f"{orphans} attachments point at no original")
        for url, sha, _token in load.uploads:
            upload = s.get(Upload, uuid.UUID(url.rsplit("/", 1)[-1]))
            if url in load.unfinished:
                continue
            if upload.completed_at is None or upload.blob_sha256 != sha:
                failures.append(f"upload {url} finished by the phone is not complete with its hash "
                                f"({upload.blob_sha256}, phone had {sha})")
    for url in load.unfinished:
        failures.append(f"upload {url} could not be finished by its phone")
    counts = {"findings acknowledged": len(load.acknowledged), "findings unanswered": len(load.unanswered),
              "of which stored": unanswered_stored, "findings stored": len(stored),
              "uploads": len(load.uploads), "originals": len(sizes)}
    return counts, failures


def run(args) -> int:
    with tempfile.TemporaryDirectory(prefix="fieldwatch-outages-") as tmp:
        stack = build_stack(Path(tmp), storage=args.storage)
        server = None
        try:
            tokens = [member_token(stack.world.app, f"phone-{i}")[1] for i in range(args.clients)]
            server = stack.gunicorn(GUNICORN_WORKERS=str(args.workers), GUNICORN_THREADS=str(args.threads))
            server.start()
            corpus = photos(limit=20)  # the small ones: each upload is one request when all is well
            load = Load()
            threads = [threading.Thread(target=phone, daemon=True, args=(
                load, server.base, tokens[i], stack.world.unit_id, corpus, i)) for i in range(args.clients)]
            for t in threads:
                t.start()
            timeline = []

            def phase(name: str, seconds: float) -> None:
                load.phase = name
                timeline.append(name)
                time.sleep(seconds)

            phase("before", args.settle_s)
            load.phase = "db down"
            stack.postgres.stop("fast")
            time.sleep(args.down)
            load.phase = "db starting"  # sent while the server comes up: no bound, but no hang nor 500
            stack.postgres.start()
            phase("db back", args.settle_s)
            if args.storage == "s3":
                load.phase = "s3 down"
                stack.seaweed.stop()
                time.sleep(args.down)
                load.phase = "s3 starting"
                stack.seaweed.restart()
                phase("s3 back", args.settle_s)
            phase("after", args.settle_s)
            load.stop.set()
            for t in threads:
                t.join(CLIENT_TIMEOUT_S * 6)
            failures = judge(load, args.bound_s)
            counts, data_failures = check_data(stack, load)
            failures += data_failures
            restarts = server.starts - 1
            if failures:
                kept = Path(tempfile.gettempdir()) / f"fieldwatch-outages-{int(time.time())}-gunicorn.log"
                kept.write_bytes((Path(tmp) / "gunicorn.log").read_bytes())
                failures.append(f"gunicorn's log is kept at {kept}")
        finally:
            if server is not None:
                server.stop()
            stack.close()
    print(f"storage: {args.storage}  clients: {args.clients}  workers: {args.workers}x{args.threads} threads  "
          f"down: {args.down} s each  bound: {args.bound_s} s  gunicorn restarts: {restarts}")
    phases = ["before", "db down", "db starting", "db back", "s3 down", "s3 starting", "s3 back", "after"]
    for name in phases:
        samples = [s for s in load.samples if s.phase == name]
        if not samples:
            continue
        secs = [s.seconds for s in samples]
        statuses = dict(sorted(Counter(s.status for s in samples).items()))
        print(f"  {name:8s} requests: {len(samples):5d}  p50 {statistics.median(secs) * 1000:7.0f} ms  "
              f"p95 {_percentile(secs, 0.95) * 1000:7.0f} ms  max {max(secs) * 1000:7.0f} ms  statuses: {statuses}")
    print("  " + "  ".join(f"{k}: {v}" for k, v in counts.items()))
    print(f"failures: {len(failures)}")
    for line in failures[:30]:
        print("  " + line)
    return 1 if failures else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--down", type=float, default=30.0, help="seconds each store stays stopped")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--bound-s", type=float, default=3.0, help="longest answer allowed during an outage")
    parser.add_argument("--settle-s", type=float, default=10.0, help="load before, between and after outages")
    parser.add_argument("--storage", choices=("s3", "local"), default="s3")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
