"""What every benchmark shares: the result row, percentiles, the table, and a fresh PostGIS database.

A benchmark module exposes ``run(opts: Options) -> list[Row]``. Each row is one figure of
fieldwatch measured against a floor of the same machine in the same run; ``ratio`` is
fieldwatch over the floor (or the floor over fieldwatch for rates, so that >1 is always
"slower than the floor"; see ``Row.ratio_kind``), and ``target`` is the issue's target for
that ratio or figure, printed and recorded, never asserted.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tests import corpus

ROOT = Path(__file__).resolve().parents[1]
#: The real photo corpus: ../shared/data/photos beside the checkout, or FIELDWATCH_PHOTOS (tests/corpus.py).
PHOTOS = corpus.PHOTOS
OUT_DIR = ROOT / "var" / "bench"

#: The PostgreSQL server the benchmarks create their databases on (trust auth, as on CI).
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql://postgres@127.0.0.1:5432")
#: How the benchmarks' databases are named: two checkouts benching on one server set their own.
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "fieldwatch_bench")


@dataclass
class Options:
    """What ``make bench`` passes to every benchmark."""

    quick: bool = False           # smaller sizes and shorter runs, to check the harness itself
    pg_server: str = PG_SERVER
    workdir: Path = OUT_DIR / "work"
    extra: dict = field(default_factory=dict)


@dataclass
class Row:
    benchmark: str                # "1 record ingest", ...
    case: str                     # "concurrency 16", "radius 500 m (PostGIS)", ...
    figure: str                   # "requests/s", "p95 ms", ...
    value: float
    floor_name: str = ""          # what it is measured against
    floor_value: float | None = None
    ratio: float | None = None    # as the issue states its target (see module docstring)
    target: str = ""              # e.g. ">= 0.20", "<= 1.5", "<= 10 ms"
    met: bool | None = None
    notes: str = ""


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by nearest rank; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def print_table(rows: list[Row], out=sys.stdout) -> None:
    headers = ("benchmark", "case", "figure", "value", "floor", "floor value", "ratio", "target", "met")
    cells = [(r.benchmark, r.case, r.figure, fmt(r.value), r.floor_name, fmt(r.floor_value), fmt(r.ratio),
              r.target, "" if r.met is None else ("yes" if r.met else "NO")) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    print(line, file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths)), file=out)


def machine() -> dict:
    def cmd(*args: str) -> str:
        try:
            return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine(),
            "kernel": platform.release(), "postgres": cmd("psql", "--version")}


def write_json(rows: list[Row], path: Path, extra: dict | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"machine": machine(), "rows": [asdict(r) for r in rows], **(extra or {})}
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def fresh_pg_database(name: str, server: str = PG_SERVER) -> str:
    """Drop and create database ``name`` with PostGIS on ``server``; return its SQLAlchemy URL."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(f"{server}/{name}", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return f"{server.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"


def main_of(run, doc: str, argv=None) -> int:
    """``python -m bench.<module> [--quick]`` for a module with no options of its own: run it, print the table."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and short runs (checks the harness)")
    args = parser.parse_args(argv)
    print_table(run(Options(quick=args.quick)))
    return 0
