"""``make bench``: run every benchmark in order, print one table, write it as JSON.

    python -m bench.run [--quick] [--only NAME ...] [--json PATH]

NAME is a module of bench/: ingest (1 record ingest), evidence_ingest (2), derivatives (3),
spatial (4), lists (5), sync (6), memory (7), approvals (8). Each sets up what it needs (its own
``fieldwatch_bench_<module>`` PostGIS database on BENCH_PG_SERVER, gunicorn, SeaweedFS) and
tears it down. A benchmark that fails is reported as a row saying so, the others still
run, and the exit status is 1. ``--quick`` shrinks sizes and durations to check the
harness (each module under a minute); figures from it mean little. The JSON (default
var/bench/results.json) holds the machine, every row, and how long each module took.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import time
import traceback
from pathlib import Path

from .common import OUT_DIR, Options, Row, print_table, write_json

MODULES = ("ingest", "evidence_ingest", "derivatives", "spatial", "lists", "sync", "memory", "approvals")
#: What every module needs from the machine, checked once before anything runs.
TOOLS = ("wrk", "pgbench", "djpeg")


def preflight(opts: Options) -> list[str]:
    """What is missing on this machine, in words (empty when all is there)."""
    problems = [f"{tool} is not installed (sh scripts/bench-deps.sh)" for tool in TOOLS if shutil.which(tool) is None]
    try:
        import psycopg

        with psycopg.connect(f"{opts.pg_server}/postgres", connect_timeout=5) as conn:
            if conn.execute("SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'").fetchone()[0] == 0:
                problems.append(f"PostGIS is not available on {opts.pg_server}")
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server is the message
        problems.append(f"PostgreSQL at {opts.pg_server} cannot be reached: {exc}")
    return problems


def run_module(name: str, opts: Options) -> tuple[list[Row], float, str | None]:
    start = time.perf_counter()
    try:
        module = importlib.import_module(f"bench.{name}")
        rows = list(module.run(opts))
        return rows, time.perf_counter() - start, None
    except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others
        traceback.print_exc()
        return [], time.perf_counter() - start, f"{type(exc).__name__}: {exc}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and short runs (checks the harness)")
    parser.add_argument("--only", nargs="+", choices=MODULES, metavar="NAME", help=f"any of: {', '.join(MODULES)}")
    parser.add_argument("--json", type=Path, default=OUT_DIR / "results.json", help="where the results go")
    args = parser.parse_args(argv)
    opts = Options(quick=args.quick)
    missing = preflight(opts)
    if missing:
        for problem in missing:
            print(f"bench: {problem}", file=sys.stderr)
        return 2

    rows: list[Row] = []
    timings: dict[str, float] = {}
    failures: dict[str, str] = {}
    started = time.perf_counter()
    for name in args.only or MODULES:
        print(f"== {name}", flush=True)
        module_rows, seconds, failure = run_module(name, opts)
        timings[name] = round(seconds, 1)
        if failure:
            failures[name] = failure
            module_rows = [Row(name, "FAILED", "error", float("nan"), met=False, notes=failure)]
        print_table(module_rows)
        print(f"   ({seconds:.0f} s)", flush=True)
        rows += module_rows
    total = time.perf_counter() - started

    print(f"\nAll benchmarks ({'quick' if opts.quick else 'full'} run, {total:.0f} s):")
    print_table(rows)
    write_json(rows, args.json, {"quick": opts.quick, "seconds": timings, "total_seconds": round(total, 1),
                                 "failures": failures})
    print(f"\nwritten: {args.json}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
