"""Benchmark 4: spatial queries over 1,000,000 findings spread over a province, over HTTP, on PostGIS and SpatiaLite.

    python -m bench.spatial [--quick] [--samples 200] [--reference-samples 10]

Through gunicorn with the production settings (bench/serve.py: 3 processes x 4 threads,
gthread) on the seeded database (bench/seed.py), PostGIS and SpatiaLite alike: a Python client
on one keep-alive connection (bench/serve.py ``Client``: from sending the request to having
read the whole body, one request at a time) sends ``GET /api/v1/findings`` as the province's
admin, who sees every finding, and asks for the first page (50, newest first) of

- ``near=lon,lat&radius_m=500`` around random centres in the province,
- ``bbox=`` one district's box (districts taken in turn),
- ``within_jurisdiction=`` one district's boundary (a spatial test against its polygon).

Reference, interleaved A/B/A/B in ``ROUNDS`` rounds with the same requests: the list's
statement alone (the SQL and parameters the endpoint sent for that very request, captured from
the app in process before timing), executed and fetched on one open connection: what the
database must do, so the ratio is what HTTP, gunicorn and the app add. p50 and p95 over
``--samples`` requests each (after a warm-up). Target (issue 18): PostGIS p95 at most 15 ms.
SpatiaLite runs at most 20 requests per query (its district-sized queries take seconds each
at 1M).

What the spatial index saves is a third figure per query, in process (the Flask test client):
``--reference-samples`` requests with the index out of the way (PostGIS: the GiST index
dropped inside a transaction the app's session runs in, rolled back afterwards, which only an
app in this process can share; SpatiaLite: the query without its R*Tree ``SpatialIndex``
filter, so every row's MBR is tested). The plans of the indexed variant (EXPLAIN ANALYZE of the
statement the endpoint sent) are written to var/bench/spatial_plans.txt, and each row notes
how the plan reads (the spatial index; or, PostgreSQL's choice for an area of a district, the
received-at index newest first with the area tested on the way) and the load average.

``--quick`` uses 10,000 findings and a few samples.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import sys
import time

from .common import OUT_DIR, Options, Row, percentile, print_table
from .seed import PROVINCE_BOX, Seeded, label, seeded
from .serve import Client, serving_database

BENCH = "4 spatial queries"
KINDS = ("radius 500 m", "bbox one district", "within jurisdiction")
#: A/B rounds: each round a slice of the requests over HTTP, then the same statements alone.
ROUNDS = 5
TARGET_P95_MS = 15.0


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


def _reads(backend: str, plan: str, uses_index: bool) -> str:
    if uses_index:
        return "the spatial index" + (", then sorts what it found" if "TEMP B-TREE FOR ORDER BY" in plan else "")
    if "ix_field_records_received" in plan:
        # PostgreSQL's choice for an area of a district (1/20 of the rows): newest first, ~20 rows read per hit.
        return "ix_field_records_received newest first, the area tested on the way (not the spatial index)"
    return "does NOT use the spatial index"


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


def _statements(app, headers: dict, queries: list[dict]) -> list[tuple[str, object]]:
    """The list statement (SQL, parameters) the endpoint sends for each query, captured in process."""
    engine = app.extensions["ENGINE"]
    client = app.test_client()
    out = []
    for q in queries:
        with _capture(engine) as seen:
            resp = client.get("/api/v1/findings", headers=headers, query_string=q)
        if resp.status_code != 200:
            raise RuntimeError(f"GET /api/v1/findings {q}: {resp.status_code}")
        out.append(next((st, p) for st, p in reversed(seen) if "FROM field_records" in st and "LIMIT" in st))
    return out


def _http(client: Client, query: dict, counts: list[int]) -> float:
    status, _, body, ms = client.get("/api/v1/findings", query)
    if status != 200:
        raise RuntimeError(f"GET /api/v1/findings {query}: {status} {body[:300]!r}")
    counts.append(len(json.loads(body)["items"]))
    return ms


def _alone(conn, statement: tuple[str, object]) -> float:
    started = time.perf_counter()
    conn.exec_driver_sql(*statement).all()
    ms = (time.perf_counter() - started) * 1000
    # Not left open: on SQLite the app's engine begins IMMEDIATE, a lock gunicorn's requests would wait for.
    conn.rollback()
    return ms


def interleaved(ours, reference, n: int, rounds: int) -> tuple[list[float], list[float]]:
    """A/B/A/B: ``rounds`` rounds, each a slice of the ``n`` requests by ``ours(i)`` then the same by ``reference(i)``."""
    a, b = [], []
    edges = [round(n * r / rounds) for r in range(rounds + 1)]
    for lo, hi in zip(edges, edges[1:]):
        a += [ours(i) for i in range(lo, hi)]
        b += [reference(i) for i in range(lo, hi)]
    return a, b


def measure(s: Seeded, samples: int, reference_samples: int, opts: Options, plans: list[str]) -> list[Row]:
    workdir = opts.workdir / "spatial"
    rng = random.Random(4)
    requests = _requests(s, samples, rng)
    app = s.app(workdir)
    headers = s.headers(app, "admin")
    rows: list[Row] = []
    size = label(s.size)
    db = "PostGIS" if s.backend == "postgis" else "SpatiaLite"
    http: dict[str, list[float]] = {}
    alone: dict[str, list[float]] = {}
    counts: dict[str, list[int]] = {k: [] for k in KINDS}
    loads: dict[str, float] = {}
    uses, plans_of = {}, {}
    try:
        statements = {kind: _statements(app, headers, requests[kind]) for kind in KINDS}
        app.extensions["ENGINE"].dispose()  # nothing of this process holds the database while gunicorn serves
        with serving_database(opts, s.url, f"spatial-{s.backend}") as server, \
                app.extensions["ENGINE"].connect() as conn:
            client = Client(server.base_url, headers)
            for kind in KINDS:  # warm-up: caches, the first plan, in the server and here
                for i in range(min(5, samples)):
                    _http(client, requests[kind][i], [])
                    _alone(conn, statements[kind][i])
            for kind in KINDS:
                load = os.getloadavg()[0]
                http[kind], alone[kind] = interleaved(
                    lambda i: _http(client, requests[kind][i], counts[kind]),
                    lambda i: _alone(conn, statements[kind][i]), samples, ROUNDS)
                loads[kind] = max(load, os.getloadavg()[0])
            client.close()
        test_client = app.test_client()
        for kind in KINDS:
            plan = _plan(s, app, test_client, headers, requests[kind][0])
            uses[kind] = _uses_index(s.backend, plan)
            plans_of[kind] = plan
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
        times, floor = http[kind], alone[kind]
        p50, p95 = percentile(times, 50), percentile(times, 95)
        f50, f95 = percentile(floor, 50), percentile(floor, 95)
        notes = (f"HTTP via gunicorn, keep-alive, one at a time; {len(times)} requests, "
                 f"{statistics.mean(counts[kind]):.1f} items/page on average; A/B x{ROUNDS} with the statement "
                 f"alone; plan: {_reads(s.backend, plans_of[kind], uses[kind])}; "
                 f"load avg {loads[kind]:.2f}")
        case = f"{kind} ({db}, {size})"
        floor_name = "the statement alone"
        rows.append(Row(BENCH, case, "p50 ms", p50, floor_name, f50, p50 / f50 if f50 else None, notes=notes))
        target = f"<= {TARGET_P95_MS:g} ms" if s.backend == "postgis" else ""
        rows.append(Row(BENCH, case, "p95 ms", p95, floor_name, f95, p95 / f95 if f95 else None, target=target,
                        met=(p95 <= TARGET_P95_MS) if s.backend == "postgis" else None, notes=notes))
        r95 = percentile(slow[kind], 95)
        rows.append(Row(BENCH, case, "p95 ms, spatial index disabled", r95,
                        notes=(f"in process (Flask test client), {len(slow[kind])} requests: what the index saves; only an app "
                               f"in this process can be without it (PostGIS: dropped in a transaction it shares; "
                               f"SpatiaLite: the R*Tree filter left out)")))
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
        rows.extend(measure(s, n, reference_samples, opts, plans))
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
    rows = run(Options(quick=args.quick, extra=extra))
    print_table(rows)
    for row in rows:
        if row.notes:
            print(f"  {row.case} / {row.figure}: {row.notes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
