"""Retry storm: phones send filings and findings through a proxy that swallows answers, and retry.

    python -m stress.retry_storm --records 10000 --phones 40 --drop 0.05 [--database-url URL] [--workers N]

The app runs under gunicorn (``--workers`` sync worker processes, as in production) on a
loopback port, against ``--database-url`` (an EMPTY database; a sqlite:/// URL for
SpatiaLite) or, by default, a fresh PostGIS database on 127.0.0.1 made and dropped here.
Between phones and server sits a small asyncio TCP proxy: every request reaches the server,
but with probability ``--drop`` the proxy closes the phone's connection as soon as the answer
starts (half the time with a reset): the server did the work, the phone never learned it.

``--phones`` threads play phones, alternately a monitor (findings, POST /api/v1/findings) and
an inspector (inspection filings, POST /api/v1/inspection-filings, windows 30–90 days ahead),
each with its own device token; every third phone also sends an Idempotency-Key. Each phone
sends its share of ``--records`` one after another, each with a new UUID, and on a lost answer
(or a 5xx, or a 409 "still being processed") sends the same UUID and body again, up to
``--retries`` times; with probability ``--race`` a retry goes out twice at once (a second
thread of the phone racing it). A 200/201 answer is the phone's receipt.

The end state is checked straight from the database against the receipts: one row per UUID
sent and no row the phones did not send, one version and one ``record.created`` custody entry
per record, every acknowledged UUID stored with the phone's body (the fields sent) and the
receipt's ``received_at``, at most one fresh 201 per UUID, the custody chains intact. A record
whose every attempt lost its answer is "unacknowledged": it may exist or not, and is reported.
Prints the counts; exits 1 on any failure (a 5xx, a duplicate, a lost acknowledged record, a
body that differs, an unexpected status, a server-side error in gunicorn's log).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import requests
from sqlalchemy import func, select

from field.custody import chain as custody
from field.core.office import office_today
from field.core.models.records import FieldRecord, RecordVersion
from field.visits.models import Finding
from field.custody.models import CustodyEntry
from field.filings.models import InspectionFiling, inspection_filing_enterprises

from .counts import report as print_counts
from .served import fresh_postgis, gunicorn
from .world import Phone, World, add_phones, build, filing, finding

#: Where each kind of record is sent.
PATHS = {"finding": "/api/v1/findings", "filing": "/api/v1/inspection-filings"}
#: Findings cycle through the severities.
SEVERITIES = ("minor", "moderate", "serious")


# -- the proxy -------------------------------------------------------------------------------------


class DroppingProxy:
    """A loopback TCP proxy that forwards every request and, with probability ``drop``, swallows the answer.

    One asyncio loop in a thread of its own. The decision is taken per connection (gunicorn's
    sync workers answer one request per connection); a swallowed answer is drained from the
    server and the phone's connection closed (FIN) or reset (RST) when its first byte arrives.
    """

    def __init__(self, upstream_port: int, drop: float, seed: int = 0) -> None:
        self.upstream_port = upstream_port
        self.drop = drop
        self._rng = random.Random(seed)
        self.connections = 0
        self.dropped = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="dropping-proxy", daemon=True)
        self._server = None
        self._open: set[asyncio.Task] = set()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "DroppingProxy":
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024), self._loop)
        self._server = started.result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc) -> None:
        async def close():
            self._server.close()
            # Connections still draining a swallowed answer finish first (the server closes them).
            if self._open:
                _, pending = await asyncio.wait(self._open, timeout=30)
                for task in pending:
                    task.cancel()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _handle(self, phone_in: asyncio.StreamReader, phone_out: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        self._open.add(task)
        task.add_done_callback(self._open.discard)
        swallow = self._rng.random() < self.drop
        reset = self._rng.random() < 0.5
        try:
            server_in, server_out = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            phone_out.transport.abort()
            return

        async def requests_up():
            try:
                while data := await phone_in.read(65536):
                    server_out.write(data)
                    await server_out.drain()
            except (ConnectionError, OSError):
                pass

        up = asyncio.ensure_future(requests_up())
        answered = False
        try:
            while data := await server_in.read(65536):
                if swallow:
                    if not answered:
                        answered = True
                        self.dropped += 1
                        if reset:
                            phone_out.transport.abort()
                        else:
                            phone_out.close()
                    continue  # the server's answer is read to its end and thrown away
                phone_out.write(data)
                await phone_out.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            up.cancel()
            server_out.close()
            if not phone_out.is_closing():
                phone_out.close()


# -- the phones ------------------------------------------------------------------------------------


@dataclass
class Sent:
    """One record as its phone keeps it: what it sent and every receipt it got."""

    rid: uuid.UUID
    phone: Phone
    kind: str
    body: dict
    receipts: list[dict] = field(default_factory=list)
    fresh: int = 0  # 201s that were not replays: more than one means it was created twice
    statuses: list = field(default_factory=list)


class PhoneThread(threading.Thread):
    def __init__(self, phone: Phone, queue: list[Sent], base_url: str, *, retries: int, race: float,
                 idempotent: bool, seed: int) -> None:
        super().__init__(name=phone.name, daemon=True)
        self.phone, self.queue, self.base_url = phone, queue, base_url
        self.retries, self.race, self.idempotent = retries, race, idempotent
        self.rng = random.Random(seed)
        self.counts: Counter = Counter()
        self.failures: list[str] = []
        self._twins = ThreadPoolExecutor(max_workers=2, thread_name_prefix=f"{phone.name}-twin")

    def run(self) -> None:
        try:
            for sent in self.queue:
                self._deliver(sent)
        except Exception as exc:  # a harness bug must not pass for a quiet phone
            self.failures.append(f"{self.phone.name}: the phone crashed: {exc!r}")
        finally:
            self._twins.shutdown()

    def _deliver(self, sent: Sent) -> None:
        for attempt in range(1 + self.retries):
            copies = 2 if attempt > 0 and self.rng.random() < self.race else 1
            self.counts["attempts"] += copies
            if attempt:
                self.counts["retries"] += copies
            if copies == 2:
                self.counts["raced retries"] += 1
                outcomes = list(self._twins.map(lambda _: self._post(sent), range(2)))
            else:
                outcomes = [self._post(sent)]
            if "acknowledged" in outcomes or "refused" in outcomes:
                return
            time.sleep(self.rng.uniform(0, 0.02 * (attempt + 1)))

    def _post(self, sent: Sent) -> str:
        headers = {**self.phone.headers, "X-Device-Time": datetime.now(timezone.utc).isoformat()}
        if self.idempotent:
            headers["Idempotency-Key"] = f"storm-{sent.rid}"
        try:
            resp = requests.post(self.base_url + PATHS[sent.kind], json=sent.body, headers=headers, timeout=120)
        except requests.RequestException:
            self.counts["answers lost"] += 1
            sent.statuses.append("lost")
            return "lost"
        status = resp.status_code
        sent.statuses.append(status)
        if status in (200, 201):
            replayed = status == 200 or resp.headers.get("Idempotent-Replayed") == "true"
            self.counts["replayed" if replayed else "created"] += 1
            if not replayed:
                sent.fresh += 1
            sent.receipts.append(resp.json())
            return "acknowledged"
        if status >= 500:
            self.counts["5xx"] += 1
            self.failures.append(f"{sent.kind} {sent.rid}: {status} {resp.text[:300]}")
            return "retry"
        if status == 409:
            self.counts["409"] += 1
            problem = resp.json()
            if any(e.get("field") == "id" for e in problem.get("errors") or []):
                # The same id with the same body is never a conflict.
                self.failures.append(f"{sent.kind} {sent.rid}: 409 for its own body: {problem.get('detail')}")
                return "refused"
            self.counts["409 in flight"] += 1
            return "retry"  # the first request with this Idempotency-Key has not answered yet
        self.counts[f"unexpected {status}"] += 1
        self.failures.append(f"{sent.kind} {sent.rid}: unexpected {status} {resp.text[:300]}")
        return "refused"


def plan(world: World, phones: list[Phone], records: int, today: date, seed: int) -> list[list[Sent]]:
    """Each phone's queue: record i goes to phone i mod len(phones), each with a new UUID and body."""
    rng = random.Random(seed)
    queues: list[list[Sent]] = [[] for _ in phones]
    for i in range(records):
        phone = phones[i % len(phones)]
        rid = uuid.UUID(int=rng.getrandbits(128), version=4)
        if phone.kind == "finding":
            body = finding(world.unit_id, rid, severity=SEVERITIES[i % 3], description=f"第{i}条 工作时间离岗 {rid}")
        else:
            body = filing(phone.enterprise_id, rid, today, i // len(phones))  # ad hoc and planned in turn
        queues[i % len(phones)].append(Sent(rid, phone, phone.kind, body))
    return queues


# -- the end check ---------------------------------------------------------------------------------


def _stored(world: World, phones: list[Phone]) -> dict:
    """Everything the phones' accounts have in the database, read back."""
    users = [p.user_id for p in phones]
    with world.session() as s:
        rows = {r.id: r for r in s.execute(
            select(FieldRecord.id, FieldRecord.kind, FieldRecord.submitted_by_id, FieldRecord.received_at,
                   FieldRecord.version).where(FieldRecord.submitted_by_id.in_(users))).all()}
        versions = dict(s.execute(
            select(RecordVersion.record_id, func.count()).join(FieldRecord, FieldRecord.id == RecordVersion.record_id)
            .where(FieldRecord.submitted_by_id.in_(users)).group_by(RecordVersion.record_id)).all())
        created_entries = Counter(s.execute(
            select(CustodyEntry.subject_id).where(CustodyEntry.kind == "record.created",
                                                  CustodyEntry.actor_id.in_(users))).scalars())
        findings = {r.id: r for r in s.execute(
            select(Finding.id, Finding.description, Finding.severity, Finding.category_code, Finding.unit_id)
            .where(Finding.submitted_by_id.in_(users))).all()}
        filings = {r.id: r for r in s.execute(
            select(InspectionFiling.id, InspectionFiling.purpose, InspectionFiling.filing_kind,
                   InspectionFiling.planned_start, InspectionFiling.planned_end)
            .where(InspectionFiling.submitted_by_id.in_(users))).all()}
        named = defaultdict(set)
        for filing_id, enterprise_id in s.execute(
                select(inspection_filing_enterprises.c.filing_id, inspection_filing_enterprises.c.enterprise_id)
                .join(InspectionFiling, InspectionFiling.id == inspection_filing_enterprises.c.filing_id)
                .where(InspectionFiling.submitted_by_id.in_(users))).all():
            named[filing_id].add(str(enterprise_id))
        chains, breaks = custody.verify_all_chains(s)
    return {"rows": rows, "versions": versions, "created_entries": created_entries, "findings": findings,
            "filings": filings, "enterprises": named, "chains": chains, "breaks": breaks}


def _differences(sent: Sent, stored: dict) -> list[str]:
    """Where the stored record differs from what its phone sent."""
    body = sent.body
    if sent.kind == "finding":
        row = stored["findings"].get(sent.rid)
        if row is None:
            return ["not a finding"]
        got = {"description": row.description, "severity": row.severity.value, "category": row.category_code,
               "unit_id": str(row.unit_id)}
    else:
        row = stored["filings"].get(sent.rid)
        if row is None:
            return ["not a filing"]
        got = {"purpose": row.purpose, "filing_kind": row.filing_kind.value,
               "planned_start": row.planned_start.isoformat(), "planned_end": row.planned_end.isoformat(),
               "enterprise_ids": sorted(stored["enterprises"][sent.rid])}
    return [f"{name}: sent {body[name]!r}, stored {value!r}" for name, value in got.items()
            if (sorted(body[name]) if isinstance(body[name], list) else body[name]) != value]


def _same_instant(text: str, moment: datetime) -> bool:
    received = datetime.fromisoformat(text)
    if moment.tzinfo is None:  # SQLite gives naive UTC back
        moment = moment.replace(tzinfo=timezone.utc)
    return received == moment


def check(world: World, phones: list[Phone], queues: list[list[Sent]]) -> tuple[Counter, list[str]]:
    stored = _stored(world, phones)
    counts: Counter = Counter()
    failures: list[str] = []
    sent_ids = set()
    for sent in (s for queue in queues for s in queue):
        sent_ids.add(sent.rid)
        row = stored["rows"].get(sent.rid)
        if not sent.receipts:
            counts["unacknowledged"] += 1
            counts["unacknowledged, stored" if row is not None else "unacknowledged, absent"] += 1
        else:
            counts["acknowledged"] += 1
            if row is None:
                counts["lost"] += 1
                failures.append(f"{sent.kind} {sent.rid}: acknowledged ({sent.statuses}) but not stored")
                continue
            for receipt in sent.receipts:
                if receipt.get("id") != str(sent.rid) or receipt.get("version") != 1 or not _same_instant(
                        receipt["received_at"], row.received_at):
                    counts["receipt mismatches"] += 1
                    failures.append(f"{sent.kind} {sent.rid}: a receipt differs from the stored record: "
                                    f"{receipt.get('id')} v{receipt.get('version')} {receipt.get('received_at')} "
                                    f"vs {row.received_at}")
        if row is None:
            continue
        if row.submitted_by_id != sent.phone.user_id or row.kind != sent.kind:
            counts["body mismatches"] += 1
            failures.append(f"{sent.kind} {sent.rid}: stored as a {row.kind} of another user")
            continue
        differences = _differences(sent, stored)
        if differences:
            counts["body mismatches"] += 1
            failures.append(f"{sent.kind} {sent.rid}: stored differs: {'; '.join(differences)}")
        extra = (stored["versions"].get(sent.rid, 0) - 1) + (stored["created_entries"][str(sent.rid)] - 1) + max(
            sent.fresh - 1, 0)
        if row.version != 1 or extra:
            counts["duplicates"] += 1
            failures.append(f"{sent.kind} {sent.rid}: made more than once: version {row.version}, "
                            f"{stored['versions'].get(sent.rid, 0)} versions, "
                            f"{stored['created_entries'][str(sent.rid)]} record.created entries, "
                            f"{sent.fresh} fresh 201s")
    strays = set(stored["rows"]) - sent_ids
    if strays:
        counts["duplicates"] += len(strays)
        failures.append(f"{len(strays)} stored records no phone sent, e.g. {sorted(map(str, strays))[:3]}")
    counts["stored"] = len(stored["rows"])
    counts["custody chains"] = stored["chains"]
    for found in stored["breaks"]:
        failures.append(f"custody chain of {found.jurisdiction_id} broken at {found.seq}: {found.reason}")
    return counts, failures


# -- the run ---------------------------------------------------------------------------------------


def storm(world: World, phones: list[Phone], server_url: str, *, records: int, drop: float, retries: int = 5,
          race: float = 0.25, seed: int = 8) -> dict:
    """Send ``records`` records from ``phones`` to ``server_url`` through a dropping proxy, then check."""
    upstream_port = int(server_url.rsplit(":", 1)[1].split("/", 1)[0])
    queues = plan(world, phones, records, office_today(), seed)
    started = time.monotonic()
    with DroppingProxy(upstream_port, drop, seed) as proxy:
        threads = [PhoneThread(phone, queue, proxy.base_url, retries=retries, race=race,
                               idempotent=i % 3 == 2, seed=seed * 1000 + i)
                   for i, (phone, queue) in enumerate(zip(phones, queues))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        dropped, connections = proxy.dropped, proxy.connections
    elapsed = time.monotonic() - started
    counts: Counter = Counter()
    failures: list[str] = []
    for t in threads:
        counts.update(t.counts)
        failures += t.failures
    checked, problems = check(world, phones, queues)
    counts.update(checked)
    counts.update({"sent": records, "dropped": dropped, "connections": connections})
    return {"counts": counts, "failures": failures + problems, "seconds": elapsed}


#: The order counts are printed in.
REPORTED = ("sent", "attempts", "dropped", "answers lost", "retries", "raced retries", "acknowledged", "created",
            "replayed", "409", "409 in flight", "5xx", "duplicates", "lost", "body mismatches", "receipt mismatches",
            "unacknowledged", "unacknowledged, stored", "unacknowledged, absent", "stored", "custody chains")


def report(result: dict) -> None:
    print_counts(result, REPORTED, hide=frozenset({"connections"}), rate_of="attempts")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--phones", type=int, default=40)
    parser.add_argument("--drop", type=float, default=0.05, help="share of answers the proxy swallows")
    parser.add_argument("--retries", type=int, default=5, help="re-sendings of a record after a lost answer")
    parser.add_argument("--race", type=float, default=0.25, help="share of retries sent twice at once")
    parser.add_argument("--database-url", help="an EMPTY database (default: a new PostGIS database on 127.0.0.1)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        url = args.database_url or stack.enter_context(fresh_postgis(prefix="fieldwatch_retry_storm"))
        world = build(url, f"{tmp}/evidence")
        stack.callback(world.close)
        phones = add_phones(world, args.phones)
        served = stack.enter_context(gunicorn(url, f"{tmp}/evidence", Path(tmp), workers=args.workers))
        print(f"gunicorn: {args.workers} workers at {served.base_url}; {url.split('@')[-1]}")
        result = storm(world, phones, served.base_url, records=args.records, drop=args.drop,
                       retries=args.retries, race=args.race, seed=args.seed)
        errors = served.server_errors()
    result["counts"]["server errors logged"] = len(errors)
    result["failures"] += [f"server log: {line}" for line in errors[:10]]
    report(result)
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
