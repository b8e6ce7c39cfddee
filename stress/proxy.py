"""nginx with the production config (deploy/nginx.conf) in front of a harness's gunicorn.

Not a harness itself; stress/slow_clients.py uses it. The file is used as it is, with only
what must differ rewritten: the listen address (a free loopback port), the upstream (the
harness's gunicorn), the pid, log and temporary paths (a folder of the harness's own), and,
if asked, the client timeouts (so a run stays short). Each rewritten directive must occur
exactly once in deploy/nginx.conf, or the harness stops. nginx runs in the foreground
(``daemon off``) as a child process, with ``-p <folder> -c <generated conf>``, and is stopped
by its process id. scripts/stress-deps.sh installs it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .serve import ROOT, free_port

NGINX_CONF = ROOT / "deploy" / "nginx.conf"


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if not found:
        raise SystemExit("nginx is missing: run scripts/stress-deps.sh (or use --direct)")
    return found


def _replace(text: str, pattern: str, replacement: str) -> str:
    new, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    if count != 1:
        raise SystemExit(f"deploy/nginx.conf: expected one match of {pattern!r}, found {count}")
    return new


def harness_conf(upstream_port: int, port: int, folder: Path, timeouts: dict[str, str]) -> str:
    """deploy/nginx.conf pointed at 127.0.0.1:``upstream_port``, listening on ``port``, living in ``folder``."""
    text = NGINX_CONF.read_text()
    text = _replace(text, r"^(\s*)server app:8000;", rf"\1server 127.0.0.1:{upstream_port};")
    text = _replace(text, r"^(\s*)listen 80;", rf"\1listen 127.0.0.1:{port};")
    text = _replace(text, r"^pid [^;]*;", f"pid {folder / 'nginx.pid'};\ndaemon off;")
    text = _replace(text, r"^error_log [^;]*;", f"error_log {folder / 'error.log'} warn;")
    text = _replace(text, r"^(\s*)access_log [^;]*;", rf"\1access_log {folder / 'access.log'};")
    temp = "".join(f"\n    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                            "uwsgi", "scgi"))
    text = _replace(text, r"^http \{", "http {" + temp)
    for directive, value in timeouts.items():
        text = _replace(text, rf"^(\s*){directive} [^;]*;", rf"\g<1>{directive} {value};")
    return text


@dataclass
class Nginx:
    """nginx in front of gunicorn on ``upstream_port``; ``timeouts`` rewrites e.g. client_header_timeout."""

    upstream_port: int
    timeouts: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    folder: Path | None = None
    process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait_s: float = 30.0) -> None:
        # Its own world-readable folder: nginx's workers run as an unprivileged user when we are root.
        self.folder = Path(tempfile.mkdtemp(prefix="fieldwatch-nginx-"))
        self.folder.chmod(0o755)
        conf = self.folder / "nginx.conf"
        conf.write_text(harness_conf(self.upstream_port, self.port, self.folder, self.timeouts))
        binary = nginx_binary()
        check = subprocess.run([binary, "-t", "-q", "-p", str(self.folder), "-c", str(conf)],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t refused the generated configuration: {check.stderr}")
        self.process = subprocess.Popen([binary, "-p", str(self.folder), "-c", str(conf)],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=open(self.folder / "stderr.log", "wb"))
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.process.returncode}: "
                                   f"{(self.folder / 'error.log').read_text(errors='replace')[-2000:]}")
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=1).close()
                return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise RuntimeError(f"nginx did not answer within {wait_s} s")

    def error_log(self) -> str:
        path = self.folder / "error.log" if self.folder else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    def stop(self) -> None:
        """SIGQUIT (graceful), then SIGKILL the master if it lingers; its workers leave with it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(5)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(5)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
