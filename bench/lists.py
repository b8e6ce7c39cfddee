"""Benchmark 5: lists stay flat. The review queue's first and hundredth page at 10,000 and at 1,000,000 records.

    python -m bench.lists [--quick] [--samples 100] [--limit 20]

Through the API: the Flask test client sends ``GET /api/v1/review-queue`` (keyset pages, oldest
first) as the city office's reviewer, whose scope is an IN-subquery over the 21 jurisdictions
below the city (every seeded finding; a quarter of them wait for review, see bench/seed.py).
Page 100 is reached by following ``next_cursor`` 99 times; only the 100th request is timed,
``--samples`` times, like the first page. Figure: p95 at 1M over p95 at 10k, per page and
database. Target: at most 1.5. The district reviewer's first page (a one-jurisdiction scope,
1/20 of the records) is measured the same way. The console's queue page (``/console/``, the same
queue rendered as HTML, signed in with the console's session) is timed for both reviewers: target
under 200 ms of server time at 1M.

Pages hold 20 records (``--limit``): at 10,000 records the city office's queue holds ~2,500,
so a hundredth page of 20 exists; of the default 50 it would not. The plans of the 1M queries
(EXPLAIN ANALYZE / EXPLAIN QUERY PLAN of the statement the endpoint sent) go to
var/bench/lists_plans.txt; a row's note says whether the plan sorted rows.

``--quick``: 10,000 against 50,000 records, fewer samples.
"""

from __future__ import annotations

import argparse
import re
import sys
import time

from .common import OUT_DIR, Options, Row, percentile, print_table
from .seed import Seeded, label, seeded
from .spatial import _capture

BENCH = "5 lists stay flat"
PATH = "/api/v1/review-queue"
CONSOLE_PATH = "/console/"


def _get(client, headers, query) -> dict:
    resp = client.get(PATH, headers=headers, query_string=query)
    if resp.status_code != 200:
        raise RuntimeError(f"GET {PATH} {query}: {resp.status_code} {resp.get_data(as_text=True)[:300]}")
    return resp.get_json()


def _timed(client, headers, query, samples: int) -> list[float]:
    _get(client, headers, query)  # warm-up
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        _get(client, headers, query)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _plan(s: Seeded, app, client, headers, query) -> str:
    engine = app.extensions["ENGINE"]
    with _capture(engine) as seen:
        client.get(PATH, headers=headers, query_string=query)
    statement, params = next((st, p) for st, p in reversed(seen) if "FROM field_records" in st and "LIMIT" in st)
    with engine.connect() as conn:
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if s.backend == "postgis" else "EXPLAIN QUERY PLAN "
        rows = conn.exec_driver_sql(prefix + statement, params).all()
    return "\n".join(" | ".join(str(c) for c in r) for r in rows)


def _sorts(backend: str, plan: str) -> bool:
    if backend == "postgis":
        return any(line.strip().startswith(("Sort", "->  Sort", "Incremental Sort", "->  Incremental Sort"))
                   for line in plan.splitlines())
    return "TEMP B-TREE FOR ORDER BY" in plan or "TEMP B-TREE FOR RIGHT PART OF ORDER BY" in plan


def measure(s: Seeded, samples: int, limit: int, workdir, plans: list[str] | None) -> dict:
    """{(who, page): (times, sorted?)} for the city reviewer's pages 1 and 100, the district reviewer's page 1."""
    app = s.app(workdir)
    client = app.test_client()
    out = {}
    try:
        for who, pages in (("city_reviewer", (1, 100)), ("district_reviewer", (1,))):
            headers = s.headers(app, who)
            cursor = None
            for page in range(1, max(pages) + 1):
                query = {"limit": limit} | ({"cursor": cursor} if cursor else {})
                if page in pages:
                    times = _timed(client, headers, query, samples)
                    sorts = None
                    if plans is not None:
                        plan = _plan(s, app, client, headers, query)
                        sorts = _sorts(s.backend, plan)
                        plans.append(f"== {s.backend}, {label(s.size)} records, {who}, page {page}\n{plan}\n")
                    out[(who, page)] = (times, sorts)
                body = _get(client, headers, query)
                cursor = body["next_cursor"]
                if cursor is None and page < max(pages):
                    raise RuntimeError(f"{who}'s queue on {s.backend} ({s.size}) ends at page {page}")
        # The console's queue page (issue 16: under 200 ms of server time at 1M): the same queue, rendered.
        for who in ("city_reviewer", "district_reviewer"):
            console = _signed_in(app, s.users[who])
            out[(who, "console")] = (_timed_page(console, samples), None)
    finally:
        app.extensions["ENGINE"].dispose()
    return out


_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def _signed_in(app, username: str):
    """A test client signed in to the console (a browser's cookies) as ``username``."""
    from .seed import PASSWORD

    client = app.test_client()
    form = client.get("/console/sign-in").get_data(as_text=True)
    resp = client.post("/console/sign-in", data={"username": username, "password": PASSWORD,
                                                   "csrf_token": _CSRF.findall(form)[-1]})
    if resp.status_code != 303:
        raise RuntimeError(f"console sign-in as {username}: {resp.status_code}")
    return client


def _timed_page(client, samples: int) -> list[float]:
    """Server time of the console's queue page (the test client calls the app in process: no network)."""
    def get():
        resp = client.get(CONSOLE_PATH)
        body = resp.get_data()
        if resp.status_code != 200 or b'data-test="queue-row"' not in body:
            raise RuntimeError(f"GET {CONSOLE_PATH}: {resp.status_code}")

    get()  # warm-up
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        get()
        times.append((time.perf_counter() - started) * 1000)
    return times


def run(opts: Options) -> list[Row]:
    small, large = (10_000, 50_000) if opts.quick else (10_000, int(opts.extra.get("lists_size", 1_000_000)))
    samples = int(opts.extra.get("lists_samples", 20 if opts.quick else 100))
    limit = int(opts.extra.get("lists_limit", 20))
    rows: list[Row] = []
    plans: list[str] = []
    for backend in ("postgis", "spatialite"):
        db = "PostGIS" if backend == "postgis" else "SpatiaLite"
        results = {}
        for size in (small, large):
            s = seeded(backend, size, pg_server=opts.pg_server, workdir=opts.workdir)
            if not s.reused:
                rows.append(Row(BENCH, f"seeding {label(size)} findings ({backend})", "seconds", s.seconds,
                                notes="bench/seed.py"))
            results[size] = measure(s, samples, limit, opts.workdir / "lists", plans if size == large else None)
        for (who, page), (times_large, sorts) in results[large].items():
            times_small = results[small][(who, page)][0]
            p95_large, p95_small = percentile(times_large, 95), percentile(times_small, 95)
            ratio = p95_large / p95_small
            scope = "city office" if who == "city_reviewer" else "district office"
            if page == "console":
                rows.append(Row(
                    BENCH, f"console queue page, {scope} ({db})", f"p95 ms at {label(large)}", p95_large,
                    f"p95 ms at {label(small)}", p95_small, ratio, "< 200 ms at 1M", p95_large < 200,
                    notes=(f"server time (in process, HTML rendered, 25 rows); p50 {percentile(times_large, 50):.1f} ms "
                           f"vs {percentile(times_small, 50):.1f} ms; {len(times_large)} requests each")))
                continue
            rows.append(Row(
                BENCH, f"review queue page {page}, {scope} ({db})", f"p95 ms at {label(large)}", p95_large,
                f"p95 ms at {label(small)}", p95_small, ratio, "<= 1.5", ratio <= 1.5,
                notes=(f"p50 {percentile(times_large, 50):.2f} ms vs {percentile(times_small, 50):.2f} ms; "
                       f"{len(times_large)} requests each, {limit} a page; plan at {label(large)} "
                       f"{'sorts' if sorts else 'reads in index order'}")))
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "lists_plans.txt").write_text("\n".join(plans))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--size", type=int, help="the large size (default 1,000,000)")
    parser.add_argument("--samples", type=int)
    parser.add_argument("--limit", type=int)
    args = parser.parse_args(argv)
    extra = {k: v for k, v in (("lists_size", args.size), ("lists_samples", args.samples),
                               ("lists_limit", args.limit)) if v is not None}
    print_table(run(Options(quick=args.quick, extra=extra)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
