"""Crash during upload: gunicorn SIGKILLed (master and workers) at random moments of tus uploads, restarted, clients resume.

    python -m stress.crash_upload --kills 100 [--clients 4] [--storage s3|local] [--database-url URL]

A private PostgreSQL cluster (or ``--database-url``, an EMPTY database) and a private
SeaweedFS (``--storage s3``, the production shape) or a folder hold the data; gunicorn
serves the app with deploy/gunicorn.conf.py. ``--clients`` phones (one account each)
upload photos of the shared corpus with tuspy in chunks of 64–256 KiB, so kills land
mid-chunk, mid-completion and between requests. A killer SIGKILLs gunicorn's whole
process group ``--kills`` times at random moments and starts it again; after each
failure a phone asks where its upload stands (HEAD) and sends the rest (PATCH), as tus
clients do. ``--abandon`` uploads are started and left unfinished on purpose.

Then, with the server stopped: every upload must be complete with the phone's SHA-256
(GET on the upload), ``fieldwatch verify --all-originals`` must find every custody chain
and every stored original intact, and every attachment, original and completed upload
must point at a complete stored original. Finally the unfinished uploads (the abandoned
ones and creations whose answer a kill swallowed) must expire and ``fieldwatch
cleanup-uploads`` must discard their staged bytes: they then answer 410 and the store
holds nothing of them. Uploads expire ``--expiry-s`` after their last chunk here (72 h
in production) and a dead request's lease lapses after ``--lease-s``.

Prints the counts (kills, uploads, resumes, completed, hash mismatches, corrupt originals,
dangling links, expired and cleaned); exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import select

from .serve import Gunicorn, Stack, build_stack, member_token, photos

TUS = {"Tus-Resumable": "1.0.0"}
#: A phone gives up an upload that has not finished after this long (a failure of the harness).
UPLOAD_DEADLINE_S = 600.0


@dataclass
class Sent:
    path: Path
    sha256: str
    phone: int
    url: str | None = None
    resumes: int = 0
    done: bool = False
    error: str | None = None


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0
    errors: Counter = field(default_factory=Counter)
    creations_lost: int = 0

    def add(self, **deltas: int) -> None:
        with self.lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _describe(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    return f"http {status}" if status else type(exc).__name__


def upload_one(base: str, token: str, sent: Sent, chunk: int, tally: Tally) -> None:
    """Send ``sent.path`` with tuspy until it is complete, resuming (HEAD, then PATCH) after every failure."""
    from tusclient.client import TusClient
    from tusclient.exceptions import TusCommunicationError, TusUploadFailed

    client = TusClient(f"{base}/api/v1/uploads", headers={"Authorization": f"Bearer {token}"})
    uploader = client.uploader(file_path=str(sent.path), chunk_size=chunk, metadata={
        "kind": "photo", "record_id": str(uuid.uuid4()), "sha256": sent.sha256, "filename": sent.path.name})
    deadline = time.monotonic() + UPLOAD_DEADLINE_S
    while time.monotonic() < deadline:
        try:
            if uploader.url is None:
                tally.add(in_flight=1)
                try:
                    uploader.set_url(uploader.create_url())
                finally:
                    tally.add(in_flight=-1)
                uploader.offset = 0
                sent.url = uploader.url
            else:
                uploader.offset = uploader.get_offset()  # HEAD: where the server says we are
            while uploader.offset < uploader.get_file_size():
                tally.add(in_flight=1)
                try:
                    uploader.upload_chunk()
                finally:
                    tally.add(in_flight=-1)
            sent.done = True
            return
        except (TusCommunicationError, TusUploadFailed, requests.RequestException) as exc:
            status = getattr(exc, "status_code", None)
            tally.errors[_describe(exc)] += 1
            if status in (404, 410):
                sent.error = f"the upload answered {status}: {getattr(exc, 'response_content', b'')[:200]!r}"
                return
            if uploader.url is None and status is None:
                # The creation may have been made and its answer lost with the server: an orphan
                # upload the expiry will clean; the phone simply creates again.
                tally.add(creations_lost=1)
            sent.resumes += 1
            time.sleep(0.2 + random.random() * 0.3)
    sent.error = f"not finished within {UPLOAD_DEADLINE_S:.0f} s"


def phone_loop(base: str, token: str, index: int, queue: list[Path], queue_lock: threading.Lock,
               stop: threading.Event, chunks: tuple[int, int], tally: Tally, sent_all: list[Sent]) -> None:
    rng = random.Random(index)
    while not stop.is_set():
        with queue_lock:
            path = queue.pop(0)
            queue.append(path)  # the corpus goes round while the kills go on
        sent = Sent(path, _sha256(path), index)
        sent_all.append(sent)
        upload_one(base, token, sent, rng.randrange(chunks[0], chunks[1] + 1, 1024), tally)


def abandon(base: str, token: str, paths: list[Path]) -> list[str]:
    """Start uploads and leave them half-sent, as a phone that was lost would."""
    urls = []
    for path in paths:
        data = path.read_bytes()
        meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}"
                        for k, v in {"kind": "photo", "record_id": str(uuid.uuid4())}.items())
        resp = requests.post(f"{base}/api/v1/uploads", headers={
            **TUS, "Authorization": f"Bearer {token}", "Upload-Length": str(len(data)), "Upload-Metadata": meta,
            "Content-Type": "application/offset+octet-stream"}, data=data[: len(data) // 2], timeout=60)
        resp.raise_for_status()
        urls.append(resp.headers["Location"])
    return urls


def killer(server: Gunicorn, kills: int, tally: Tally, pause: tuple[float, float], seed: int) -> dict:
    rng = random.Random(seed)
    mid_request = 0
    for _ in range(kills):
        time.sleep(rng.uniform(*pause))
        if tally.in_flight > 0:
            mid_request += 1
        server.kill()
        time.sleep(rng.uniform(0.0, 0.5))
        server.start()
    return {"kills": kills, "mid_request": mid_request}


def check(stack: Stack, base: str, tokens: list[str], sent_all: list[Sent], abandoned: list[str]) -> dict:
    """After the storm: hashes, originals, links, then expiry and clean-up."""
    from field.core.models.evidence import Attachment, Blob, Upload
    from field.core.models.base import utcnow

    failures: list[str] = []
    factory = stack.world.app.extensions["SESSION_FACTORY"]
    store = stack.store()
    mismatches = completed = 0
    for sent in sent_all:
        if sent.error or not sent.done:
            failures.append(f"{sent.path.name} (phone {sent.phone}): {sent.error or 'not finished'}")
            continue
        status = requests.get(sent.url, headers={"Authorization": f"Bearer {tokens[sent.phone]}"}, timeout=60)
        body = status.json()
        if body.get("state") != "complete":
            failures.append(f"{sent.path.name}: upload {body.get('state')} ({body.get('failure')}) "
                            f"after the phone finished")
            continue
        completed += 1
        if body.get("sha256") != sent.sha256:
            mismatches += 1
            failures.append(f"{sent.path.name}: stored {body.get('sha256')}, phone had {sent.sha256}")

    verify = stack.cli("verify", "--all-originals")
    corrupt = verify.stderr.count("BROKEN original")
    if verify.returncode != 0:
        failures.append(f"fieldwatch verify: {verify.stderr.strip()[:500]}")
    originals_checked = next((int(line.split(":")[1]) for line in verify.stdout.splitlines()
                              if line.startswith("originals checked:")), 0)

    dangling = 0
    with factory() as s:
        sizes = {sha: size for sha, size in s.execute(select(Blob.sha256, Blob.size))}
        for sha, size in sizes.items():
            try:
                ok = store.size(sha) == size
            except Exception:  # noqa: BLE001 - absent is what we look for
                ok = False
            if not ok:
                dangling += 1
                failures.append(f"original {sha} is missing or partial in the store")
        for attachment in s.execute(select(Attachment)).scalars():
            if attachment.blob_sha256 not in sizes:
                dangling += 1
                failures.append(f"attachment {attachment.id} points at no original")
        for upload in s.execute(select(Upload).where(Upload.completed_at.is_not(None))).scalars():
            linked = s.execute(select(Attachment.id).where(Attachment.upload_id == upload.id)).first()
            if upload.blob_sha256 not in sizes or linked is None:
                dangling += 1
                failures.append(f"completed upload {upload.id} points at no original")

        # Expiry: wait until every unfinished upload is past its expiry, then clean up as cron would.
        unfinished = s.execute(select(Upload.id, Upload.expires_at).where(
            Upload.completed_at.is_(None), Upload.terminated_at.is_(None), Upload.failed_at.is_(None))).all()
        left_behind = s.execute(select(Upload.id).where(
            Upload.completed_at.is_not(None), Upload.staging_discarded_at.is_(None))).all()
        s.rollback()
    latest = max((u.expires_at for u in unfinished), default=None)
    if latest is not None:
        wait = (latest - utcnow()).total_seconds() + 1
        if wait > 0:
            print(f"waiting {wait:.0f} s for {len(unfinished)} unfinished uploads to expire", flush=True)
            time.sleep(wait)
    cleanup = stack.cli("cleanup-uploads")
    if cleanup.returncode != 0:
        failures.append(f"fieldwatch cleanup-uploads: {cleanup.stderr.strip()[:500]}")
    cleaned = next((int(line.rsplit(":", 1)[1]) for line in cleanup.stdout.splitlines()
                    if line.startswith("expired uploads cleaned up:")), 0)
    with factory() as s:
        for upload_id, _ in unfinished:
            row = s.get(Upload, upload_id)
            if row.staging_discarded_at is None:
                failures.append(f"unfinished upload {upload_id} was not cleaned up")
            elif store.stage_size(row.staging_id) != 0:
                failures.append(f"unfinished upload {upload_id} still has staged bytes")
        still = s.execute(select(Upload.id).where(Upload.staging_discarded_at.is_(None))).all()
        if still:
            failures.append(f"{len(still)} uploads still keep staged bytes after the clean-up")
    gone = Counter()
    for url in abandoned:
        gone[requests.head(url, headers={**TUS, "Authorization": f"Bearer {tokens[0]}"}, timeout=60).status_code] += 1
    if set(gone) != {410}:
        failures.append(f"abandoned uploads answered {dict(gone)} after expiry, not 410")
    return {"completed": completed, "hash_mismatches": mismatches, "corrupt_originals": corrupt,
            "originals_checked": originals_checked, "dangling_links": dangling,
            "unfinished": len(unfinished), "completed_staging_left": len(left_behind), "cleaned": cleaned,
            "abandoned_410": gone.get(410, 0), "failures": failures}


def run(args) -> int:
    with tempfile.TemporaryDirectory(prefix="fieldwatch-crash-") as tmp:
        stack = build_stack(Path(tmp), storage=args.storage, database_url=args.database_url)
        server = None
        try:
            phones = [member_token(stack.world.app, f"phone-{i}") for i in range(args.clients)]
            tokens = [token for _, token in phones]
            server = stack.gunicorn(
                {"UPLOAD_LOCK_SECONDS": args.lease_s, "UPLOAD_EXPIRES_HOURS": args.expiry_s / 3600},
                GUNICORN_WORKERS=str(args.workers), GUNICORN_THREADS=str(args.threads))
            server.start()
            corpus = photos(limit=args.photos)
            random.Random(args.seed).shuffle(corpus)
            abandoned = abandon(server.base, tokens[0], corpus[: args.abandon])
            tally, stop, queue_lock, sent_all = Tally(), threading.Event(), threading.Lock(), []
            threads = [threading.Thread(target=phone_loop, daemon=True, args=(
                server.base, tokens[i], i, list(corpus[i::args.clients]), queue_lock, stop,
                (args.min_chunk_kib * 1024, args.max_chunk_kib * 1024), tally, sent_all))
                for i in range(args.clients)]
            started = time.monotonic()
            for t in threads:
                t.start()
            kills = killer(server, args.kills, tally, (args.min_pause, args.max_pause), args.seed)
            stop.set()
            for t in threads:
                t.join(UPLOAD_DEADLINE_S + 60)
            storm_s = time.monotonic() - started
            result = check(stack, server.base, tokens, sent_all, abandoned)
        finally:
            if server is not None:
                server.stop()
            stack.close()
    print(f"storage: {args.storage}  clients: {args.clients}  workers: {args.workers}x{args.threads} threads  "
          f"chunks: {args.min_chunk_kib}-{args.max_chunk_kib} KiB  storm: {storm_s:.0f} s")
    print(f"kills: {kills['kills']} (with a request in flight: {kills['mid_request']})  restarts: {server.starts - 1}")
    print(f"uploads: {len(sent_all)}  resumes: {sum(s.resumes for s in sent_all)}  "
          f"creations retried (no answer): {tally.creations_lost}")
    print(f"client errors resumed from: {dict(sorted(tally.errors.items()))}")
    print(f"completed: {result['completed']}  hash mismatches: {result['hash_mismatches']}  "
          f"corrupt originals: {result['corrupt_originals']} (of {result['originals_checked']} checked)  "
          f"dangling links: {result['dangling_links']}")
    print(f"unfinished (abandoned {len(abandoned)} + creations whose answer a kill swallowed): {result['unfinished']}  "
          f"completed uploads whose staged copy a kill left: {result['completed_staging_left']}  "
          f"cleaned by cleanup-uploads: {result['cleaned']}  abandoned answering 410: {result['abandoned_410']}")
    print(f"failures: {len(result['failures'])}")
    for line in result["failures"][:30]:
        print("  " + line)
    return 1 if result["failures"] else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--storage", choices=("s3", "local"), default="s3")
    parser.add_argument("--database-url", help="an EMPTY PostgreSQL database (default: a private cluster)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--min-chunk-kib", type=int, default=64)
    parser.add_argument("--max-chunk-kib", type=int, default=256)
    parser.add_argument("--min-pause", type=float, default=1.0, help="least time served between kills (s)")
    parser.add_argument("--max-pause", type=float, default=4.0, help="most time served between kills (s)")
    parser.add_argument("--photos", type=int, default=40, help="the smallest this many photos of the corpus")
    parser.add_argument("--abandon", type=int, default=6, help="uploads left unfinished on purpose")
    parser.add_argument("--expiry-s", type=float, default=300.0,
                        help="upload expiry after its last chunk: longer than a phone may go without progress "
                             "while the server restarts over and over (else its upload rightly answers 410)")
    parser.add_argument("--lease-s", type=float, default=3.0, help="lease of a request on its upload")
    parser.add_argument("--seed", type=int, default=8)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
