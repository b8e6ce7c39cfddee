"""Benchmark 3: CPU cost of a photo's thumbnail and preview against djpeg and plain HEIC decoding.

    python -m bench.derivatives [--quick] [--repeat N] [--json PATH]

Each 12 MP JPEG of the corpus (../shared/data/photos, 10-14 MP) goes through
``evidence.photo.process_photo`` (facts, preview, thumbnail, perceptual hash) against
``djpeg -scale 1/2`` of the same file (Debian's libjpeg-turbo-progs: the decode any
viewer must do at least); each 12 MP HEIC against pillow-heif's plain decode. Figures are
CPU time of all threads (user + system), each run followed by a run of its reference
(A/B/A/B, so a neighbour's load falls on both), best of N of each. Both paths that derive
are measured, each in a fresh interpreter set up as that process is: the derive worker
(``fieldwatch derive``: ``keep_image_buffers`` and ``keep_freed_image_memory``) and a web
worker deriving a photo on its first view (the app built by ``create_app``, which calls
``keep_image_buffers``; glibc's allocator defaults); and, for comparison, a process with
neither, as web workers were.
Last, the peak RSS of processing the largest photo, against decoding it at full size.
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


def cpu_ms(action: Callable[[], object]) -> float:
    """Process CPU time (all threads) of one run of ``action``, in milliseconds."""
    start = time.process_time()
    action()
    return (time.process_time() - start) * 1000


def djpeg_ms(path: Path) -> float:
    """CPU time of one ``djpeg -scale 1/2`` as a child process (user + system), in milliseconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(os.devnull, "wb") as sink:
        subprocess.run(["djpeg", "-scale", "1/2", str(path)], stdout=sink, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000


def interleaved(ours: Callable[[], float], floor: Callable[[], float], repeat: int) -> tuple[float, float]:
    """Best of ``repeat`` of each, every run of ours followed by one of its reference (A/B/A/B)."""
    best_ours = best_floor = float("inf")
    for _ in range(repeat):
        best_ours = min(best_ours, ours())
        best_floor = min(best_floor, floor())
    return best_ours, best_floor


def plain_heic_decode(data: bytes) -> None:
    """What any HEIC viewer must do at least: decode the primary image once."""
    import pillow_heif

    pillow_heif.open_heif(io.BytesIO(data)).to_pillow().load()


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
        from bench.derivatives import set_up
        from evidence.photo import process_photo
        set_up("worker")
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


#: How each process that derives photos is set up, as the bench's interpreters set themselves up.
SET_UPS = {
    # cli derive: Pillow's buffers and the allocator's thresholds.
    "worker": ("derive worker", ("keep_image_buffers", "keep_freed_image_memory")),
    # The app itself, as gunicorn's workers build it (create_app keeps Pillow's buffers; glibc's
    # allocator as it comes); on SQLite in memory, which it does not touch here.
    "first-view": ("first view in a web worker", ("create_app",)),
    # Neither: what a web worker was before create_app kept Pillow's buffers.
    "bare": ("no buffers kept (web workers before)", ()),
}


def set_up(name: str) -> dict:
    """Set this interpreter up as the process ``name`` of SET_UPS is; what each step answered."""
    from evidence import memory, photo

    def create_app() -> str:
        from api import create_app

        create_app({"DATABASE_URL": "sqlite://"})
        return "built"

    steps = {"keep_image_buffers": memory.keep_image_buffers,
             "keep_freed_image_memory": photo.keep_freed_image_memory,
             "create_app": create_app}
    return {step: steps[step]() for step in SET_UPS[name][1]}


def measure(repeat: int, *, process: str, heic: int | None) -> dict:
    """All figures, in this process: call it in a fresh interpreter (``--raw``), as ``run`` does.

    ``heic``: how many HEIC files to measure (None: all, 0: none).
    """
    import pillow_heif
    from PIL import Image, features

    from evidence.photo import process_photo

    done = set_up(process)
    report: dict = {
        "pillow": Image.__version__, "libjpeg_turbo": features.version("libjpeg_turbo"),
        "pillow_heif": pillow_heif.__version__, "libheif": pillow_heif.libheif_version(),
        "repeat": repeat, "process": process, "set_up": done,
        "pillow_blocks": {"size": Image.core.get_block_size(), "kept": Image.core.get_blocks_max()},
        "malloc_env": {k: v for k, v in os.environ.items() if k.startswith(("MALLOC_", "PILLOW_", "GLIBC_"))},
        "jpeg": [], "heic": [],
    }
    for path in twelve_mp(["large", "phones"], (".jpg", ".jpeg")):
        data = path.read_bytes()
        ours, floor = interleaved(partial(cpu_ms, partial(process_photo, data)), partial(djpeg_ms, path), repeat)
        report["jpeg"].append({"file": str(path.relative_to(PHOTOS)), "mp": megapixels(path),
                               "ours": ours, "floor": floor})
    if heic != 0:
        for path in twelve_mp(["heic"], (".heic", ".heif"))[:heic]:
            data = path.read_bytes()
            ours, floor = interleaved(partial(cpu_ms, partial(process_photo, data)),
                                      partial(cpu_ms, partial(plain_heic_decode, data)), repeat)
            report["heic"].append({"file": str(path.relative_to(PHOTOS)), "mp": megapixels(path),
                                   "ours": ours, "floor": floor})
    return report


def _measure_in_child(repeat: int, *, process: str, heic: int | None) -> dict:
    args = [sys.executable, "-m", "bench.derivatives", "--raw", "--repeat", str(repeat), "--process", process]
    args += [] if heic is None else ["--heic-files", str(heic)]
    out = subprocess.run(args, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout)


def _file_rows(kind: str, items: list[dict], floor: str, target: float, process: str = "") -> list[Row]:
    label = f"{kind} {process}: " if process else f"{kind} "
    return [Row(BENCHMARK, f"{label}{item['file']} ({item['mp']:.1f} MP)", "CPU ms", item["ours"], floor,
                item["floor"], item["ours"] / item["floor"], f"<= {target}", item["ours"] / item["floor"] <= target)
            for item in items]


def _summary_rows(case: str, items: list[dict], floor: str, target: float | None, notes: str = "") -> list[Row]:
    if not items:
        return []
    ratios = [item["ours"] / item["floor"] for item in items]
    worst, median = max(ratios), statistics.median(ratios)
    goal = "" if target is None else f"<= {target}"
    return [Row(BENCHMARK, case, "worst ratio", worst, floor, notes=notes, ratio=worst, target=goal,
                met=None if target is None else worst <= target),
            Row(BENCHMARK, case, "median ratio", median, floor, notes=notes, ratio=median, target=goal,
                met=None if target is None else median <= target)]


def run(opts: Options) -> list[Row]:
    if corpus.missing():
        raise RuntimeError(corpus.missing())
    if shutil.which("djpeg") is None:
        raise RuntimeError("djpeg not found (Debian: libjpeg-turbo-progs)")
    repeat = opts.extra.get("derivatives_repeat", 3 if opts.quick else 7)
    measured = {process: _measure_in_child(repeat, process=process,
                                           heic=(3 if opts.quick else None) if process == "worker" else 0)
                for process in SET_UPS}
    worker = measured["worker"]
    setup = (f"best of {repeat} of each, A/B/A/B, CPU of all threads; Pillow {worker['pillow']} (libjpeg-turbo "
             f"{worker['libjpeg_turbo']}), pillow-heif {worker['pillow_heif']} (libheif {worker['libheif']})")
    rows: list[Row] = []
    summaries: list[Row] = []
    for process, (label, steps) in SET_UPS.items():
        items = measured[process]["jpeg"]
        rows += _file_rows("JPEG", items, "djpeg -scale 1/2", TARGET_JPEG, label)
        summaries += _summary_rows(f"JPEG 12 MP, {len(items)} files, {label}", items, "djpeg -scale 1/2",
                                   TARGET_JPEG if process != "bare" else None,
                                   notes=f"set up with {', '.join(steps) or 'nothing'}; {setup}")
    rows += summaries
    rows += _file_rows("HEIC", worker["heic"], "pillow-heif decode", TARGET_HEIC)
    rows += _summary_rows(f"HEIC 12 MP, {len(worker['heic'])} files", worker["heic"], "pillow-heif decode",
                          TARGET_HEIC, notes="derive worker")
    largest = max((p for p in PHOTOS.glob("*/*")
                   if p.suffix.lower() in (".jpg", ".jpeg") and "broken_odd" not in p.parts), key=megapixels)
    imports, processed, decoded = (peak_rss_mb(largest, mode) for mode in ("imports", "process", "decode"))
    rows.append(Row(BENCHMARK, f"largest JPEG {largest.relative_to(PHOTOS)} ({megapixels(largest):.1f} MP)",
                    "peak RSS MB", processed, "full-size decode, peak RSS MB", decoded, processed / decoded,
                    notes=f"fresh interpreter; {imports:.0f} MB after the imports and reading the file"))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="best of 3 instead of 7, 3 HEIC files")
    parser.add_argument("--repeat", type=int, help="best of N runs")
    parser.add_argument("--json", type=Path, help="write the rows to this file")
    parser.add_argument("--raw", action="store_true", help=argparse.SUPPRESS)  # the child: measure, print JSON
    parser.add_argument("--process", choices=SET_UPS, default="worker", help=argparse.SUPPRESS)
    parser.add_argument("--heic-files", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.raw:
        print(json.dumps(measure(args.repeat or 7, process=args.process, heic=args.heic_files)))
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
