"""Benchmark 7, memory: a 500 MB video uploaded with tuspy in chunks (serving worker's RSS growth), and a photo's peak RSS.

    python -m bench.memory [--quick]

Upload: a valid MP4 container (an ``ftyp`` box, brand isom, then one ``mdat`` box of random
bytes: evidence/sniff.py accepts it as video/mp4) of 500 MB (quick: 50 MB), sent with tuspy's
uploader in 8 MiB PATCHes to gunicorn with ONE worker process (so its pid is known) on
PostGIS with SeaweedFS, the production shape. A thread samples the worker's VmRSS every
20 ms; growth = the highest RSS seen (or the worker's VmHWM, if it rose during the upload)
minus its RSS just before, after a small warm-up upload has loaded everything an upload
uses. Target: at most 20 MB. The bytes are staged, promoted and hashed through temporary
files and streamed to S3 (evidence/storage.py reads 1 MiB at a time), so memory stays flat.

Photo: the largest photo of the corpus (most pixels) through ``evidence.photo.process_photo``
(facts, thumbnail, preview, perceptual hash) in a fresh interpreter: its peak RSS (VmHWM)
and the growth over the interpreter's RSS once everything is imported. Reference: a fresh
interpreter that only decodes the same file fully with Pillow (``Image.open(...).load()``).
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from tests import corpus

from .common import PHOTOS, ROOT, Options, Row, main_of
from .serve import Served, serving

NAME = "7 memory"
TARGET_MB = 20.0
CHUNK = 8 << 20
SAMPLE_S = 0.02


def make_video(path: Path, size: int) -> None:
    """An MP4 of exactly ``size`` bytes: ftyp (isom) and one mdat of random 1 MiB blocks (each numbered)."""
    ftyp = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"isom", 0x200, b"isom", b"mp41")
    payload = size - len(ftyp) - 8
    block = os.urandom(1 << 20)
    with open(path, "wb") as out:
        out.write(ftyp)
        out.write(struct.pack(">I4s", payload + 8, b"mdat"))
        written, n = 0, 0
        while written < payload:
            piece = struct.pack(">Q", n) + block[8:]
            piece = piece[:payload - written]
            out.write(piece)
            written += len(piece)
            n += 1


def status_kb(pid: int) -> dict[str, int]:
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def tus_upload(served: Served, path: Path, chunk: int) -> str:
    from tusclient.client import TusClient

    client = TusClient(served.base_url + "/api/v1/uploads", headers=served.headers)
    uploader = client.uploader(file_path=str(path), chunk_size=chunk,
                               metadata={"kind": "video", "record_id": str(uuid.uuid4()), "filename": path.name})
    uploader.upload()
    return uploader.url


def upload_growth(opts: Options) -> list[Row]:
    size = 50_000_000 if opts.quick else 500_000_000
    with serving(opts, "memory", storage="s3", workers=1, threads=4) as served:
        (pid,) = served.worker_pids()
        warm, video = served.tmp / "warm.mp4", served.tmp / "video.mp4"
        make_video(warm, 3 * CHUNK // 2)
        make_video(video, size)
        tus_upload(served, warm, CHUNK)  # imports, the S3 client, connection pools: not the upload's cost
        time.sleep(0.5)
        before = status_kb(pid)
        peak = [before["VmRSS"]]
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], status_kb(pid)["VmRSS"])
                time.sleep(SAMPLE_S)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start = time.perf_counter()
        try:
            url = tus_upload(served, video, CHUNK)
        finally:
            stop.set()
            sampler.join()
        seconds = time.perf_counter() - start
        after = status_kb(pid)
        import requests

        state = requests.get(url, headers=served.headers, timeout=30).json()
    highest = max(peak[0], after["VmHWM"] if after["VmHWM"] > before["VmHWM"] else 0)
    growth_mb = (highest - before["VmRSS"]) / 1024
    notes = (f"{size / 1e6:.0f} MB video/mp4 in {CHUNK >> 20} MiB PATCHes, {seconds:.1f} s; upload {state.get('state')}; "
             f"worker RSS before {before['VmRSS'] / 1024:.1f} MB, highest {highest / 1024:.1f} MB; "
             f"{served.describe()}")
    ok = state.get("state") == "complete"
    return [Row(NAME, f"tus upload of {size / 1e6:.0f} MB video", "worker RSS growth MB", growth_mb,
                target=f"<= {TARGET_MB:.0f} MB", met=ok and growth_mb <= TARGET_MB,
                notes=notes if ok else f"UPLOAD NOT COMPLETE: {state}; " + notes)]


PHOTO_PROBE = r"""
import json, sys
from pathlib import Path
import pillow_heif
from PIL import Image
from evidence.photo import process_photo

pillow_heif.register_heif_opener()
path, mode = Path(sys.argv[1]), sys.argv[2]
def status_kb(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
base = status_kb("VmRSS")
if mode == "process":
    with open(path, "rb") as fp:
        process_photo(fp)
else:
    with Image.open(path) as im:
        im.load()
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent (a big benchmark
# process would show through); VmHWM is this address space's own high-water mark.
print(json.dumps({"base_kb": base, "peak_kb": status_kb("VmHWM")}))
"""


def largest_photo() -> tuple[Path, int]:
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    best, best_px = None, 0
    for path in sorted(PHOTOS.rglob("*")):
        if not path.is_file() or path.parent.name == "broken_odd" or path.suffix.lower() in (".tsv", ".md"):
            continue
        try:
            with Image.open(path) as im:
                px = im.width * im.height
        except Exception:  # noqa: BLE001 - not a photo Pillow reads: not a candidate
            continue
        if px > best_px:
            best, best_px = path, px
    if best is None:
        raise RuntimeError(corpus.missing() or f"no photo under {PHOTOS}")
    return best, best_px


def probe(path: Path, mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PHOTO_PROBE, str(path), mode], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


def photo_peak() -> list[Row]:
    path, px = largest_photo()
    processed, decoded = probe(path, "process"), probe(path, "decode")
    peak, ref = processed["peak_kb"] / 1024, decoded["peak_kb"] / 1024
    growth, ref_growth = peak - processed["base_kb"] / 1024, ref - decoded["base_kb"] / 1024
    case = f"process_photo, largest photo ({path.parent.name}/{path.name}, {px / 1e6:.1f} MP)"
    return [
        Row(NAME, case, "peak RSS MB", peak, "plain full decode, peak RSS MB", ref, peak / ref if ref else None,
            notes="fresh interpreter each; VmHWM"),
        Row(NAME, case, "RSS growth MB", growth, "plain full decode, growth MB", ref_growth,
            growth / ref_growth if ref_growth else None,
            notes=f"over the interpreter's RSS after imports ({processed['base_kb'] / 1024:.0f} MB); "
                  f"RGB pixels alone: {px * 3 / 1e6:.0f} MB"),
    ]


def run(opts: Options) -> list[Row]:
    return upload_growth(opts) + photo_peak()


def main(argv=None) -> int:
    return main_of(run, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
