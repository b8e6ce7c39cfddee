"""Benchmark 1, record ingest: findings POSTed through gunicorn on PostGIS, against pgbench inserting the same rows.

    python -m bench.ingest [--quick]

fieldwatch: ``POST /api/v1/findings`` exactly as a phone sends it: a JSON body with the
phone's UUID, a GCJ-02 location with its accuracy, category, severity and unit, a bearer
token, ``X-Device-Time`` and an ``Idempotency-Key``; the server checks the token, claims
the key, checks category and unit, stores the record envelope, the finding, its first
version and a custody entry, commits, and stores the answer under the key. Load comes
from ``wrk`` (C, event loop; 2 threads, a Lua script making a new UUID and key for every
request): on 2 cores a Python load generator would take a core of its own and be the
bottleneck. Concurrency 1, 4 and 16 connections (keep-alive), two rounds of 10 s each (quick:
3 s) interleaved with the floor's (A/B/A/B), after a short warm-up; requests/s, p50 and p95
latency (wrk's), and every answer that was not 201 or a socket error (must be 0). The warm-up
runs until every worker has served. Every phone is in one district, so at concurrency 16 every
commit links into the same custody chain: the run samples pg_stat_activity and reports the
share of busy backends waiting on a lock (the custody contention case).

Batches: ``POST /api/v1/batches`` of 1, 20 and 200 findings from 4 phones at once, records/s
against the same floor's rows/s at the same 4 connections, interleaved. Target: at least
1,000 records/s in batches of 200.

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


#: The batch script: each request a POST /api/v1/batches of ``size`` new findings (args[4]); an
#: answer counts as "201" when it is a 207 whose every item was created, else by its status.
WRK_BATCH_SCRIPT = WRK_SCRIPT.replace("function init(args)\n  nonce, unit = args[1], args[2]",
                                      "function init(args)\n  nonce, unit, size = args[1], args[2], tonumber(args[4])") \
    .replace("""function request()
  counter = counter + 1
  local id = string.format("%s-%04x-4000-8000-%012x", nonce, tid, counter)
  local body = '{"id":"' .. id""", """function finding(id)
  return '{"kind":"finding","body":{"id":"' .. id""") \
    .replace("""'"description":"窗口工作人员离岗约二十分钟，群众排队等候。 ' .. id .. '"}'
  local headers""", """'"description":"窗口工作人员离岗约二十分钟，群众排队等候。 ' .. id .. '"}}'
end

function request()
  local items = {}
  for i = 1, size do
    counter = counter + 1
    items[i] = finding(string.format("%s-%04x-4000-8000-%012x", nonce, tid, counter))
  end
  local id = string.format("%s-%04x-4000-8000-%012x", nonce, tid, counter)
  local body = '{"items":[' .. table.concat(items, ",") .. ']}'
  local headers""") \
    .replace('return wrk.format("POST", "/api/v1/findings", headers, body)',
             'return wrk.format("POST", "/api/v1/batches", headers, body)') \
    .replace("""function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1""", """function response(status, headers, body)
  if status == 207 and string.find(body, '"counts":{"201":' .. size .. '}', 1, true) then
    status = 201
  end
  statuses[status] = (statuses[status] or 0) + 1""")


def wrk(served: Served, script: Path, connections: int, seconds: float, *extra: str) -> dict:
    """One wrk run; its summary as a dict (requests, duration, latency percentiles, errors, statuses)."""
    threads = min(2, connections)
    nonce = secrets.token_hex(4)
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "30s",
         "-s", str(script), served.base_url, "--", nonce, served.unit_id, ",".join(served.tokens), *extra],
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


#: Batch sizes of ``POST /api/v1/batches`` and the connections sending them (phones syncing at once).
BATCH_SIZES = (1, 20, 200)
BATCH_CONNECTIONS = 4
BATCH_TARGET = 1000.0  # records/s at batches of 200
#: A/B rounds per figure: fieldwatch, then its floor, then again (the machine's mood is shared).
ROUNDS = 2


class LockWaits:
    """Samples pg_stat_activity while a run goes: the share of the database's busy backends that
    were waiting on a lock (a row lock on a chain head, a key, a record), and on which relation."""

    def __init__(self, url: str, interval_s: float = 0.02):
        import threading

        self.url, self.interval_s = url.replace("postgresql+psycopg://", "postgresql://", 1), interval_s
        self.busy = self.waiting = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.wait(self.interval_s):
                busy, waiting = conn.execute(
                    "SELECT count(*) FILTER (WHERE state = 'active'), "
                    "count(*) FILTER (WHERE state = 'active' AND wait_event_type = 'Lock') "
                    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()
                self.busy += busy
                self.waiting += waiting

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def share(self) -> float:
        return self.waiting / self.busy if self.busy else 0.0


def _merge(runs: list[dict]) -> dict:
    """Several wrk runs of one figure as one: rates over the summed time, the worst p95 and p99."""
    out = dict(runs[-1])
    out["requests"] = sum(r["requests"] for r in runs)
    out["duration_us"] = sum(r["duration_us"] for r in runs)
    out["rate"] = out["requests"] / (out["duration_us"] / 1e6)
    out["bad"] = sum(r["bad"] for r in runs)
    out["p50_us"] = sorted(r["p50_us"] for r in runs)[len(runs) // 2]
    for key in ("p95_us", "p99_us", "max_us"):
        out[key] = max(r[key] for r in runs)
    statuses: dict[str, int] = {}
    for r in runs:
        for status, n in r["statuses"].items():
            statuses[status] = statuses.get(status, 0) + n
    out["statuses"] = statuses
    out["errors"] = {k: sum(r["errors"][k] for r in runs) for k in runs[-1]["errors"]}
    return out


def _floor_merge(runs: list[dict]) -> dict:
    return {"tps": sum(r["tps"] for r in runs) / len(runs),
            "latency_ms": max((r["latency_ms"] or 0) for r in runs), "failed": sum(r["failed"] for r in runs)}


def interleaved(measure, floor, rounds: int = ROUNDS) -> tuple[dict, dict]:
    """A/B/A/B: the figure and its floor alternate, so both see the same machine."""
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(measure())
        theirs.append(floor())
    return _merge(ours), _floor_merge(theirs)


def _statuses(m: dict) -> str:
    return ", ".join(f"{s}: {n}" for s, n in sorted(m["statuses"].items())) or "none"


def run(opts: Options) -> list[Row]:
    if shutil.which("wrk") is None or shutil.which("pgbench") is None:
        raise RuntimeError("wrk and pgbench are needed: sh scripts/bench-deps.sh")
    seconds = 3.0 if opts.quick else 10.0  # per round; ROUNDS rounds of each
    rows: list[Row] = []
    with serving(opts, "ingest", phones=PHONES) as served:
        script = served.tmp / "findings.lua"
        script.write_text(WRK_SCRIPT.lstrip())
        batch_script = served.tmp / "batches.lua"
        batch_script.write_text(WRK_BATCH_SCRIPT.lstrip())
        warm_up(served, script)
        wrk(served, batch_script, 2, 1.0, "20")  # the batch path's statements cached too
        floor_sql = served.tmp / "floor.sql"
        url = floor_script(served.database_url, floor_sql)
        measured, floors, waits = {}, {}, {}
        for c in CONCURRENCY:
            with LockWaits(served.database_url) as sampled:
                measured[c], floors[c] = interleaved(lambda: wrk(served, script, c, seconds),
                                                     lambda: pgbench(url, floor_sql, c, seconds))
            waits[c] = sampled.share
        batches = {}
        for size in BATCH_SIZES:
            batches[size] = interleaved(
                lambda: wrk(served, batch_script, BATCH_CONNECTIONS, seconds, str(size)),
                lambda: pgbench(url, floor_sql, BATCH_CONNECTIONS, seconds))
        setup = served.describe()
    for c in CONCURRENCY:
        m, f = measured[c], floors[c]
        ratio = m["rate"] / f["tps"] if f["tps"] else None
        target = f">= {TARGET_RATIO:.2f}" if c == 16 else ""
        met = (ratio >= TARGET_RATIO) if (c == 16 and ratio is not None) else None
        socket_errors = {k: v for k, v in m["errors"].items() if k != "status" and v}
        notes = (f"{setup}; {ROUNDS}× interleaved wrk -t{min(2, c)} -c{c} -d{seconds:g}s with pgbench; "
                 f"statuses {_statuses(m)}")
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
            Row(NAME, case, "lock waits", waits[c] * 100, target="", notes=(
                "% of the database's busy backends waiting on a lock (sampled every 20 ms); every phone is in "
                "one district, so every commit links into one custody chain" if c == 16 else
                "% of busy backends waiting on a lock")),
            Row(NAME, case, "errors", float(m["bad"]), target="0", met=m["bad"] == 0,
                notes="answers other than 201, and socket errors"),
        ]
    for size in BATCH_SIZES:
        m, f = batches[size]
        records = m["rate"] * size
        target = f">= {BATCH_TARGET:.0f} records/s" if size == 200 else ""
        rows += [
            Row(NAME, f"batches of {size}", "records/s", records, "pgbench INSERT (envelope + finding), rows/s",
                f["tps"], records / f["tps"] if f["tps"] else None, target,
                (records >= BATCH_TARGET) if size == 200 else None,
                f"POST /api/v1/batches, {BATCH_CONNECTIONS} phones at once, {ROUNDS}× interleaved with pgbench "
                f"-c{BATCH_CONNECTIONS}; p50 {m['p50_us'] / 1000:.0f} ms, p95 {m['p95_us'] / 1000:.0f} ms a batch"),
            Row(NAME, f"batches of {size}", "errors", float(m["bad"]), target="0", met=m["bad"] == 0,
                notes=f"batches not answered 207 with every item 201, and socket errors; statuses {_statuses(m)}"),
        ]
    return rows


def main(argv=None) -> int:
    return main_of(run, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
