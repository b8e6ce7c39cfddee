"""Benchmark 1, record ingest: findings POSTed through gunicorn on PostGIS, against pgbench inserting the same rows.

    python -m bench.ingest [--quick]

fieldwatch: ``POST /api/v1/findings`` exactly as a phone sends it: a JSON body with the
phone's UUID, a GCJ-02 location with its accuracy, category, severity and unit, a bearer
token, ``X-Device-Time`` and an ``Idempotency-Key``; the server checks the token, claims
the key, checks category and unit, stores the record envelope, the finding, its first
version and a custody entry, commits, and stores the answer under the key. Load comes
from ``wrk`` (C, event loop; 2 threads, a Lua script making a new UUID and key for every
request): on 2 cores a Python load generator would take a core of its own and be the
bottleneck. Concurrency 1, 4 and 16 connections (keep-alive), 20 s each (quick: 3 s),
after a short warm-up; requests/s, p50 and p95 latency (wrk's), and every answer that was
not 201 or a socket error (must be 0). The warm-up runs until every worker has served.

Floor: ``pgbench`` on the same database in the same run, at the same concurrency
(``-c N -j min(N,2) -T 20``), each transaction one INSERT statement that writes a copy of
a finding fieldwatch just stored: its envelope row and its finding row (a CTE), into
``bench_floor_records`` / ``bench_floor_findings``, made ``LIKE`` the real tables
``INCLUDING ALL`` (same columns, defaults, checks and indexes, the GiST index included;
foreign keys are not copied). That is the least the database must do to keep the same
record; fieldwatch also writes the version, the custody entry and the idempotency key.
Target: at concurrency 16 fieldwatch reaches at least 20 % of pgbench's rate.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

from .common import Options, Row, main_of
from .serve import Served, serving

NAME = "1 record ingest"
CONCURRENCY = (1, 4, 16)
TARGET_RATIO = 0.20
#: Squad members sending, each with a device token; requests take them in turn.
PHONES = 16

#: The wrk script: a new record UUID and Idempotency-Key for every request, per-status counts.
#: UUIDs are <run nonce>-<thread>-4000-8000-<counter>: unique by construction, valid v4 form.
WRK_SCRIPT = r"""
local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end

function init(args)
  nonce, unit = args[1], args[2]
  tokens = {}
  for token in string.gmatch(args[3], "[^,]+") do
    table.insert(tokens, token)
  end
  counter = 0
  statuses = {}
end

function request()
  counter = counter + 1
  local id = string.format("%s-%04x-4000-8000-%012x", nonce, tid, counter)
  local body = '{"id":"' .. id .. '","device_time":"2026-05-12T10:40:00+08:00",'
    .. '"category":"absent_from_post","severity":"moderate","unit_id":"' .. unit .. '",'
    .. '"occurred_at":"2026-05-12T09:50:00+08:00",'
    .. '"location":{"type":"Point","coordinates":[106.5286,29.5026],"crs":"gcj02","accuracy_m":8.0},'
    .. '"description":"窗口工作人员离岗约二十分钟，群众排队等候。 ' .. id .. '"}'
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[(counter + tid) % #tokens + 1],
    ["Idempotency-Key"] = "finding-" .. id,
    ["X-Device-Time"] = os.date("!%Y-%m-%dT%H:%M:%SZ"),
  }
  return wrk.format("POST", "/api/v1/findings", headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, n in pairs(counts) do
      merged[tostring(status)] = (merged[tostring(status)] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(merged) do
    table.insert(parts, string.format('"%s":%d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,'
    .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"statuses":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout,
    table.concat(parts, ",")))
end
"""


def wrk(served: Served, script: Path, connections: int, seconds: float) -> dict:
    """One wrk run; its summary as a dict (requests, duration, latency percentiles, errors, statuses)."""
    threads = min(2, connections)
    nonce = secrets.token_hex(4)
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "10s",
         "-s", str(script), served.base_url, "--", nonce, served.unit_id, ",".join(served.tokens)],
        capture_output=True, text=True, check=True, timeout=seconds + 60)
    found = re.search(r"^WRK_RESULT (.*)$", out.stdout, re.M)
    if not found:
        raise RuntimeError(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")
    result = json.loads(found.group(1))
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    result["bad"] = sum(n for status, n in result["statuses"].items() if status != "201") + sum(
        n for kind, n in result["errors"].items() if kind != "status")
    return result


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def warm_up(served: Served, script: Path, cpu_s: float = 1.0, rounds: int = 10) -> None:
    """Send findings until every worker has done ``cpu_s`` of work: each worker configures its
    mappers and fills its statement cache on its first requests (about a second of CPU), and
    wrk's connections land on workers unevenly, so one short warm-up leaves some cold."""
    for _ in range(rounds):
        wrk(served, script, 16, 1.0)
        if all(_cpu_s(pid) >= cpu_s for pid in served.worker_pids()):
            return


# -- the floor -------------------------------------------------------------------------------------


def _literal_row(conn, table: str, record_id: str, fresh: dict[str, str]) -> tuple[list[str], list[str]]:
    """Column names and SQL literals that rebuild row ``record_id`` of ``table``; ``fresh`` overrides columns."""
    from psycopg import sql

    columns = conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum", (table,)).fetchall()
    texts = conn.execute(sql.SQL("SELECT {} FROM {} WHERE id = %s").format(
        sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(name)) for name, _ in columns),
        sql.Identifier(table)), (record_id,)).fetchone()
    names, values = [], []
    for (name, type_), text in zip(columns, texts):
        names.append(sql.Identifier(name).as_string(conn))
        if name in fresh:
            values.append(fresh[name])
        elif text is None:
            values.append("NULL")
        else:
            values.append(f"{sql.Literal(text).as_string(conn)}::{type_}")
    return names, values


def floor_script(database_url: str, path: Path) -> str:
    """Make the floor tables and write the pgbench script; returns the libpq URL pgbench connects to."""
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as conn:
        template = conn.execute("SELECT id FROM findings ORDER BY id LIMIT 1").fetchone()
        if template is None:
            raise RuntimeError("no finding to copy: run fieldwatch first")
        for floor, real in (("bench_floor_records", "field_records"), ("bench_floor_findings", "findings")):
            conn.execute(f"DROP TABLE IF EXISTS {floor}")
            conn.execute(f"CREATE TABLE {floor} (LIKE {real} INCLUDING ALL)")
        now = {"created_at": "now()", "updated_at": "now()", "received_at": "now()"}
        r_names, r_values = _literal_row(conn, "field_records", template[0], {"id": "gen_random_uuid()", **now})
        f_names, f_values = _literal_row(conn, "findings", template[0], {"id": "r.id"})
    path.write_text(
        f"WITH r AS (INSERT INTO bench_floor_records ({', '.join(r_names)}) VALUES ({', '.join(r_values)}) "
        f"RETURNING id) INSERT INTO bench_floor_findings ({', '.join(f_names)}) SELECT {', '.join(f_values)} FROM r;\n")
    return url


def pgbench(url: str, script: Path, connections: int, seconds: float) -> dict:
    out = subprocess.run(
        ["pgbench", "-n", "-c", str(connections), "-j", str(min(2, connections)), "-T", f"{seconds:g}",
         "-f", str(script), url],
        capture_output=True, text=True, timeout=seconds + 60)
    if out.returncode != 0:
        raise RuntimeError(f"pgbench failed:\n{out.stdout}\n{out.stderr}")
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out.stdout)
    latency = re.search(r"latency average = ([\d.]+) ms", out.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
    return {"tps": float(tps.group(1)), "latency_ms": float(latency.group(1)) if latency else None,
            "failed": int(failed.group(1)) if failed else 0}


# -- the benchmark ---------------------------------------------------------------------------------


def run(opts: Options) -> list[Row]:
    if shutil.which("wrk") is None or shutil.which("pgbench") is None:
        raise RuntimeError("wrk and pgbench are needed: sh scripts/bench-deps.sh")
    seconds = 3.0 if opts.quick else 20.0
    rows: list[Row] = []
    with serving(opts, "ingest", phones=PHONES) as served:
        script = served.tmp / "findings.lua"
        script.write_text(WRK_SCRIPT.lstrip())
        warm_up(served, script)
        measured = {c: wrk(served, script, c, seconds) for c in CONCURRENCY}
        floor_sql = served.tmp / "floor.sql"
        url = floor_script(served.database_url, floor_sql)
        floors = {c: pgbench(url, floor_sql, c, seconds) for c in CONCURRENCY}
        setup = served.describe()
    for c in CONCURRENCY:
        m, f = measured[c], floors[c]
        ratio = m["rate"] / f["tps"] if f["tps"] else None
        target = f">= {TARGET_RATIO:.2f}" if c == 16 else ""
        met = (ratio >= TARGET_RATIO) if (c == 16 and ratio is not None) else None
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(m["statuses"].items()))
        socket_errors = {k: v for k, v in m["errors"].items() if k != "status" and v}
        notes = f"{setup}; wrk -t{min(2, c)} -c{c} -d{seconds:g}s; statuses {statuses or 'none'}"
        if socket_errors:
            notes += f"; socket errors {socket_errors}"
        case = f"concurrency {c}"
        rows += [
            Row(NAME, case, "requests/s", m["rate"], "pgbench INSERT (envelope + finding), tps", f["tps"], ratio,
                target, met, notes),
            Row(NAME, case, "p50 ms", m["p50_us"] / 1000, "pgbench latency avg ms", f["latency_ms"],
                notes=f"pgbench -c{c} -j{min(2, c)} -T{seconds:g}, {f['failed']} failed"),
            Row(NAME, case, "p95 ms", m["p95_us"] / 1000, notes=f"p99 {m['p99_us'] / 1000:.1f} ms, "
                                                               f"max {m['max_us'] / 1000:.1f} ms"),
            Row(NAME, case, "errors", float(m["bad"]), target="0", met=m["bad"] == 0,
                notes="answers other than 201, and socket errors"),
        ]
    return rows


def main(argv=None) -> int:
    return main_of(run, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
