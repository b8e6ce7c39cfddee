"""Benchmark 4: spatial queries over 1,000,000 findings spread over a province, on PostGIS and SpatiaLite.

    python -m bench.spatial [--quick] [--samples 200] [--reference-samples 10]

Through the API: the Flask test client sends ``GET /api/v1/findings`` (the real endpoint, its
schemas, scope rule and serialisation; no network or WSGI server in between) as the province's
admin, who sees every finding, and asks for the first page (50, newest first) of

- ``near=lon,lat&radius_m=500`` around random centres in the province,
- ``bbox=`` one district's box (districts taken in turn),
- ``within_jurisdiction=`` one district's boundary (a spatial test against its polygon).

p50 and p95 over ``--samples`` requests each (after a warm-up). Reference, same run, same
requests: the spatial index out of the way (PostGIS: the GiST index dropped inside a
transaction the app's session runs in, rolled back afterwards; SpatiaLite: the query without
its R*Tree ``SpatialIndex`` filter, so every row's MBR is tested). The reference is slow (a
scan of every row), so it runs ``--reference-samples`` requests; SpatiaLite runs at most 20
requests per query (its district-sized queries take seconds each at 1M). Target: PostGIS p95 at most
10 ms. The plans of the fast variant (EXPLAIN ANALYZE of the statement the endpoint sent) are
written to var/bench/spatial_plans.txt, and each row notes whether the plan used the index.

The seeded databases come from bench/seed.py (reused when seeded alike before); ``--quick``
uses 10,000 findings and a few samples.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import sys
import time

from .common import OUT_DIR, Options, Row, percentile, print_table
from .seed import PROVINCE_BOX, Seeded, label, seeded

BENCH = "4 spatial queries"
KINDS = ("radius 500 m", "bbox one district", "within jurisdiction")


def _requests(s: Seeded, n: int, rng: random.Random) -> dict[str, list[dict]]:
    minx, miny, maxx, maxy = PROVINCE_BOX
    codes = sorted(s.districts)
    out: dict[str, list[dict]] = {k: [] for k in KINDS}
    for i in range(n):
        lon, lat = rng.uniform(minx + 0.01, maxx - 0.01), rng.uniform(miny + 0.01, maxy - 0.01)
        out["radius 500 m"].append({"near": f"{lon:.6f},{lat:.6f}", "radius_m": 500})
        d = s.districts[codes[i % len(codes)]]
        out["bbox one district"].append({"bbox": ",".join(f"{v:.6f}" for v in d["bounds"])})
        d = s.districts[codes[(i * 7 + 3) % len(codes)]]
        out["within jurisdiction"].append({"within_jurisdiction": d["id"]})
    return out


def _time(client, headers: dict, queries: list[dict]) -> tuple[list[float], list[int]]:
    times, counts = [], []
    for q in queries:
        started = time.perf_counter()
        resp = client.get("/api/v1/findings", headers=headers, query_string=q)
        times.append((time.perf_counter() - started) * 1000)
        if resp.status_code != 200:
            raise RuntimeError(f"GET /api/v1/findings {q}: {resp.status_code} {resp.get_data(as_text=True)[:300]}")
        counts.append(len(resp.get_json()["items"]))
    return times, counts


@contextlib.contextmanager
def _capture(engine):
    """The statements (with parameters) the app sends while inside."""
    from sqlalchemy import event

    seen: list[tuple[str, object]] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def _plan(s: Seeded, app, client, headers: dict, query: dict) -> str:
    """EXPLAIN (ANALYZE on PostGIS, QUERY PLAN on SpatiaLite) of the findings statement the endpoint sends."""
    engine = app.extensions["ENGINE"]
    with _capture(engine) as seen:
        client.get("/api/v1/findings", headers=headers, query_string=query)
    statement, params = next((st, p) for st, p in reversed(seen) if "FROM field_records" in st and "LIMIT" in st)
    with engine.connect() as conn:
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if s.backend == "postgis" else "EXPLAIN QUERY PLAN "
        rows = conn.exec_driver_sql(prefix + statement, params).all()
    return "\n".join(" | ".join(str(c) for c in r) for r in rows)


def _uses_index(backend: str, plan: str) -> bool:
    return "idx_field_records_location" in plan if backend == "postgis" else "SpatialIndex" in plan or \
        "idx_field_records_location" in plan


@contextlib.contextmanager
def _without_spatial_index(s: Seeded, workdir):
    """An app whose queries cannot use the spatial index (see the module docstring)."""
    from sqlalchemy.orm import sessionmaker

    from field.core import geo
    from field.core.db import make_engine

    if s.backend == "postgis":
        engine = make_engine(s.url)
        conn = engine.connect()
        outer = conn.begin()
        conn.exec_driver_sql("DROP INDEX idx_field_records_location")
        factory = sessionmaker(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        app = s.app(workdir, session_factory=factory)
        try:
            yield app
        finally:
            outer.rollback()
            conn.close()
            engine.dispose()
    else:
        from sqlalchemy import true

        original = geo._spatialite_index_filter
        geo._spatialite_index_filter = lambda *args, **kwargs: true()
        app = s.app(workdir)
        try:
            yield app
        finally:
            geo._spatialite_index_filter = original
            app.extensions["ENGINE"].dispose()


def measure(s: Seeded, samples: int, reference_samples: int, workdir, plans: list[str]) -> list[Row]:
    rng = random.Random(4)
    requests = _requests(s, samples, rng)
    app = s.app(workdir)
    client = app.test_client()
    headers = s.headers(app, "admin")
    rows: list[Row] = []
    size = label(s.size)
    db = "PostGIS" if s.backend == "postgis" else "SpatiaLite"
    try:
        for kind in KINDS:
            _time(client, headers, requests[kind][:5])  # warm-up: caches, the first plan
        fast: dict[str, tuple[list[float], list[int]]] = {}
        for kind in KINDS:
            fast[kind] = _time(client, headers, requests[kind])
        uses = {}
        for kind in KINDS:
            plan = _plan(s, app, client, headers, requests[kind][0])
            uses[kind] = _uses_index(s.backend, plan)
            plans.append(f"== {db}, {size} findings, {kind}: {requests[kind][0]}\n{plan}\n")
    finally:
        app.extensions["ENGINE"].dispose()
    slow: dict[str, list[float]] = {}
    with _without_spatial_index(s, workdir) as ref_app:
        ref_client = ref_app.test_client()
        ref_headers = s.headers(ref_app, "admin")
        for kind in KINDS:
            _time(ref_client, ref_headers, requests[kind][:1])
            slow[kind] = _time(ref_client, ref_headers, requests[kind][:reference_samples])[0]
    for kind in KINDS:
        times, counts = fast[kind]
        p50, p95 = percentile(times, 50), percentile(times, 95)
        r50, r95 = percentile(slow[kind], 50), percentile(slow[kind], 95)
        notes = (f"{len(times)} requests, {statistics.mean(counts):.1f} items/page on average; reference "
                 f"{len(slow[kind])} requests; plan {'uses' if uses[kind] else 'does NOT use'} the spatial index")
        case = f"{kind} ({db}, {size})"
        floor = "spatial index disabled"
        rows.append(Row(BENCH, case, "p50 ms", p50, floor, r50, p50 / r50 if r50 else None, notes=notes))
        target = "<= 10 ms" if s.backend == "postgis" else ""
        rows.append(Row(BENCH, case, "p95 ms", p95, floor, r95, p95 / r95 if r95 else None, target=target,
                        met=(p95 <= 10.0) if s.backend == "postgis" else None))
    return rows


def run(opts: Options) -> list[Row]:
    size = 10_000 if opts.quick else int(opts.extra.get("spatial_size", 1_000_000))
    samples = int(opts.extra.get("spatial_samples", 30 if opts.quick else 200))
    reference_samples = int(opts.extra.get("spatial_reference_samples", 5 if opts.quick else 10))
    rows: list[Row] = []
    plans: list[str] = []
    for backend in ("postgis", "spatialite"):
        s = seeded(backend, size, pg_server=opts.pg_server, workdir=opts.workdir)
        if not s.reused:
            rows.append(Row(BENCH, f"seeding {label(size)} findings ({backend})", "seconds", s.seconds,
                            notes="bench/seed.py: COPY / executemany, indexes rebuilt, ANALYZE"))
        # SpatiaLite's district-sized queries take seconds each at 1M (see the report): fewer samples there,
        # or this benchmark alone would outlast make bench's budget.
        n = samples if backend == "postgis" else min(samples, int(opts.extra.get("spatialite_samples", 20)))
        rows.extend(measure(s, n, reference_samples, opts.workdir / "spatial", plans))
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "spatial_plans.txt").write_text("\n".join(plans))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--size", type=int)
    parser.add_argument("--samples", type=int)
    parser.add_argument("--reference-samples", type=int)
    args = parser.parse_args(argv)
    extra = {k: v for k, v in (("spatial_size", args.size), ("spatial_samples", args.samples),
                               ("spatial_reference_samples", args.reference_samples)) if v is not None}
    print_table(run(Options(quick=args.quick, extra=extra)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
