"""Benchmark 5: lists stay flat. The review queue at any depth and any scope, 10,000 against 1,000,000 records, over HTTP.

    python -m bench.lists [--quick] [--samples 100] [--limit 20] [--size 1000000]

Through gunicorn with the production settings (bench/serve.py: 3 processes x 4 threads,
gthread), one per seeded database (bench/seed.py), PostGIS and SpatiaLite alike: a Python
client on one keep-alive connection (bench/serve.py ``Client``: from sending the request to
having read the whole body, one request at a time) sends ``GET /api/v1/review-queue``
(keyset pages of ``--limit`` 20, oldest first) as

- the city office's reviewer (a wide scope: every seeded finding, a quarter of them waiting),
  pages 1, 100 and 10,000;
- the district reviewer (one jurisdiction, 1/20 of the records), pages 1 and 100;
- the sparse street's reviewer (``SPARSE_STREET``: two or three findings at 1M, none of them
  waiting in this seed, none at 10k), page 1: the scope that used to pay for the whole queue
  (1.5 s at 1M), now one index range per jurisdiction of its scope.

Deep pages are not reached by following ``next_cursor`` 9,999 times: the cursor is the page's
keys (base64 JSON of the last row's ``received_at`` and ``id``, field/core/pages.py), so the
cursor of page P is built from the row at position (P-1) x limit of the same statement the
endpoint runs (``review_queue`` ordered by its keys, one OFFSET query per case, before timing).
The run checks the construction: the built cursor of the city's page 100 must equal the one
reached by following ``next_cursor`` 99 times over HTTP. A page deeper than a queue holds (page
10,000 needs 200,000 waiting records: only the city's queue at 1M) is measured at that queue's
deepest page instead, and the row says which page was served.

Figure: p95 at 1M, with its reference, the same request at 10k, interleaved A/B/A/B in
``ROUNDS`` rounds (1M's requests, then 10k's, again) so both see the same machine. Targets
(issue 18): ratio at most 1.5, and on PostGIS p95 under 20 ms at 1M. The console's queue page
(``/console/``, the same queue rendered as HTML, signed in through the sign-in form with the
browser's cookies) is timed the same way for the city and district reviewers: target under
200 ms at 1M. The plans of the 1M statements (EXPLAIN ANALYZE / EXPLAIN QUERY PLAN of what the
endpoint sent, captured from the app in process) go to var/bench/lists_plans.txt; a row's
note says whether the plan sorted rows. Each row notes the load average during its run.

``--quick``: 10,000 against 50,000 records, fewer samples.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from contextlib import ExitStack

from .common import OUT_DIR, Options, Row, percentile, print_table
from .seed import Seeded, label, seeded
from .serve import Client, serving_database
from .spatial import _capture

BENCH = "5 lists stay flat"
PATH = "/api/v1/review-queue"
CONSOLE_PATH = "/console/"
#: (who, page) timed; a page deeper than the queue is measured at its deepest page.
CASES = (("city_reviewer", 1), ("city_reviewer", 100), ("city_reviewer", 10_000),
         ("district_reviewer", 1), ("district_reviewer", 100), ("sparse_reviewer", 1))
SCOPES = {"city_reviewer": "city office", "district_reviewer": "district office", "sparse_reviewer": "sparse street"}
#: A/B rounds: each round times samples/ROUNDS requests at the large size, then as many at the small.
ROUNDS = 5
TARGET_RATIO = 1.5
TARGET_P95_MS = 20.0
TARGET_CONSOLE_MS = 200.0


def _queue_stmt(session, s: Seeded, who: str):
    from sqlalchemy import select

    from field.core.models.platform import User
    from field.records import lifecycle as records

    user = session.execute(select(User).where(User.username == s.users[who])).scalar_one()
    return records.review_queue(session, user)


def cursors(s: Seeded, app, who: str, pages: list[int], limit: int) -> tuple[int, dict[int, tuple[int, str | None]]]:
    """(waiting records in scope, {page asked: (page served, its cursor)}), cursors built from the keys."""
    from sqlalchemy import func, select

    from field.core.models.records import FieldRecord
    from field.core.pages import _encode

    out = {}
    with app.extensions["SESSION_FACTORY"]() as session:
        stmt = _queue_stmt(session, s, who)
        waiting = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        deepest = max(1, math.ceil(waiting / limit))
        for page in pages:
            served = min(page, deepest)
            if served == 1:
                out[page] = (1, None)
                continue
            keys = session.execute(stmt.with_only_columns(FieldRecord.received_at, FieldRecord.id)
                                   .order_by(FieldRecord.received_at, FieldRecord.id)
                                   .offset((served - 1) * limit - 1).limit(1)).one()
            out[page] = (served, _encode(list(keys)))
    return waiting, out


def _get(client: Client, query: dict) -> tuple[dict, float]:
    status, _, body, ms = client.get(PATH, query)
    if status != 200:
        raise RuntimeError(f"GET {PATH} {query}: {status} {body[:300]!r}")
    return json.loads(body), ms


def followed_cursor(client: Client, limit: int, page: int) -> str:
    """The cursor of ``page`` reached the way a client does: following ``next_cursor``."""
    cursor = None
    for _ in range(page - 1):
        body, _ = _get(client, {"limit": limit} | ({"cursor": cursor} if cursor else {}))
        cursor = body["next_cursor"]
    return cursor


def _plan(s: Seeded, app, headers: dict, query: dict) -> str:
    engine = app.extensions["ENGINE"]
    with _capture(engine) as seen:
        resp = app.test_client().get(PATH, headers=headers, query_string=query)
        assert resp.status_code == 200, resp.status_code
    statements = [(st, p) for st, p in seen if "FROM field_records" in st and "LIMIT" in st]
    statement, params = statements[-1]
    with engine.connect() as conn:
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if s.backend == "postgis" else "EXPLAIN QUERY PLAN "
        rows = conn.exec_driver_sql(prefix + statement, params).all()
    return "\n".join(" | ".join(str(c) for c in r) for r in rows)


def _reads(backend: str, plan: str) -> str:
    """How the plan reads the page: in index order, or a sort (bounded when it merges per-jurisdiction legs)."""
    if backend == "postgis":
        sorts = any(line.strip().startswith(("Sort", "->  Sort", "Incremental Sort", "->  Incremental Sort"))
                    for line in plan.splitlines())
        legs = "unnest leg" in plan
    else:
        sorts = "TEMP B-TREE FOR ORDER BY" in plan or "TEMP B-TREE FOR RIGHT PART OF ORDER BY" in plan
        legs = "COMPOUND" in plan or "UNION ALL" in plan
    if legs:
        return "reads each jurisdiction's leg in index order from the cursor, merges at most legs x (limit+1) keys"
    return "sorts" if sorts else "reads in index order"


_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def signed_in(base_url: str, username: str) -> Client:
    """A browser's connection signed in to the console through its sign-in form (cookies kept)."""
    from .seed import PASSWORD

    client = Client(base_url)
    status, _, form, _ = client.get("/console/sign-in")
    status, headers, body = client.post_form("/console/sign-in", {
        "username": username, "password": PASSWORD, "csrf_token": _CSRF.findall(form.decode())[-1]})
    if status != 303:
        raise RuntimeError(f"console sign-in as {username}: {status} {body[:200]!r}")
    return client


def _console(client: Client) -> float:
    status, _, body, ms = client.get(CONSOLE_PATH)
    if status != 200 or b'data-test="queue-row"' not in body:
        raise RuntimeError(f"GET {CONSOLE_PATH}: {status}")
    return ms


def interleaved(large, small, samples: int, rounds: int = ROUNDS) -> tuple[list[float], list[float]]:
    """A/B/A/B: ``rounds`` rounds, each ``samples/rounds`` timings of ``large()`` then as many of ``small()``."""
    per = max(1, samples // rounds)
    a, b = [], []
    for _ in range(rounds):
        a += [large() for _ in range(per)]
        b += [small() for _ in range(per)]
    return a, b


def measure_backend(backend: str, sizes: tuple[int, int], samples: int, limit: int, opts: Options,
                    plans: list[str]) -> list[Row]:
    db = "PostGIS" if backend == "postgis" else "SpatiaLite"
    rows: list[Row] = []
    small, large = sizes
    seeds, apps, headers, queries, served_pages, waiting = {}, {}, {}, {}, {}, {}
    with ExitStack() as stack:
        for size in sizes:
            s = seeds[size] = seeded(backend, size, pg_server=opts.pg_server, workdir=opts.workdir)
            if not s.reused:
                rows.append(Row(BENCH, f"seeding {label(size)} findings ({backend})", "seconds", s.seconds,
                                notes="bench/seed.py"))
            app = apps[size] = s.app(opts.workdir / "lists")
            stack.callback(app.extensions["ENGINE"].dispose)
            for who in SCOPES:
                headers[size, who] = s.headers(app, who)
                pages = [p for w, p in CASES if w == who]
                waiting[size, who], built = cursors(s, app, who, pages, limit)
                for page, (served, cursor) in built.items():
                    served_pages[size, who, page] = served
                    queries[size, who, page] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        bases = {size: stack.enter_context(serving_database(opts, seeds[size].url, f"lists-{backend}-{label(size)}"))
                 .base_url for size in sizes}
        clients = {(size, who): Client(bases[size], headers[size, who]) for size in sizes for who in SCOPES}
        # The built cursor is the one a client reaches by following next_cursor.
        for size in sizes:
            if served_pages[size, "city_reviewer", 100] == 100:
                followed = followed_cursor(clients[size, "city_reviewer"], limit, 100)
                if followed != queries[size, "city_reviewer", 100]["cursor"]:
                    raise RuntimeError(f"page 100's built cursor differs from the followed one ({backend}, {size})")
        for who, page in CASES:
            def timed(size):
                client, query = clients[size, who], queries[size, who, page]
                return lambda: _get(client, query)[1]
            for size in sizes:  # warm-up: the statement cached, the pages read once
                for _ in range(3):
                    timed(size)()
            load = os.getloadavg()[0]
            t_large, t_small = interleaved(timed(large), timed(small), samples)
            load = max(load, os.getloadavg()[0])
            plan = _plan(seeds[large], apps[large], headers[large, who], queries[large, who, page])
            plans.append(f"== {backend}, {label(large)} records, {who}, page {served_pages[large, who, page]}\n"
                         f"{plan}\n")
            p95_large, p95_small = percentile(t_large, 95), percentile(t_small, 95)
            ratio = p95_large / p95_small
            met = ratio <= TARGET_RATIO and (backend != "postgis" or p95_large < TARGET_P95_MS)
            where = (f"page {served_pages[large, who, page]:,} of {waiting[large, who]:,} waiting at {label(large)}, "
                     f"page {served_pages[small, who, page]:,} of {waiting[small, who]:,} at {label(small)}")
            rows.append(Row(
                BENCH, f"review queue page {page:,}, {SCOPES[who]} ({db})", f"p95 ms at {label(large)}", p95_large,
                f"p95 ms at {label(small)}", p95_small, ratio,
                f"<= {TARGET_RATIO}" + (f", < {TARGET_P95_MS:g} ms" if backend == "postgis" else ""), met,
                notes=(f"HTTP via gunicorn, keep-alive, one at a time; {where}; p50 {percentile(t_large, 50):.2f} ms "
                       f"vs {percentile(t_small, 50):.2f} ms; {len(t_large)} requests each, {limit} a page, "
                       f"A/B x{ROUNDS}; plan at {label(large)}: {_reads(backend, plan)}; load avg {load:.2f}")))
        for client in clients.values():
            client.close()
        # The console's queue page (issue 16: under 200 ms at 1M): the same queue, rendered.
        for who in ("city_reviewer", "district_reviewer"):
            browsers = {size: signed_in(bases[size], seeds[size].users[who]) for size in sizes}
            for size in sizes:
                _console(browsers[size])
            load = os.getloadavg()[0]
            t_large, t_small = interleaved(lambda: _console(browsers[large]), lambda: _console(browsers[small]),
                                           samples)
            load = max(load, os.getloadavg()[0])
            p95_large, p95_small = percentile(t_large, 95), percentile(t_small, 95)
            rows.append(Row(
                BENCH, f"console queue page, {SCOPES[who]} ({db})", f"p95 ms at {label(large)}", p95_large,
                f"p95 ms at {label(small)}", p95_small, p95_large / p95_small,
                f"< {TARGET_CONSOLE_MS:g} ms at 1M", p95_large < TARGET_CONSOLE_MS,
                notes=(f"HTTP via gunicorn, signed in by the form, HTML rendered (25 rows); p50 "
                       f"{percentile(t_large, 50):.1f} ms vs {percentile(t_small, 50):.1f} ms; {len(t_large)} "
                       f"requests each, A/B x{ROUNDS}; load avg {load:.2f}")))
            for browser in browsers.values():
                browser.close()
    return rows


def run(opts: Options) -> list[Row]:
    sizes = (10_000, 50_000) if opts.quick else (10_000, int(opts.extra.get("lists_size", 1_000_000)))
    samples = int(opts.extra.get("lists_samples", 20 if opts.quick else 100))
    limit = int(opts.extra.get("lists_limit", 20))
    backends = opts.extra.get("lists_backends", ("postgis", "spatialite"))
    rows: list[Row] = []
    plans: list[str] = []
    for backend in backends:
        rows += measure_backend(backend, sizes, samples, limit, opts, plans)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "lists_plans.txt").write_text("\n".join(plans))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--size", type=int, help="the large size (default 1,000,000)")
    parser.add_argument("--samples", type=int)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--backends", nargs="+", choices=("postgis", "spatialite"))
    args = parser.parse_args(argv)
    extra = {k: v for k, v in (("lists_size", args.size), ("lists_samples", args.samples),
                               ("lists_limit", args.limit),
                               ("lists_backends", tuple(args.backends) if args.backends else None)) if v is not None}
    rows = run(Options(quick=args.quick, extra=extra))
    print_table(rows)
    for row in rows:
        if row.notes:
            print(f"  {row.case}: {row.notes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
