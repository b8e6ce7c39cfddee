"""The production shape the HTTP benchmarks talk to: gunicorn on PostGIS, SeaweedFS or local storage, the derive worker.

    python -m bench.serve [--storage s3|local] [--workers N] [--threads T]   # serve until Ctrl-C

``serving(...)`` makes a fresh PostGIS database ``fieldwatch_bench_<name>``, migrates it, adds a
district with an admin, a squad member and a unit (stress/world.py), starts SeaweedFS on
loopback when asked (tests/seaweed.py), then gunicorn on a loopback socket it binds itself
(port 0, handed over as ``fd://``), and optionally ``fieldwatch derive --follow``. Every process
it started is stopped by its own pid on the way out, and the database is dropped.

Gunicorn's worker count: ``DEFAULT_WORKERS`` sync-like processes, each with ``DEFAULT_THREADS``
threads (gthread). A request spends much of its time waiting for PostgreSQL (a finding is
one transaction: the token, idempotency key, record and stored answer together), so threads
overlap those waits; more processes than cores only add context switches on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from stress.served import drop_database, stop_process, wait_ready

from .common import DB_PREFIX, ROOT, Options, fresh_pg_database

#: Gunicorn processes and threads per process: one process per core, plus one to cover
#: the moments a process holds the GIL while its threads wait on the database.
DEFAULT_WORKERS = (os.cpu_count() or 2) + 1
DEFAULT_THREADS = 4
#: How long gunicorn (and its workers' imports) may take to answer /healthz.
START_TIMEOUT_S = 60.0


@dataclass
class Served:
    """A running fieldwatch: where it answers and who may call it."""

    base_url: str
    database_url: str
    tokens: list[str]             # one bearer token per phone: squad members (findings, uploads)
    unit_id: str                  # a unit the member may report on
    jurisdiction_id: str
    master: subprocess.Popen
    workers: int
    threads: int
    storage: str
    env: dict
    tmp: Path
    s3: dict = field(default_factory=dict)   # endpoint_url, bucket, access_key, secret_key, prefix
    derive: subprocess.Popen | None = None

    @property
    def token(self) -> str:
        return self.tokens[0]

    @property
    def headers(self) -> dict:
        return self.phone(0)

    def phone(self, i: int) -> dict:
        """The Authorization header of phone ``i`` (modulo the phones there are)."""
        return {"Authorization": f"Bearer {self.tokens[i % len(self.tokens)]}"}

    def worker_pids(self) -> list[int]:
        """Gunicorn's worker processes (children of the master)."""
        pids: list[int] = []
        for task in Path(f"/proc/{self.master.pid}/task").iterdir():
            try:
                pids += [int(p) for p in (task / "children").read_text().split()]
            except OSError:
                continue
        return sorted(set(pids))

    def describe(self) -> str:
        return f"gunicorn {self.workers} worker(s) x {self.threads} thread(s) (gthread), PostGIS, {self.storage}"


def _env(database_url: str, tmp: Path, storage: str, s3: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "EVIDENCE_", "DATABASE_URL"))}
    env.update(DATABASE_URL=database_url, SECRET_KEY="bench", EVIDENCE_STORAGE=storage,
               EVIDENCE_DIR=str(tmp / "evidence"), TMPDIR=str(tmp / "spool"), PYTHONUNBUFFERED="1")
    (tmp / "spool").mkdir(parents=True, exist_ok=True)
    if storage == "s3":
        env.update(S3_ENDPOINT_URL=s3["endpoint_url"], S3_BUCKET=s3["bucket"], S3_ACCESS_KEY=s3["access_key"],
                   S3_SECRET_KEY=s3["secret_key"], S3_PREFIX=s3["prefix"])
    return env


def _world(database_url: str, tmp: Path, phones: int) -> tuple[list[str], str, str]:
    """Migrate and populate: ``phones`` squad members, each with a device token; the unit's and district's ids."""
    from datetime import timedelta

    from sqlalchemy import select

    from field.accounts import users as accounts
    from field.directory import squads
    from field.directory.models import Squad, Unit
    from field.core.models.platform import User
    from stress.world import PASSWORD, build

    world = build(database_url, str(tmp / "evidence"))
    try:
        tokens = [world.monitor_headers["Authorization"].split(" ", 1)[1]]
        with world.app.extensions["SESSION_FACTORY"]() as s:
            admin = s.execute(select(User).where(User.username == "admin")).scalar_one()
            squad = s.execute(select(Squad)).scalars().first()
            for i in range(1, phones):
                member = squads.enlist(s, admin, squad, real_name=f"监督员{i}", password=PASSWORD)
                s.flush()
                tokens.append(accounts.issue_token(s, s.get(User, member.user_id), f"phone {i}",
                                                   timedelta(days=1)).token)
            jurisdiction_id = s.get(Unit, world.unit_id).jurisdiction_id
            s.commit()
        return tokens, str(world.unit_id), str(jurisdiction_id)
    finally:
        world.close()


@contextmanager
def gunicorn(env: dict, tmp: Path, *, workers: int = DEFAULT_WORKERS, threads: int = DEFAULT_THREADS,
             extra_args: tuple[str, ...] = ()) -> Iterator[tuple[subprocess.Popen, str]]:
    """Gunicorn with the production settings on a loopback socket bound here (port 0, handed over as
    ``fd://``), serving ``env["DATABASE_URL"]``: (master, base URL), stopped by its pid on exit."""
    with ExitStack() as stack:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(2048)
        stack.callback(listener.close)
        port = listener.getsockname()[1]
        log = tmp / "gunicorn.log"
        bin_dir = Path(sys.executable).parent
        args = [str(bin_dir / "gunicorn"), "--bind", f"fd://{listener.fileno()}", "--workers", str(workers),
                "--worker-class", "gthread", "--threads", str(threads), "--backlog", "2048",
                "--keep-alive", "30", "--timeout", "600", "--graceful-timeout", "5",
                "--error-logfile", str(log), "--log-level", "warning", *extra_args, "wsgi:app"]
        with open(log, "ab") as out:
            master = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, pass_fds=(listener.fileno(),))
        stack.callback(stop_process, master)
        base_url = f"http://127.0.0.1:{port}"
        wait_ready(base_url, master, log)
        try:
            yield master, base_url
        except BaseException:
            # The server's side of a failure (its log goes with the temporary folder).
            print(f"gunicorn's log ({log}):\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
            raise


@dataclass
class Gunicorn:
    """A gunicorn serving a database made elsewhere."""

    base_url: str
    master: subprocess.Popen

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the master's workers so far (from /proc, 1/100 s resolution)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for task in Path(f"/proc/{self.master.pid}/task").iterdir():
            try:
                children = [int(p) for p in (task / "children").read_text().split()]
            except OSError:
                continue
            for pid in children:
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks


@contextmanager
def serving_database(opts: Options, database_url: str, name: str, *, workers: int = DEFAULT_WORKERS,
                     threads: int = DEFAULT_THREADS) -> Iterator[Gunicorn]:
    """Gunicorn (production settings, local storage) on a database made elsewhere (a seeded one, PostGIS
    or SpatiaLite, which gunicorn's processes read alike), left as it is."""
    opts.workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"{name}-", dir=opts.workdir) as tmp:
        env = _env(database_url, Path(tmp), "local", {})
        with gunicorn(env, Path(tmp), workers=workers, threads=threads) as (master, base_url):
            yield Gunicorn(base_url, master)


@contextmanager
def serving(opts: Options, name: str, *, storage: str = "local", workers: int = DEFAULT_WORKERS,
            threads: int = DEFAULT_THREADS, derive: bool = False, phones: int = 1, keep_database: bool = False,
            extra_args: tuple[str, ...] = ()) -> Iterator[Served]:
    """Everything a benchmark needs to talk HTTP to fieldwatch; torn down on exit."""
    db_name = f"{DB_PREFIX}_{name}"
    opts.workdir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"{name}-", dir=opts.workdir)))
        database_url = fresh_pg_database(db_name, opts.pg_server)
        if not keep_database:
            stack.callback(drop_database, database_url)
        tokens, unit_id, jurisdiction_id = _world(database_url, tmp, phones)
        s3: dict = {}
        if storage == "s3":
            from evidence.s3_store import S3BlobStore
            from tests.seaweed import start_seaweed

            server = start_seaweed(tmp / "seaweed")
            stack.callback(server.stop)
            s3 = {"endpoint_url": server.endpoint_url, "bucket": "fieldwatch-bench", "access_key": server.access_key,
                  "secret_key": server.secret_key, "prefix": f"bench-{name}"}
            S3BlobStore(s3["endpoint_url"], s3["bucket"], s3["access_key"], s3["secret_key"]).ensure_bucket()
        env = _env(database_url, tmp, storage, s3)
        master, base_url = stack.enter_context(gunicorn(env, tmp, workers=workers, threads=threads,
                                                        extra_args=extra_args))

        worker = None
        bin_dir = Path(sys.executable).parent
        if derive:
            with open(tmp / "derive.log", "ab") as out:
                worker = subprocess.Popen([str(bin_dir / "fieldwatch"), "derive", "--follow", "--interval", "0.5"],
                                          cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL)
            stack.callback(stop_process, worker)
        yield Served(base_url=base_url, database_url=database_url, tokens=tokens, unit_id=unit_id,
                     jurisdiction_id=jurisdiction_id, master=master, workers=workers, threads=threads,
                     storage=storage, env=env, tmp=tmp, s3=s3, derive=worker)


class Client:
    """One keep-alive HTTP/1.1 connection, one request at a time, as a phone or a browser tab holds it.

    ``get`` times from sending the request to having read the whole body (loopback TCP, gunicorn's
    gthread dispatch, the app, the database, the answer's bytes); parsing the JSON comes after the
    clock stops. A connection the server closed is opened again (that request then pays for it).
    """

    def __init__(self, base_url: str, headers: dict | None = None):
        from urllib.parse import urlsplit

        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.headers = dict(headers or {})
        self.cookies: dict[str, str] = {}   # a browser's, kept by name (the console's session)
        self._conn = None

    def _sent(self, headers: dict | None) -> dict:
        sent = {**self.headers, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return sent

    def _remember(self, resp) -> None:
        from http.cookies import SimpleCookie

        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                for morsel in SimpleCookie(value).values():
                    self.cookies[morsel.key] = morsel.value

    def get(self, path: str, query: dict | None = None, headers: dict | None = None) -> tuple[int, dict, bytes, float]:
        """(status, headers, body, milliseconds)."""
        import http.client
        from urllib.parse import urlencode

        target = path + ("?" + urlencode(query) if query else "")
        sent = self._sent(headers)
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
            started = time.perf_counter()
            try:
                self._conn.request("GET", target, headers=sent)
                resp = self._conn.getresponse()
                body = resp.read()
            except (http.client.RemoteDisconnected, ConnectionError, http.client.CannotSendRequest):
                self.close()
                if attempt:
                    raise
                continue
            ms = (time.perf_counter() - started) * 1000
            self._remember(resp)
            if resp.getheader("Connection", "").lower() == "close":
                self.close()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body, ms
        raise AssertionError("unreachable")

    def post_form(self, path: str, form: dict, headers: dict | None = None) -> tuple[int, dict, bytes]:
        import http.client
        from urllib.parse import urlencode

        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
        self._conn.request("POST", path, body=urlencode(form),
                           headers={**self._sent(headers), "Content-Type": "application/x-www-form-urlencoded"})
        resp = self._conn.getresponse()
        self._remember(resp)
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", choices=("local", "s3"), default="local")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument("--derive", action="store_true", help="run the derive worker too")
    args = parser.parse_args(argv)
    with serving(Options(), "serve", storage=args.storage, workers=args.workers, threads=args.threads,
                 derive=args.derive) as served:
        print(f"{served.describe()} at {served.base_url}")
        print(f"squad member: Authorization: Bearer {served.token}   unit_id: {served.unit_id}")
        print("Ctrl-C stops everything and drops the database.")
        try:
            while served.master.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
