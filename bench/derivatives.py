"""Benchmark: CPU cost of process_photo against djpeg and plain HEIC decoding, and peak RSS on 24 MP."""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pillow_heif  # noqa: E402
from PIL import Image, features  # noqa: E402

from evidence.photo import process_photo  # noqa: E402

PHOTOS = (ROOT / ".." / "shared" / "data" / "photos").resolve()
#: "12 MP-ish": what phones take by default.
MIN_MP, MAX_MP = 10.0, 14.0
#: Issue targets, printed for reference only.
TARGET_JPEG, TARGET_HEIC = 1.5, 1.2


def best_cpu_ms(action: Callable[[], object], repeat: int) -> float:
    """Best of ``repeat`` runs of process CPU time (all threads), in milliseconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        action()
        best = min(best, time.process_time() - start)
    return best * 1000


def plain_heic_decode(data: bytes) -> None:
    """What any HEIC viewer must do at least: decode the primary image once."""
    pillow_heif.open_heif(io.BytesIO(data)).to_pillow().load()


def best_djpeg_ms(path: Path, repeat: int) -> float:
    """Best CPU time of ``djpeg -scale 1/2`` as a child process (user + system), in milliseconds."""
    best = float("inf")
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(os.devnull, "wb") as sink:
            subprocess.run(["djpeg", "-scale", "1/2", str(path)], stdout=sink, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        spent = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best = min(best, spent)
    return best * 1000


def megapixels(path: Path) -> float:
    with Image.open(path) as im:
        return im.width * im.height / 1e6


def twelve_mp(folder_names: list[str], suffixes: tuple[str, ...]) -> list[Path]:
    found = []
    for folder in folder_names:
        for path in sorted((PHOTOS / folder).iterdir()):
            if path.suffix.lower() in suffixes and MIN_MP <= megapixels(path) <= MAX_MP:
                found.append(path)
    return found


def peak_rss_mb(path: Path, mode: str) -> float:
    """Peak RSS of a fresh interpreter that imports everything, then processes or fully decodes ``path``.

    Read from /proc/self/status VmHWM (this process's own high-water mark):
    ru_maxrss is not used because Linux carries the parent's peak across
    fork+exec, so a child started by a busy benchmark would report the parent.
    """
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from PIL import Image
        from evidence.photo import process_photo
        data = open({str(path)!r}, "rb").read()
        if {mode!r} == "process":
            process_photo(data)
        elif {mode!r} == "decode":
            Image.open({str(path)!r}).load()
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                print(line.split()[1])
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024  # kB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--repeat", type=int, default=7, help="best of N runs (default 7)")
    args = parser.parse_args()
    if not PHOTOS.is_dir():
        sys.exit(f"photo corpus not found at {PHOTOS}")
    if shutil.which("djpeg") is None:
        sys.exit("djpeg not found (Debian: libjpeg-turbo-progs)")

    report: dict[str, object] = {
        "python": platform.python_version(),
        "pillow": Image.__version__,
        "pillow_heif": pillow_heif.__version__,
        "libjpeg_turbo": features.version("libjpeg_turbo"),
        "libheif": pillow_heif.libheif_version(),
        "cpus": os.cpu_count(),
        "repeat": args.repeat,
        # glibc returns big freed blocks to the kernel, so each photo faults its
        # buffers in again (~10 ms per 12 MP JPEG); these variables stop that.
        "malloc_env": {k: v for k, v in os.environ.items() if k.startswith(("MALLOC_", "PILLOW_"))},
    }
    print(
        f"Python {report['python']}, Pillow {report['pillow']} (libjpeg-turbo {report['libjpeg_turbo']}),"
        f" pillow-heif {report['pillow_heif']} (libheif {report['libheif']}), {report['cpus']} CPUs,"
        f" best of {args.repeat}, CPU time of all threads,"
        f" allocator settings: {report['malloc_env'] or 'glibc defaults'}"
    )

    jpeg_rows = []
    print(f"\nJPEG {MIN_MP:g}-{MAX_MP:g} MP: process_photo vs `djpeg -scale 1/2` (target <= {TARGET_JPEG}x)")
    print(f"{'file':52} {'MP':>5} {'process ms':>11} {'djpeg ms':>9} {'ratio':>6}")
    for path in twelve_mp(["large", "phones"], (".jpg", ".jpeg")):
        data = path.read_bytes()
        ours = best_cpu_ms(partial(process_photo, data), args.repeat)
        djpeg = best_djpeg_ms(path, args.repeat)
        row = {"file": str(path.relative_to(PHOTOS)), "mp": round(megapixels(path), 1),
               "process_ms": round(ours, 1), "djpeg_ms": round(djpeg, 1), "ratio": round(ours / djpeg, 2)}
        jpeg_rows.append(row)
        print(f"{row['file']:52} {row['mp']:5} {row['process_ms']:11} {row['djpeg_ms']:9} {row['ratio']:6}")
    report["jpeg"] = jpeg_rows

    heic_rows = []
    print(f"\nHEIC {MIN_MP:g}-{MAX_MP:g} MP: process_photo vs open_heif().to_pillow().load()"
          f" (target <= {TARGET_HEIC}x)")
    print(f"{'file':52} {'MP':>5} {'process ms':>11} {'decode ms':>9} {'ratio':>6}")
    for path in twelve_mp(["heic"], (".heic", ".heif")):
        data = path.read_bytes()
        ours = best_cpu_ms(partial(process_photo, data), args.repeat)
        plain = best_cpu_ms(partial(plain_heic_decode, data), args.repeat)
        row = {"file": str(path.relative_to(PHOTOS)), "mp": round(megapixels(path), 1),
               "process_ms": round(ours, 1), "decode_ms": round(plain, 1), "ratio": round(ours / plain, 2)}
        heic_rows.append(row)
        print(f"{row['file']:52} {row['mp']:5} {row['process_ms']:11} {row['decode_ms']:9} {row['ratio']:6}")
    report["heic"] = heic_rows

    largest = max(
        (p for p in PHOTOS.glob("*/*") if p.suffix.lower() in (".jpg", ".jpeg") and "broken_odd" not in p.parts),
        key=megapixels,
    )
    rss = {mode: round(peak_rss_mb(largest, mode), 1) for mode in ("imports", "process", "decode")}
    report["peak_rss"] = {"file": str(largest.relative_to(PHOTOS)), "mp": round(megapixels(largest), 1), **rss}
    print(
        f"\nPeak RSS (VmHWM), fresh interpreter, {largest.relative_to(PHOTOS)} ({megapixels(largest):.1f} MP):"
        f" after imports and reading the file {rss['imports']} MB, process_photo {rss['process']} MB,"
        f" full-size decode for comparison {rss['decode']} MB"
    )

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
        print(f"\nwritten {args.json}")


if __name__ == "__main__":
    main()
