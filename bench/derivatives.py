"""Benchmark 3: CPU cost of a photo's thumbnail and preview against djpeg and plain HEIC decoding.

    python -m bench.derivatives [--quick] [--repeat N] [--json PATH]

Each 12 MP JPEG of the corpus (../shared/data/photos, 10-14 MP) goes through
``evidence.photo.process_photo`` (facts, preview, thumbnail, perceptual hash) against
``djpeg -scale 1/2`` of the same file (Debian's libjpeg-turbo-progs: the decode any
viewer must do at least); each 12 MP HEIC against pillow-heif's plain decode. Figures are
CPU time of all threads (user + system), best of N, measured in a fresh interpreter set
up as the derive worker is (``fieldwatch derive`` calls ``keep_freed_image_memory``).
A second interpreter measures the JPEGs with glibc's allocator defaults, as a web worker
deriving a photo on its first view runs. Last, the peak RSS of processing the largest
photo, against decoding it at full size.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import PHOTOS, Options, Row, print_table, write_json  # noqa: E402
from tests import corpus  # noqa: E402

BENCHMARK = "3 derivatives"
#: "12 MP-ish": what phones take by default.
MIN_MP, MAX_MP = 10.0, 14.0
#: Issue targets.
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
    import pillow_heif

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
    from PIL import Image

    import evidence.photo  # noqa: F401 - registers the HEIF opener

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
    """Peak RSS of a fresh interpreter set up as the worker, after processing or fully decoding ``path``.

    Read from /proc/self/status VmHWM (this process's own high-water mark):
    ru_maxrss is not used because Linux carries the parent's peak across
    fork+exec, so a child started by a busy benchmark would report the parent.
    """
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from PIL import Image
        from evidence.photo import keep_freed_image_memory, process_photo
        keep_freed_image_memory()
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


def measure(repeat: int, *, keep_memory: bool, heic: int | None) -> dict:
    """All figures, in this process: call it in a fresh interpreter (``--raw``), as ``run`` does.

    ``heic``: how many HEIC files to measure (None: all, 0: none).
    """
    import pillow_heif
    from PIL import Image, features

    from evidence.photo import keep_freed_image_memory, process_photo

    kept = keep_freed_image_memory() if keep_memory else False
    report: dict = {
        "pillow": Image.__version__, "libjpeg_turbo": features.version("libjpeg_turbo"),
        "pillow_heif": pillow_heif.__version__, "libheif": pillow_heif.libheif_version(),
        "repeat": repeat, "keep_freed_image_memory": kept,
        "malloc_env": {k: v for k, v in os.environ.items() if k.startswith(("MALLOC_", "PILLOW_"))},
        "jpeg": [], "heic": [],
    }
    for path in twelve_mp(["large", "phones"], (".jpg", ".jpeg")):
        data = path.read_bytes()
        report["jpeg"].append({"file": str(path.relative_to(PHOTOS)), "mp": megapixels(path),
                               "ours": best_cpu_ms(partial(process_photo, data), repeat),
                               "floor": best_djpeg_ms(path, repeat)})
    if heic != 0:
        for path in twelve_mp(["heic"], (".heic", ".heif"))[:heic]:
            data = path.read_bytes()
            report["heic"].append({"file": str(path.relative_to(PHOTOS)), "mp": megapixels(path),
                                   "ours": best_cpu_ms(partial(process_photo, data), repeat),
                                   "floor": best_cpu_ms(partial(plain_heic_decode, data), repeat)})
    return report


def _measure_in_child(repeat: int, *, keep_memory: bool, heic: int | None) -> dict:
    args = [sys.executable, "-m", "bench.derivatives", "--raw", "--repeat", str(repeat)]
    args += [] if keep_memory else ["--glibc-defaults"]
    args += [] if heic is None else ["--heic-files", str(heic)]
    out = subprocess.run(args, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout)


def _file_rows(kind: str, items: list[dict], floor: str, target: float) -> list[Row]:
    rows = [Row(BENCHMARK, f"{kind} {item['file']} ({item['mp']:.1f} MP)", "CPU ms", item["ours"], floor,
                item["floor"], item["ours"] / item["floor"], f"<= {target}", item["ours"] / item["floor"] <= target)
            for item in items]
    return rows + _summary_rows(f"{kind} 12 MP, {len(items)} files", items, floor, target)


def _summary_rows(case: str, items: list[dict], floor: str, target: float, notes: str = "") -> list[Row]:
    if not items:
        return []
    ratios = [item["ours"] / item["floor"] for item in items]
    worst, median = max(ratios), statistics.median(ratios)
    return [Row(BENCHMARK, case, "worst ratio", worst, floor, notes=notes, ratio=worst, target=f"<= {target}",
                met=worst <= target),
            Row(BENCHMARK, case, "median ratio", median, floor, notes=notes, ratio=median, target=f"<= {target}",
                met=median <= target)]


def run(opts: Options) -> list[Row]:
    if corpus.missing():
        raise RuntimeError(corpus.missing())
    if shutil.which("djpeg") is None:
        raise RuntimeError("djpeg not found (Debian: libjpeg-turbo-progs)")
    repeat = opts.extra.get("derivatives_repeat", 2 if opts.quick else 5)
    worker = _measure_in_child(repeat, keep_memory=True, heic=3 if opts.quick else None)
    defaults = _measure_in_child(repeat, keep_memory=False, heic=0)
    setup = (f"best of {repeat}, CPU of all threads; Pillow {worker['pillow']} (libjpeg-turbo "
             f"{worker['libjpeg_turbo']}), pillow-heif {worker['pillow_heif']} (libheif {worker['libheif']})")
    rows = _file_rows("JPEG", worker["jpeg"], "djpeg -scale 1/2", TARGET_JPEG)
    rows[-2].notes = f"derive worker set-up (keep_freed_image_memory); {setup}"
    rows += _summary_rows(f"JPEG 12 MP, {len(defaults['jpeg'])} files, glibc allocator defaults",
                          defaults["jpeg"], "djpeg -scale 1/2", TARGET_JPEG,
                          notes="as a web worker deriving on first view runs")
    rows += _file_rows("HEIC", worker["heic"], "pillow-heif decode", TARGET_HEIC)
    largest = max((p for p in PHOTOS.glob("*/*")
                   if p.suffix.lower() in (".jpg", ".jpeg") and "broken_odd" not in p.parts), key=megapixels)
    imports, processed, decoded = (peak_rss_mb(largest, mode) for mode in ("imports", "process", "decode"))
    rows.append(Row(BENCHMARK, f"largest JPEG {largest.relative_to(PHOTOS)} ({megapixels(largest):.1f} MP)",
                    "peak RSS MB", processed, "full-size decode, peak RSS MB", decoded, processed / decoded,
                    notes=f"fresh interpreter; {imports:.0f} MB after the imports and reading the file"))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="best of 2 instead of 5, 3 HEIC files")
    parser.add_argument("--repeat", type=int, help="best of N runs")
    parser.add_argument("--json", type=Path, help="write the rows to this file")
    parser.add_argument("--raw", action="store_true", help=argparse.SUPPRESS)  # the child: measure, print JSON
    parser.add_argument("--glibc-defaults", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--heic-files", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.raw:
        print(json.dumps(measure(args.repeat or 5, keep_memory=not args.glibc_defaults, heic=args.heic_files)))
        return 0
    extra = {"derivatives_repeat": args.repeat} if args.repeat else {}
    rows = run(Options(quick=args.quick, extra=extra))
    print_table(rows)
    for row in rows:
        if row.notes:
            print(f"  {row.case} / {row.figure}: {row.notes}")
    if args.json:
        write_json(rows, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
