"""Racing PATCHes: two clients PATCH one tus upload at the same offset at the same instant, round after round.

    python -m stress.racing_patch --rounds 1000 [--database-url URL] [--workers N]

The app runs under gunicorn with ``--workers`` sync worker processes (at least 2, so the two
PATCHes land in different processes and only the upload's lease, in the database, keeps
them apart) on a loopback port, against ``--database-url`` (an EMPTY database; sqlite:/// for
SpatiaLite) or, by default, a fresh PostGIS database on 127.0.0.1 made and dropped here;
evidence is stored in a local directory.

Each round a monitor's phone A creates an upload (tus POST) of a real photo from the shared
corpus, re-encoded as an uncompressed PNG so that two variants have the same length: A's and
B's (B is a second device of the same monitor) differ from some pixel row on, by a key
XOR-ed into the pixels. A may first send a prefix alone. Then both PATCH the same offset at
the same moment (a barrier), each with its own bytes: chunks of the same length or, in a
third of the rounds, of different lengths; some rounds race on the last chunk (the upload
completes inside the race), some send their bodies slowly so the lease is held while the
other arrives. The one answered 204 continues with its own file to the end; the other must
be answered 423 (the upload is locked) or 409 (the offset moved).

Checked every round: exactly one 204; every Upload-Offset answered is one the upload really
had; after the race the staged bytes are the winner's, whole (never a mix); the finished
upload's SHA-256 (GET /uploads/<id>, and the stored original's own bytes) is the SHA-256 of
what the winner sent, in order; no 5xx. Prints the counts; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import requests
from PIL import Image, PngImagePlugin

from field.core.evidence_errors import BlobNotFound
from evidence.local_store import LocalBlobStore
from field.core.models.evidence import Upload
from tests import corpus

from .counts import report as print_counts
from .served import fresh_postgis, gunicorn
from .world import World, build

#: The real photo both clients send (a phone's JPEG from the shared corpus), made smaller.
PHOTOS = corpus.PHOTOS
PHOTO = "phones/mei__Apple_iPhone_4.jpg"
SIZE = (320, 240)
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_STREAM = "application/offset+octet-stream"
#: The chunk the winner continues with.
CHUNK = 64 * 1024


class _Slow:
    """A request body that trickles out (8 kB every few ms): the lease is held while the other arrives."""

    def __init__(self, data: bytes, pause_s: float) -> None:
        self._data, self._pos, self._pause_s = data, 0, pause_s

    def __len__(self) -> int:
        return len(self._data)

    def read(self, n: int = -1) -> bytes:
        if self._pos >= len(self._data):
            return b""
        if self._pos:
            time.sleep(self._pause_s)
        piece = self._data[self._pos:self._pos + min(8192, n if n > 0 else 8192)]
        self._pos += len(piece)
        return piece


def source_image() -> Image.Image:
    path = PHOTOS / PHOTO
    if not path.is_file():
        raise FileNotFoundError(f"the photo corpus is absent: {path}")
    with Image.open(path) as photo:
        return photo.convert("RGB").resize(SIZE)


def variant(image: Image.Image, key: int, from_row: int, label: str) -> bytes:
    """The image as an uncompressed PNG (its length depends only on its size and ``label``'s),
    its pixels XOR-ed with ``key`` from ``from_row`` down."""
    if key:
        top = image.crop((0, from_row, image.width, image.height))
        image = image.copy()
        image.paste(top.point(lambda v: v ^ key), (0, from_row))
    info = PngImagePlugin.PngInfo()
    info.add_text("fieldwatch-round", label)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=0, pnginfo=info)
    return out.getvalue()


@dataclass
class Round:
    n: int
    files: dict[str, bytes]  # client → its whole file
    offset: int              # where the race happens
    chunks: dict[str, int]   # client → the length of its racing chunk
    slow: bool

    @property
    def length(self) -> int:
        return len(self.files["a"])


def plan_round(image: Image.Image, n: int, rng: random.Random, nonce: str) -> Round:
    key_a = rng.randrange(1, 256)
    key_b = rng.choice([k for k in range(1, 256) if k != key_a])
    shape = rng.random()
    from_row = 0 if shape < 0.4 else (image.height - 2 if shape > 0.8 else rng.randrange(1, image.height - 2))
    label = f"{nonce}-{n:06d}"
    files = {"a": variant(image, key_a, from_row, label), "b": variant(image, key_b, from_row, label)}
    length = len(files["a"])
    if len(files["b"]) != length:
        raise AssertionError("the two variants differ in length")
    first_difference = next(i for i, (x, y) in enumerate(zip(files["a"], files["b"])) if x != y)
    offset = rng.randrange(0, first_difference + 1)
    rest = length - offset
    if rng.random() < 1 / 3:
        chunks = {"a": rest, "b": rest}  # the race is on the last chunk: the winner completes the upload
    else:
        size = rng.randrange(16 * 1024, 96 * 1024)
        chunks = {"a": min(size, rest), "b": min(size, rest)}
        if rng.random() < 1 / 3:
            chunks[rng.choice("ab")] = min(rng.randrange(16 * 1024, 96 * 1024), rest)
    return Round(n, files, offset, chunks, slow=rng.random() < 0.5)


class Clients:
    """Two devices of one monitor talking tus to the server."""

    def __init__(self, base_url: str, headers: dict[str, dict]) -> None:
        self.base_url, self.headers = base_url, headers

    def create(self, who: str, length: int) -> str:
        record_id = base64.b64encode(str(uuid.uuid4()).encode()).decode()
        resp = requests.post(self.base_url + "/api/v1/uploads", timeout=60, headers={
            **self.headers[who], **TUS, "Upload-Length": str(length),
            "Upload-Metadata": f"kind {base64.b64encode(b'photo').decode()},record_id {record_id},"
                               f"filename {base64.b64encode(b'race.png').decode()}"})
        if resp.status_code != 201:
            raise RuntimeError(f"creation answered {resp.status_code}: {resp.text[:300]}")
        return resp.headers["Location"]

    def patch(self, who: str, url: str, offset: int, data: bytes, slow: bool = False) -> requests.Response | None:
        body = _Slow(data, 0.004) if slow else data
        try:
            return requests.patch(url, data=body, timeout=120, headers={
                **self.headers[who], **TUS, "Upload-Offset": str(offset), "Content-Type": OFFSET_STREAM})
        except requests.ConnectionError:
            return None  # refused before the body was read, the connection closed under the rest

    def offset(self, who: str, url: str) -> int:
        resp = requests.head(url, headers={**self.headers[who], **TUS}, timeout=60)
        if resp.status_code != 200:
            raise RuntimeError(f"HEAD answered {resp.status_code}")
        return int(resp.headers["Upload-Offset"])

    def status(self, who: str, url: str) -> dict:
        return requests.get(url, headers=self.headers[who], timeout=60).json()


def _race(clients: Clients, url: str, rnd: Round) -> dict[str, requests.Response | None]:
    barrier = threading.Barrier(2)
    answers: dict[str, requests.Response | None] = {}

    def send(who: str) -> None:
        data = rnd.files[who][rnd.offset:rnd.offset + rnd.chunks[who]]
        barrier.wait(30)
        answers[who] = clients.patch(who, url, rnd.offset, data, rnd.slow)

    threads = [threading.Thread(target=send, args=(who,)) for who in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    return answers


def play(world: World, clients: Clients, store: LocalBlobStore, rnd: Round, counts: Counter) -> list[str]:
    """One round; the failures it found."""
    failures: list[str] = []
    url = clients.create("a", rnd.length)
    if rnd.offset:
        first = clients.patch("a", url, 0, rnd.files["a"][:rnd.offset])
        if first is None or first.status_code != 204:
            return [f"round {rnd.n}: the uncontested prefix answered {first.status_code if first else 'nothing'}"]
    answers = _race(clients, url, rnd)
    statuses = {who: (resp.status_code if resp is not None else None) for who, resp in answers.items()}
    for status in statuses.values():
        counts[f"race answers {status or 'lost'}"] += 1
        if status is not None and status >= 500:
            counts["5xx"] += 1
    winners = [who for who, status in statuses.items() if status == 204]
    if len(winners) != 1:
        counts["rounds without exactly one winner"] += 1
        return failures + [f"round {rnd.n}: {len(winners)} PATCHes answered 204: {statuses} "
                           f"({[a.text[:200] for a in answers.values() if a is not None and a.status_code != 204]})"]
    winner = winners[0]
    loser = "b" if winner == "a" else "a"
    counts["204 winners"] += 1
    counts["winner b" if winner == "b" else "winner a"] += 1
    moved = rnd.offset + rnd.chunks[winner]
    if statuses[loser] in (409, 423):
        counts[f"{statuses[loser]} losers"] += 1
    elif statuses[loser] is None:
        counts["losers whose answer was lost"] += 1
    else:
        failures.append(f"round {rnd.n}: the loser was answered {statuses[loser]}: {answers[loser].text[:300]}")
    # Every offset answered is one the upload had: the winner's new one; the loser's, before or after.
    if answers[winner].headers.get("Upload-Offset") != str(moved):
        counts["offset inconsistencies"] += 1
        failures.append(f"round {rnd.n}: the winner was told offset {answers[winner].headers.get('Upload-Offset')}, "
                        f"expected {moved}")
    told = answers[loser].headers.get("Upload-Offset") if answers[loser] is not None else None
    if told is not None and told not in (str(rnd.offset), str(moved)):
        counts["offset inconsistencies"] += 1
        failures.append(f"round {rnd.n}: the loser was told offset {told}, the upload had {rnd.offset} or {moved}")
    expected = rnd.files[winner]
    if moved < rnd.length:
        # The race is over: what is staged must be the winner's bytes, whole.
        if clients.offset(winner, url) != moved:
            counts["offset inconsistencies"] += 1
            failures.append(f"round {rnd.n}: HEAD says {clients.offset(winner, url)} after the race, expected {moved}")
        staged = _staged(world, store, url)
        if staged != expected[:moved]:
            counts["interleaved"] += 1
            failures.append(f"round {rnd.n}: the staged bytes after the race are {_whose(staged, rnd, moved)}")
            return failures
        position = moved
        while position < rnd.length:
            resp = clients.patch(winner, url, position, expected[position:position + CHUNK])
            if resp is None or resp.status_code != 204:
                counts["continuation failures"] += 1
                return failures + [f"round {rnd.n}: the winner's PATCH at {position} answered "
                                   f"{resp.status_code if resp is not None else 'nothing'}: "
                                   f"{resp.text[:300] if resp is not None else ''}"]
            position = int(resp.headers["Upload-Offset"])
    else:
        counts["races on the last chunk"] += 1
    status = clients.status(winner, url)
    want = hashlib.sha256(expected).hexdigest()
    try:
        with store.open_original(status.get("sha256") or want) as original:
            kept = original.read()
    except BlobNotFound:
        kept = b""
    if status.get("state") != "complete" or status.get("sha256") != want or hashlib.sha256(kept).hexdigest() != want:
        counts["hash mismatches"] += 1
        failures.append(f"round {rnd.n}: state {status.get('state')}, sha256 {status.get('sha256')}, "
                        f"stored {_whose(kept, rnd, rnd.length)}; the winner ({winner}) sent {want}")
        if kept and kept not in (rnd.files["a"], rnd.files["b"]):
            counts["interleaved"] += 1
    return failures


def _staged(world: World, store: LocalBlobStore, url: str) -> bytes:
    with world.session() as s:
        staging_id = s.get(Upload, uuid.UUID(url.rsplit("/", 1)[-1])).staging_id
    with store.stage_open(staging_id) as staged:
        return staged.read()


def _whose(data: bytes, rnd: Round, upto: int) -> str:
    for who in "ab":
        if data == rnd.files[who][:upto]:
            return f"{who}'s, whole"
    return f"a mix ({len(data)} bytes), neither a's nor b's"


def run(world: World, server_url: str, evidence_dir: str, rounds: int, seed: int = 4) -> dict:
    """``rounds`` races against the server at ``server_url`` (which stores evidence in ``evidence_dir``)."""
    rng = random.Random(seed)
    image = source_image()
    clients = Clients(server_url, {"a": world.device(world.monitor_id, "phone A"),
                                   "b": world.device(world.monitor_id, "tablet B")})
    store = LocalBlobStore(Path(evidence_dir))
    nonce = uuid.uuid4().hex[:8]
    counts: Counter = Counter()
    failures: list[str] = []
    started = time.monotonic()
    for n in range(rounds):
        counts["rounds"] += 1
        try:
            failures += play(world, clients, store, plan_round(image, n, rng, nonce), counts)
        except (RuntimeError, requests.RequestException) as exc:
            counts["rounds broken off"] += 1
            failures.append(f"round {n}: {exc}")
    return {"counts": counts, "failures": failures, "seconds": time.monotonic() - started}


#: The order counts are printed in.
REPORTED = ("rounds", "204 winners", "423 losers", "409 losers", "losers whose answer was lost",
            "races on the last chunk", "interleaved", "hash mismatches", "offset inconsistencies", "5xx",
            "rounds without exactly one winner")


def report(result: dict) -> None:
    print_counts(result, REPORTED)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--database-url", help="an EMPTY database (default: a new PostGIS database on 127.0.0.1)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes (2 or more)")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--lease-seconds", type=float, help="the upload lease (default: the app's); a lease "
                        "shorter than a slow chunk lapses mid-chunk, leaving the store alone to keep writers apart")
    args = parser.parse_args(argv)
    if args.workers < 2:
        parser.error("--workers: at least 2, or the PATCHes never run at once")
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        url = args.database_url or stack.enter_context(fresh_postgis(prefix="fieldwatch_racing_patch"))
        evidence = f"{tmp}/evidence"
        world = build(url, evidence)
        stack.callback(world.close)
        config = {"UPLOAD_LOCK_SECONDS": args.lease_seconds} if args.lease_seconds else None
        served = stack.enter_context(gunicorn(url, evidence, Path(tmp), workers=args.workers, config=config))
        print(f"gunicorn: {args.workers} workers at {served.base_url}; {url.split('@')[-1]}")
        result = run(world, served.base_url, evidence, args.rounds, args.seed)
        errors = served.server_errors()
    result["counts"]["server errors logged"] = len(errors)
    result["failures"] += [f"server log: {line}" for line in errors[:10]]
    report(result)
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
