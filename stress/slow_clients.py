"""Slow and greedy clients: one user's idle connections, slow-drip uploads and extra uploads against another user's latency.

    scripts/stress-deps.sh   # nginx, once
    python -m stress.slow_clients [--idle 200] [--slow 12] [--slowloris 8] [--duration 30] [--storage s3|local]
                                  [--header-timeout 5] [--body-timeout 10] [--keepalive-timeout 10] [--direct]

gunicorn serves the app with deploy/gunicorn.conf.py (gthread) behind a real nginx started
by the harness with deploy/nginx.conf, the production reverse proxy (stress/proxy.py: only
the addresses, paths and, to keep the run short, client_header_timeout, client_body_timeout
and keepalive_timeout are rewritten; production has 10 s, 30 s and 30 s). With ``--direct``
the phones talk to gunicorn itself: what gunicorn and the app's own caps do alone (slow
request heads then starve its threads: that mode is expected to fail with --slowloris > 0).
A "polite" phone lists and submits
findings one request after another, first alone (baseline), then while a "greedy"
phone (another account) opens ``--idle`` connections that never send a byte,
``--slowloris`` connections that send their request head one byte a second,
``--slow`` tus PATCHes whose bodies drip in 1 KiB a second, and asks for more
unfinished uploads than it may have.

Checked: the greedy phone's PATCHes beyond UPLOAD_MAX_STREAMS_PER_USER answer 429 (limit
``streams``) and its creations beyond UPLOAD_MAX_OPEN_PER_USER 429 (``open_uploads``),
with Retry-After and a problem body, before their bodies have arrived (behind nginx, a
PATCH beyond nginx's per-token ``limit_conn`` is refused by nginx with the same problem,
limit ``connections``); every polite request succeeds; and the polite p95 latency stays
within ``--slack`` times the baseline p95 plus 250 ms. Behind nginx also: every slow request
head is cut within ``--header-timeout`` + 3 s, and every idle connection is closed by the
end. Prints p50/p95/max before and during, the greedy phone's answers, and how many idle
connections and slow heads the server closed; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import base64
import json
import select
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import requests

from .proxy import Nginx
from .serve import build_stack, member_token
from .world import finding

TUS = {"Tus-Resumable": "1.0.0"}
DRIP = 1024
DRIP_EVERY_S = 1.0
UPLOAD_LENGTH = 1 << 20


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


def polite(base: str, token: str, unit_id: uuid.UUID, seconds: float) -> tuple[list[float], Counter]:
    """One request after another for ``seconds``: a list, then a submission. Latencies and statuses."""
    headers = {"Authorization": f"Bearer {token}"}
    latencies, statuses = [], Counter()
    end = time.monotonic() + seconds
    session = requests.Session()
    while time.monotonic() < end:
        for send in (lambda: session.get(f"{base}/api/v1/findings?limit=20", headers=headers, timeout=60),
                     lambda: session.post(f"{base}/api/v1/findings", json=finding(unit_id, uuid.uuid4()),
                                          headers=headers, timeout=60)):
            started = time.monotonic()
            try:
                statuses[send().status_code] += 1
            except requests.RequestException as exc:
                statuses[type(exc).__name__] += 1
            latencies.append(time.monotonic() - started)
    return latencies, statuses


def _create(base: str, token: str) -> requests.Response:
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}"
                    for k, v in {"kind": "photo", "record_id": str(uuid.uuid4())}.items())
    return requests.post(f"{base}/api/v1/uploads", headers={
        **TUS, "Authorization": f"Bearer {token}", "Upload-Length": str(UPLOAD_LENGTH), "Upload-Metadata": meta},
        timeout=60)


def _status_of(raw: bytes) -> tuple[int, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    try:
        problem = json.loads(body.decode() or "{}")
    except ValueError:
        problem = {}
    return int(lines[0].split()[1]), {**headers, "problem": problem}


def _response(sock: socket.socket) -> bytes:
    """A whole response (head and Content-Length body) from a blocking socket."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = sock.recv(65536)
        if not chunk:
            return raw
        raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def slow_patch(port: int, token: str, url: str, stop: threading.Event, answers: list) -> None:
    """PATCH ``url`` with a body that drips in DRIP bytes every DRIP_EVERY_S, until answered or stopped."""
    path = url[url.index("/api/"):]
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    started = time.monotonic()
    try:
        sock.sendall((f"PATCH {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
                      f"Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n"
                      f"Content-Length: {UPLOAD_LENGTH}\r\n\r\n").encode())
        sent = 0
        while not stop.is_set() and sent < UPLOAD_LENGTH:
            readable, _, _ = select.select([sock], [], [], DRIP_EVERY_S)
            if readable:
                raw = _response(sock)
                if raw:
                    answers.append((*_status_of(raw), time.monotonic() - started, sent))
                return
            try:
                sock.sendall(b"d" * DRIP)
            except OSError:
                answers.append((0, {}, time.monotonic() - started, sent))  # the server cut us off
                return
            sent += DRIP
        answers.append(("dripping", {}, time.monotonic() - started, sent))
    finally:
        sock.close()


def slowloris(port: int, stop: threading.Event, closed: list) -> None:
    """A request head sent one byte a second; notes when the server closes the connection."""
    head = f"GET /api/v1/findings HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Padding: {'p' * 200}\r\n\r\n".encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    started = time.monotonic()
    try:
        for byte in head:
            if stop.is_set():
                return
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed.append(time.monotonic() - started)
                return
            readable, _, _ = select.select([sock], [], [], 1.0)
            if readable and not sock.recv(4096):
                closed.append(time.monotonic() - started)
                return
    finally:
        sock.close()


def run(args) -> int:
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="fieldwatch-slow-") as tmp:
        stack = build_stack(Path(tmp), storage=args.storage)
        server = proxy = None
        try:
            _, polite_token = member_token(stack.world.app, "polite")
            _, greedy_token = member_token(stack.world.app, "greedy")
            server = stack.gunicorn(GUNICORN_WORKERS=str(args.workers), GUNICORN_THREADS=str(args.threads),
                                    **({} if args.direct else {"TRUSTED_PROXIES": "1"}))
            server.start()
            front = server
            if not args.direct:
                proxy = Nginx(server.port, {"client_header_timeout": f"{args.header_timeout}s",
                                            "client_body_timeout": f"{args.body_timeout}s",
                                            "keepalive_timeout": f"{args.keepalive_timeout}s"})
                proxy.start()
                front = proxy
            config = stack.config()
            streams_cap, open_cap = config["UPLOAD_MAX_STREAMS_PER_USER"], config["UPLOAD_MAX_OPEN_PER_USER"]
            unit_id = stack.world.unit_id
            polite(front.base, polite_token, unit_id, 3)  # warm the workers and pools
            base_lat, base_status = polite(front.base, polite_token, unit_id, args.duration / 2)

            stop = threading.Event()
            idle = []
            for _ in range(args.idle):
                idle.append(socket.create_connection(("127.0.0.1", front.port), timeout=60))
            loris_closed: list[float] = []
            threads = [threading.Thread(target=slowloris, args=(front.port, stop, loris_closed), daemon=True)
                       for _ in range(args.slowloris)]
            creations = [_create(front.base, greedy_token) for _ in range(max(args.slow, open_cap) + 3)]
            created = [r.headers["Location"] for r in creations if r.status_code == 201]
            answers: list = []
            threads += [threading.Thread(target=slow_patch, args=(front.port, greedy_token, url, stop, answers),
                                         daemon=True) for url in created[: args.slow]]
            for t in threads:
                t.start()
            time.sleep(2)  # the drips are under way
            during_lat, during_status = polite(front.base, polite_token, unit_id, args.duration)
            stop.set()
            for t in threads:
                t.join(30)
            idle_closed = 0
            for sock in idle:
                sock.setblocking(False)
                try:
                    idle_closed += sock.recv(1) == b""
                except BlockingIOError:
                    pass
                except OSError:
                    idle_closed += 1
                sock.close()
            proxy_errors = proxy.error_log() if proxy is not None else ""
        finally:
            if proxy is not None:
                proxy.stop()
            if server is not None:
                server.stop()
            stack.close()

    creation_statuses = Counter(r.status_code for r in creations)
    capped_creations = [r for r in creations if r.status_code == 429]
    for r in capped_creations:
        body = r.json()
        if body.get("limit") != "open_uploads" or "Retry-After" not in r.headers:
            failures.append(f"a creation over the cap answered 429 without naming open_uploads: {body}")
    if len(created) > open_cap:
        failures.append(f"{len(created)} uploads created, the cap is {open_cap}")
    if not capped_creations:
        failures.append("no creation was refused beyond the open-upload cap")
    patch_statuses = Counter(a[0] for a in answers)
    capped = [a for a in answers if a[0] == 429]
    # Behind nginx, its per-token limit_conn may refuse a PATCH before the app's stream cap does.
    allowed_limits = {"streams"} if args.direct else {"streams", "connections"}
    capped_by = Counter(a[1]["problem"].get("limit") for a in capped)
    for status, headers, seconds, sent in capped:
        if headers["problem"].get("limit") not in allowed_limits or "retry-after" not in headers:
            failures.append(f"a capped PATCH answered 429 without naming {'/'.join(sorted(allowed_limits))}: "
                            f"{headers['problem']}")
        if sent >= UPLOAD_LENGTH:
            failures.append(f"a capped PATCH was answered only after its whole body ({seconds:.1f} s)")
    if len(created[: args.slow]) > streams_cap and len(capped) < len(created[: args.slow]) - streams_cap:
        failures.append(f"{len(capped)} PATCHes capped of {len(created[: args.slow])}; at most {streams_cap} "
                        "may stream at once")
    for statuses, name in ((base_status, "baseline"), (during_status, "during")):
        bad = {k: v for k, v in statuses.items() if k not in (200, 201)}
        if bad:
            failures.append(f"polite requests {name} failed: {bad}")
    if not args.direct:
        if len(loris_closed) < args.slowloris:
            failures.append(f"nginx cut {len(loris_closed)} of {args.slowloris} slow request heads")
        late = [s for s in loris_closed if s > args.header_timeout + 3]
        if late:
            failures.append(f"{len(late)} slow heads were cut only after {max(late):.0f} s "
                            f"(client_header_timeout {args.header_timeout} s)")
        if idle_closed < args.idle:
            failures.append(f"nginx closed {idle_closed} of {args.idle} idle connections")
    base_p95, during_p95 = _percentile(base_lat, 0.95), _percentile(during_lat, 0.95)
    if during_p95 > args.slack * base_p95 + 0.25:
        failures.append(f"polite p95 rose from {base_p95 * 1000:.0f} ms to {during_p95 * 1000:.0f} ms")

    front_name = "gunicorn" if args.direct else "nginx"
    print("front: gunicorn directly" if args.direct else
          f"front: nginx (deploy/nginx.conf), client_header_timeout {args.header_timeout} s, "
          f"client_body_timeout {args.body_timeout} s, keepalive_timeout {args.keepalive_timeout} s")
    print(f"storage: {args.storage}  workers: {args.workers}x{args.threads} threads  caps: {streams_cap} streams, "
          f"{open_cap} open uploads per user")
    for name, lat in (("baseline", base_lat), ("during", during_lat)):
        print(f"  polite {name:8s} requests: {len(lat):4d}  p50 {statistics.median(lat) * 1000:6.0f} ms  "
              f"p95 {_percentile(lat, 0.95) * 1000:6.0f} ms  max {max(lat) * 1000:6.0f} ms")
    print(f"  greedy: {args.idle} idle connections (closed by {front_name} by the end: {idle_closed}), "
          f"{args.slowloris} slow request heads (closed by {front_name}: {len(loris_closed)}"
          f"{f', after {min(loris_closed):.0f}-{max(loris_closed):.0f} s' if loris_closed else ''})")
    print(f"  greedy creations: {dict(sorted(creation_statuses.items()))}  slow PATCHes: "
          f"{dict(sorted(Counter(str(k) for k in patch_statuses.elements()).items()))}  "
          f"429s by limit: {dict(capped_by)}, answered after {max((a[2] for a in capped), default=0):.2f} s at most")
    if proxy_errors:
        print(f"  nginx error log: {proxy_errors.count('limiting connections')} requests refused by limit_conn")
    print(f"failures: {len(failures)}")
    for line in failures[:30]:
        print("  " + line)
    return 1 if failures else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=200, help="connections that never send a byte")
    parser.add_argument("--slow", type=int, default=12, help="tus PATCHes whose bodies drip in")
    parser.add_argument("--slowloris", type=int, default=8, help="connections sending their head a byte a second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of polite requests while greedy")
    parser.add_argument("--slack", type=float, default=2.0, help="polite p95 may grow to this times the baseline")
    parser.add_argument("--storage", choices=("s3", "local"), default="s3")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--direct", action="store_true", help="no nginx: the phones talk to gunicorn itself")
    parser.add_argument("--header-timeout", type=int, default=5, help="nginx client_header_timeout, seconds")
    parser.add_argument("--body-timeout", type=int, default=10, help="nginx client_body_timeout, seconds")
    parser.add_argument("--keepalive-timeout", type=int, default=10, help="nginx keepalive_timeout, seconds")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
