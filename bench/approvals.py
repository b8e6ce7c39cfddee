"""Benchmark 8: the approvals push. 10,000 events in batches of 500, then every batch replayed.

    python -m bench.approvals [--quick] [--events 10000] [--batch 500]

Through the API in process (the Flask test client, no HTTP server: the figure is the app's and
the database's, not a web server's): ``POST /api/v1/approvals/events`` as the district's admin
(the approval system's account), on a fresh PostGIS database (``fieldwatch_bench_approvals``)
and on SQLite. Cases have five events each (accepted, two parallel steps started, a 补正
suspension, completed: the completion ends the suspension), spread over 2026 so their working days cross the holidays.
Figures: events/s of the first pass (target: at least 2,000 on PostGIS on the 2-core machine),
and of the replay, which must change nothing: the replay's answers count every event as a
duplicate, and the table of cases reads the same before and after it (checked, not assumed; a
difference fails the benchmark).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from api import create_app
from field.accounts import users as accounts
from field.core import migrate
from field.core.models.platform import Role

from .common import Options, Row, fresh_pg_database, print_table

BENCH = "8 approvals push"
CST = timezone(timedelta(hours=8))
START = datetime(2026, 1, 5, 9, 0, tzinfo=CST)


def events(n: int) -> list[dict]:
    out = []
    for i in range(n // 5):
        number, t = f"QX-{i:06d}", START + timedelta(hours=7 * i % (24 * 300))
        matter = f"QX-{i % 8:03d}"
        out += [
            {"case_number": number, "seq": 1, "type": "accepted", "at": t.isoformat(), "matter_code": matter,
             "applicant": f"企业{i % 97}"},
            {"case_number": number, "seq": 2, "type": "step_started", "at": (t + timedelta(hours=1)).isoformat(),
             "step": "plan", "parallel_group": 1},
            {"case_number": number, "seq": 3, "type": "step_started", "at": (t + timedelta(hours=1)).isoformat(),
             "step": "fire", "parallel_group": 1},
            {"case_number": number, "seq": 4, "type": "suspended", "at": (t + timedelta(days=1)).isoformat(),
             "reason": "补正"},
            {"case_number": number, "seq": 5, "type": "completed", "at": (t + timedelta(days=4 + i % 9)).isoformat(),
             "outcome": "approved"},
        ]
    return out


def _world(app) -> dict:
    from stress.world import chongqing

    with app.extensions["SESSION_FACTORY"]() as s:
        _, _, district = chongqing(s)
        admin = accounts.create_user(s, actor=None, username="bench-admin", password="correct horse battery",
                                     display_name="审批系统", role=Role.admin, jurisdiction_id=district.id)
        token = accounts.issue_token(s, admin, "approvals", timedelta(days=1)).token
        s.commit()
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    for k in range(8):
        resp = client.post("/api/v1/approval-matters", headers=headers, json={
            "code": f"QX-{k:03d}", "name": f"事项{k}", "legal_limit_days": 20, "promised_limit_days": 3 + k,
            "deemed_approval": k % 2 == 0})
        assert resp.status_code == 201, resp.get_json()
    return headers


def _state(app) -> str:
    with app.extensions["ENGINE"].connect() as conn:
        rows = conn.execute(text("SELECT id, updated_at, working_days, state FROM approval_cases ORDER BY id")).all()
        counts = conn.execute(text("SELECT (SELECT count(*) FROM approval_events), "
                                   "(SELECT count(*) FROM approval_alerts), (SELECT count(*) FROM approval_steps)")
                              ).one()
    return hashlib.sha256(repr((rows, tuple(counts))).encode()).hexdigest()


def _pass(client, headers, batches) -> tuple[float, dict]:
    totals: dict = {}
    started = time.perf_counter()
    for batch in batches:
        resp = client.post("/api/v1/approvals/events", headers=headers, json={"source_system": "qx", "events": batch})
        if resp.status_code != 200:
            raise RuntimeError(f"push answered {resp.status_code}: {resp.get_data(as_text=True)[:300]}")
        for key, value in resp.get_json().items():
            if isinstance(value, int):
                totals[key] = totals.get(key, 0) + value
    return time.perf_counter() - started, totals


def measure(url: str, n: int, size: int) -> tuple[float, float, dict, dict]:
    migrate.upgrade(url)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "EVIDENCE_DIR": f"{tmp}/evidence",
                          "OFFICE_DATE": "2026-12-31"})
        headers = _world(app)
        client = app.test_client()
        all_events = events(n)
        batches = [all_events[i:i + size] for i in range(0, len(all_events), size)]
        first, totals = _pass(client, headers, batches)
        before = _state(app)
        replay, replayed = _pass(client, headers, batches)
        if _state(app) != before or replayed.get("applied") or replayed.get("duplicates") != len(all_events):
            raise RuntimeError(f"the replay changed something: {replayed}")
        app.extensions["ENGINE"].dispose()
    return len(all_events) / first, len(all_events) / replay, totals, replayed


def run(opts: Options, n: int | None = None, size: int = 500) -> list[Row]:
    n = n or (2_000 if opts.quick else 10_000)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend, url in (("PostGIS", fresh_pg_database("fieldwatch_bench_approvals", opts.pg_server)),
                             ("SQLite", f"sqlite:///{tmp}/approvals.db")):
            rate, replay_rate, totals, _ = measure(url, n, size)
            rows.append(Row(BENCH, f"{n:,} events, batches of {size} ({backend})", "events/s", rate,
                            target=">= 2,000 events/s" if backend == "PostGIS" else "",
                            met=rate >= 2000 if backend == "PostGIS" else None,
                            notes=f"{totals.get('cases_created', 0)} cases, {totals.get('alerts_raised', 0)} alerts"))
            rows.append(Row(BENCH, f"replay of every batch ({backend})", "events/s", replay_rate,
                            notes="nothing changed (checked)"))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--events", type=int, default=None)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args(argv)
    print_table(run(Options(quick=args.quick), args.events, args.batch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
