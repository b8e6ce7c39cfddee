"""What one finding costs inside the app: CPU ms, SQL statements, transactions and checkouts per request.

    python -m bench.ingest_profile [--requests 300] [--warm 30] [--phones 4] [--batch N] [--statements] [--pyinstrument]

Builds the benchmark's world (stress/world.py: a district, a squad, its members with device
tokens, a unit) on a fresh PostGIS database ``fieldwatch_bench_ingest_profile`` and sends
findings exactly as ``bench.ingest`` does (bearer token, ``X-Device-Time``, a new record UUID
and ``Idempotency-Key`` each) through ``app.test_client()``, one at a time, in this process.
CPU time (``time.process_time``) is robust to a busy machine where wall time is not: it is the
figure to compare before and after a change. Per request it counts the SQL statements sent
(``before_cursor_execute``), the transactions committed or rolled back, and the pool checkouts
(a ping round trip when the connection sat idle, field/core/db.py). ``--statements`` prints one
request's statements in order (marking those SQLAlchemy compiled anew, not from its cache); ``--pyinstrument`` prints a profile of the measured requests.
With ``--batch N`` each request is a ``POST /api/v1/batches`` of N findings and the CPU figures
are also given per record. Every answer (every item) must be 201: anything else stops the run. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import event
from sqlalchemy.engine.interfaces import CacheStats

from .common import DB_PREFIX, PG_SERVER, fresh_pg_database, percentile

DATABASE = f"{DB_PREFIX}_ingest_profile"


def finding_body(unit_id: str, rid: uuid.UUID) -> dict:
    """The body ``bench.ingest``'s wrk script sends."""
    return {"id": str(rid), "device_time": "2026-05-12T10:40:00+08:00", "category": "absent_from_post",
            "severity": "moderate", "unit_id": unit_id, "occurred_at": "2026-05-12T09:50:00+08:00",
            "location": {"type": "Point", "coordinates": [106.5286, 29.5026], "crs": "gcj02", "accuracy_m": 8.0},
            "description": f"窗口工作人员离岗约二十分钟，群众排队等候。 {rid}"}


@dataclass
class Counts:
    """Database traffic of the current request, reset before each one."""

    statements: list[str] = field(default_factory=list)
    #: Statements compiled anew (not found in SQLAlchemy's statement cache, or not cacheable).
    compiled: list[str] = field(default_factory=list)
    commits: int = 0
    rollbacks: int = 0
    checkouts: int = 0

    def reset(self) -> None:
        self.statements, self.compiled, self.commits, self.rollbacks, self.checkouts = [], [], 0, 0, 0


def _listen(engine, counts: Counts) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _statement(conn, cursor, statement, parameters, context, executemany):
        counts.statements.append(statement)
        if context is not None and context.cache_hit is not CacheStats.CACHE_HIT:
            counts.compiled.append(statement)

    @event.listens_for(engine, "commit")
    def _commit(conn):
        counts.commits += 1

    @event.listens_for(engine, "rollback")
    def _rollback(conn):
        counts.rollbacks += 1

    @event.listens_for(engine.pool, "checkout")
    def _checkout(dbapi_connection, record, proxy):
        counts.checkouts += 1


def profile(database_url: str, *, requests: int, warm: int, phones: int, show_statements: bool,
            pyinstrument: bool, batch: int = 0) -> dict:
    from stress.world import add_phones, build

    with tempfile.TemporaryDirectory() as tmp:
        world = build(database_url, f"{tmp}/evidence")
        try:
            members = [p for p in add_phones(world, 2 * phones) if p.kind == "finding"]
            headers = [world.monitor_headers] + [p.headers for p in members]
            app = world.app
            counts = Counts()
            _listen(app.extensions["ENGINE"], counts)
            client = app.test_client()
            unit_id = str(world.unit_id)

            def send(i: int):
                rid = uuid.uuid4()
                sent = {**headers[i % len(headers)], "Idempotency-Key": f"finding-{rid}",
                        "X-Device-Time": datetime.now(timezone.utc).isoformat()}
                if not batch:
                    return client.post("/api/v1/findings", json=finding_body(unit_id, rid), headers=sent)
                items = [{"kind": "finding", "body": finding_body(unit_id, uuid.uuid4())} for _ in range(batch)]
                resp = client.post("/api/v1/batches", json={"items": items}, headers=sent)
                if resp.status_code == 207 and resp.get_json()["counts"] == {"201": batch}:
                    resp.status_code = 201  # every item created: what the checks below ask
                return resp

            first_cpu = time.process_time()
            first = send(0)
            first_cpu = time.process_time() - first_cpu
            if first.status_code != 201:
                raise RuntimeError(f"the first finding answered {first.status_code}: {first.get_data(as_text=True)}")
            for i in range(warm):
                send(i)
            profiler = None
            if pyinstrument:
                from pyinstrument import Profiler
                profiler = Profiler(interval=0.0005)
                profiler.start()
            cpu, wall, statements, compiled, commits, rollbacks, checkouts = [], [], [], [], [], [], []
            kinds: Counter = Counter()
            sample: list[str] = []
            for i in range(requests):
                counts.reset()
                c0, w0 = time.process_time(), time.perf_counter()
                resp = send(i)
                cpu.append((time.process_time() - c0) * 1000)
                wall.append((time.perf_counter() - w0) * 1000)
                if resp.status_code != 201:
                    raise RuntimeError(f"request {i} answered {resp.status_code}: {resp.get_data(as_text=True)}")
                statements.append(len(counts.statements))
                compiled.append(len(counts.compiled))
                commits.append(counts.commits)
                rollbacks.append(counts.rollbacks)
                checkouts.append(counts.checkouts)
                kinds.update(s.split(None, 1)[0].upper() for s in counts.statements)
                if i == requests // 2:
                    sample = [("(compiled) " if s in counts.compiled else "") + s for s in counts.statements]
            if profiler is not None:
                profiler.stop()
                print(profiler.output_text(unicode=True, color=False, show_all=False))
        finally:
            world.close()
    if show_statements:
        print(f"-- the statements of one request ({len(sample)}):")
        for s in sample:
            print("  " + " ".join(s.split())[:220])
    n = len(cpu)
    per_record = {}
    if batch:
        per_record = {"records per request": batch, "cpu ms per record": sum(cpu) / n / batch}
    return {**per_record,
        "requests": n, "first request cpu ms": first_cpu * 1000,
        "cpu ms mean": sum(cpu) / n, "cpu ms p50": percentile(cpu, 50), "cpu ms p95": percentile(cpu, 95),
        "wall ms p50": percentile(wall, 50),
        "statements": sum(statements) / n, "statements compiled": sum(compiled) / n, "commits": sum(commits) / n, "rollbacks": sum(rollbacks) / n,
        "checkouts": sum(checkouts) / n,
        "statement kinds per request": {k: round(v / n, 2) for k, v in sorted(kinds.items())},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warm", type=int, default=30, help="findings sent before measuring")
    parser.add_argument("--phones", type=int, default=4, help="squad members sending, besides the world's own")
    parser.add_argument("--batch", type=int, default=0, help="send batches of this many findings (POST /api/v1/batches)")
    parser.add_argument("--statements", action="store_true", help="print one request's SQL statements")
    parser.add_argument("--pyinstrument", action="store_true", help="print a profile of the measured requests")
    parser.add_argument("--database", default=DATABASE, help="database name on BENCH_PG_SERVER (dropped, made anew)")
    args = parser.parse_args(argv)
    url = fresh_pg_database(args.database)
    try:
        result = profile(url, requests=args.requests, warm=args.warm, phones=args.phones,
                         show_statements=args.statements, pyinstrument=args.pyinstrument, batch=args.batch)
    finally:
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    for name, value in result.items():
        print(f"{name:28} {value:.2f}" if isinstance(value, float) else f"{name:28} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
