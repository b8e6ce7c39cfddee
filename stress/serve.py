"""What the server-level harnesses run against: gunicorn, a private PostgreSQL, a private SeaweedFS.

Not a harness itself; stress/crash_upload.py, stress/outages.py and stress/slow_clients.py
use it. Everything listens on loopback on free ports, lives in its own temporary folder
and is stopped by the process ids it started (the machine's own PostgreSQL is never
touched: the private cluster is the one stopped in outages).

gunicorn runs with deploy/gunicorn.conf.py (the production settings) in a process group
of its own, so ``kill()`` can SIGKILL the master and every worker at once, as a power
cut would. The app comes from ``harness_app()``, which is ``api.create_app`` with the
overrides found in FIELDWATCH_OVERRIDES (JSON): settings the environment cannot carry,
such as a short upload lease.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
#: The system account that owns the private cluster (initdb refuses to run as root).
PG_OS_USER = "postgres"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def harness_app():
    """``gunicorn 'stress.serve:harness_app()'``: the app with FIELDWATCH_OVERRIDES applied."""
    from api import create_app

    return create_app(json.loads(os.environ.get("FIELDWATCH_OVERRIDES") or "{}"))


# -- a private PostgreSQL cluster ------------------------------------------------------------------


@dataclass
class PrivatePostgres:
    """A PostgreSQL 15 cluster of our own in ``root``, on its own port; stopping it harms no one."""

    root: Path
    port: int
    database: str = "fieldwatch"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", PG_OS_USER, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr or done.stdout}")
        return done

    @classmethod
    def create(cls) -> PrivatePostgres:
        # In the system temp dir, not the harness's (mode 700, root's): the cluster's owner must reach it.
        root = Path(tempfile.mkdtemp(prefix="fieldwatch-pg-"))
        pg = cls(root, free_port())
        if os.geteuid() == 0:
            shutil.chown(root, PG_OS_USER)
        pg._run(str(PG_BIN / "initdb"), "-D", str(pg.data), "-U", "postgres", "--auth=trust",
                "--encoding=UTF8", "--locale=C.UTF-8")
        pg.start()
        pg._run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", pg.database)
        pg._run(str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", pg.database,
                "-c", "CREATE EXTENSION postgis")
        return pg

    def start(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "postgres.log"), "-w",
                  "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200 "
                        "-c fsync=on", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


# -- gunicorn --------------------------------------------------------------------------------------


@dataclass
class Gunicorn:
    """gunicorn serving the app on a loopback port with the production settings file."""

    env: dict[str, str]
    port: int = field(default_factory=free_port)
    log_path: Path | None = None
    app_spec: str = "stress.serve:harness_app()"
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait_s: float = 60.0) -> None:
        env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "GUNICORN_ACCESSLOG": "",
               "PYTHONPATH": str(ROOT), **self.env}
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), self.app_spec],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)  # its own process group: kill() reaches every worker
        finally:
            if log is not subprocess.DEVNULL:
                log.close()
        self.starts += 1
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=1).close()
                return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer within {wait_s} s; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL the master and all its workers at once (the whole process group)."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)
        self._reap_group()

    def stop(self) -> None:
        """A graceful stop (SIGTERM to the master), then SIGKILL to what is left of the group."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def _reap_group(self) -> None:
        # Workers orphaned by a killed master are in the same group; wait until none is left.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            time.sleep(0.05)


# -- people ----------------------------------------------------------------------------------------


def member_token(app, username_hint: str) -> tuple[uuid.UUID, str]:
    """A new squad member of the world's squad (its own user), and a bearer token of theirs."""
    from sqlalchemy import select

    from field.accounts import users as accounts
    from field.directory import squads
    from field.directory.models import Squad
    from field.core.models.platform import User

    from .world import PASSWORD

    with app.extensions["SESSION_FACTORY"]() as s:
        admin = s.execute(select(User).where(User.username == "admin")).scalar_one()
        squad = s.execute(select(Squad).limit(1)).scalar_one()
        member = squads.enlist(s, admin, squad, real_name=username_hint,
                               phone=f"139{uuid.uuid4().int % 10**8:08d}", password=PASSWORD)
        s.flush()
        user = s.get(User, member.user_id)
        token = accounts.issue_token(s, user, "phone", timedelta(days=1)).token
        s.commit()
        return user.id, token


# -- the whole stack -------------------------------------------------------------------------------


@dataclass
class Stack:
    """A database, an evidence store, a world of users in it, and the environment gunicorn serves it with."""

    tmp: Path
    database_url: str
    env: dict[str, str]
    world: object
    postgres: PrivatePostgres | None = None
    seaweed: object | None = None

    def config(self) -> dict:
        from api.config import load_config

        return load_config(self.env)

    def store(self):
        """The evidence store gunicorn uses, for the harness's own checks."""
        from evidence.storage import make_blob_store

        return make_blob_store(self.config())

    def cli(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """``fieldwatch <args>`` against this stack (the production command line)."""
        return subprocess.run([sys.executable, "-c", "from cli import main; main()", *args], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT), **self.env}, capture_output=True,
                              text=True, timeout=timeout)

    def gunicorn(self, overrides: dict | None = None, **gunicorn_env: str) -> Gunicorn:
        env = {**self.env, "FIELDWATCH_OVERRIDES": json.dumps(overrides or {}), **gunicorn_env}
        return Gunicorn(env, log_path=self.tmp / "gunicorn.log")

    def close(self) -> None:
        self.world.close()
        if self.seaweed is not None:
            self.seaweed.stop()
        if self.postgres is not None:
            self.postgres.destroy()


def build_stack(tmp: Path, *, storage: str = "s3", database_url: str | None = None) -> Stack:
    """A private PostgreSQL (or ``database_url``, an EMPTY database), SeaweedFS or a folder, and a world."""
    from .world import build

    postgres = seaweed = None
    try:
        if database_url is None:
            postgres = PrivatePostgres.create()
            database_url = postgres.url
        env = {"DATABASE_URL": database_url, "SECRET_KEY": "stress", "EVIDENCE_DIR": str(tmp / "evidence"),
               "EVIDENCE_STORAGE": storage, "RATELIMIT_STORAGE_URI": "memory://"}
        if storage == "s3":
            sys.path.insert(0, str(ROOT))
            from evidence.s3_store import S3BlobStore
            from tests.seaweed import start_seaweed

            seaweed = start_seaweed(tmp / "seaweed")
            env.update(S3_ENDPOINT_URL=seaweed.endpoint_url, S3_ACCESS_KEY=seaweed.access_key,
                       S3_SECRET_KEY=seaweed.secret_key, S3_BUCKET="fieldwatch-stress")
            warm = S3BlobStore(seaweed.endpoint_url, "fieldwatch-stress", seaweed.access_key, seaweed.secret_key)
            warm.ensure_bucket()
            # SeaweedFS grows the bucket's first volumes on its first write, and may refuse writes
            # meanwhile: have that happen before the harness measures anything.
            for _ in range(50):
                try:
                    warm.client.put_object(Bucket="fieldwatch-stress", Key="warm-up", Body=b"x")
                    warm.client.delete_object(Bucket="fieldwatch-stress", Key="warm-up")
                    break
                except Exception:  # noqa: BLE001 - not yet
                    time.sleep(0.2)
        world = build(database_url, str(tmp / "evidence"))
    except BaseException:
        if seaweed is not None:
            seaweed.stop()
        if postgres is not None:
            postgres.destroy()
        raise
    return Stack(tmp, database_url, env, world, postgres, seaweed)


def photos(limit: int | None = None) -> list[Path]:
    """Photos of the shared corpus a phone would send (not the broken ones), smallest first."""
    from tests import corpus as corpus_dir
    from tests.evidence_fixtures import corpus

    chosen = sorted((p.path for p in corpus() if p.folder != "broken_odd" and p.pillow_format),
                    key=lambda path: path.stat().st_size)
    if not chosen:
        corpus_dir.require()  # exits naming the path looked at and FIELDWATCH_PHOTOS
        raise SystemExit(f"the photo corpus at {corpus_dir.PHOTOS} lists no photo a phone would send")
    return chosen[:limit] if limit else chosen
