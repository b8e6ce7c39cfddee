"""The app as production runs it, for harnesses: gunicorn worker processes on a loopback socket.

``gunicorn(database_url, evidence_dir)`` binds a socket on 127.0.0.1 port 0 itself and hands it
to gunicorn as ``fd://`` (no race for a port), waits for /healthz, yields where it answers and
stops the master by its own pid on the way out. ``fresh_postgis()`` makes a PostGIS database of
the harness's own on the local server and drops it afterwards (``drop_database``).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from field.core.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
#: How long gunicorn and its workers' imports may take to answer /healthz.
START_TIMEOUT_S = 60.0
#: Lines of gunicorn's log that mean a request failed on the server, whatever the client saw.
_SERVER_ERROR = re.compile(r"Traceback|\[ERROR\]|WORKER TIMEOUT|\[CRITICAL\]|database unavailable|database error|"
                           r"unhandled error")


@dataclass
class Served:
    base_url: str
    master: subprocess.Popen
    workers: int
    log: Path

    def server_errors(self) -> list[str]:
        """Lines of the server's log reporting an exception, an error or a killed worker."""
        if not self.log.exists():
            return []
        return [line for line in self.log.read_text(errors="replace").splitlines() if _SERVER_ERROR.search(line)]


def wait_ready(base_url: str, master: subprocess.Popen, log: Path) -> None:
    """Until ``base_url``/healthz answers 200; the log's tail in the error if gunicorn exits or stays silent."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if master.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {master.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(base_url + "/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT_S:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


def stop_process(process: subprocess.Popen | None, grace: float = 15.0) -> None:
    """Stop one process we started, by its pid: TERM (gunicorn stops its workers), then KILL after ``grace``."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


@contextmanager
def gunicorn(database_url: str, evidence_dir: str, tmp: Path, *, workers: int = 4, threads: int = 1,
             config: dict | None = None) -> Iterator[Served]:
    """gunicorn serving ``wsgi:app`` on ``database_url`` with local evidence under ``evidence_dir``.

    Sync workers (one request at a time each, the production Dockerfile's default) unless
    ``threads`` > 1 (gthread). ``config``: settings that have no environment variable
    (literals only), given to the app factory instead of ``wsgi:app``.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "EVIDENCE_", "DATABASE_URL"))}
    env.update(DATABASE_URL=database_url, SECRET_KEY="stress", EVIDENCE_STORAGE="local",
               EVIDENCE_DIR=evidence_dir, PYTHONUNBUFFERED="1")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    log = tmp / f"gunicorn-{uuid.uuid4().hex[:8]}.log"
    args = [sys.executable, "-m", "gunicorn", "--bind", f"fd://{listener.fileno()}", "--workers", str(workers),
            "--backlog", "1024", "--timeout", "120", "--graceful-timeout", "5", "--error-logfile", str(log),
            "--log-level", "warning"]
    if threads > 1:
        args += ["--worker-class", "gthread", "--threads", str(threads)]
    try:
        with open(log, "ab") as out:
            app = f"api:create_app({config!r})" if config else "wsgi:app"
            master = subprocess.Popen([*args, app], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, pass_fds=(listener.fileno(),))
        try:
            base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
            wait_ready(base_url, master, log)
            yield Served(base_url, master, workers, log)
        finally:
            stop_process(master)
    finally:
        listener.close()


@contextmanager
def fresh_postgis(server: str = "postgresql://postgres@127.0.0.1:5432", prefix: str = "fieldwatch_stress"
                  ) -> Iterator[str]:
    """An empty database with PostGIS on ``server``, dropped on the way out; yields its URL."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    base = make_url(server)
    admin = make_engine(base.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    admin.dispose()
    try:
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        engine.dispose()
        yield url
    finally:
        drop_database(url)


def drop_database(url: str) -> None:
    """Drop a PostgreSQL database, its connections too; a SQLite file is left to its folder."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()
