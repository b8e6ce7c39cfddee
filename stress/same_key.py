"""Same key in parallel: N requests at once with one Idempotency-Key (and, separately, one record UUID).

    python -m stress.same_key --rounds 100 --parallel 50 [--database-url URL]

Each round, ``--parallel`` threads send the same POST at the same moment. Exactly one may
create; the others replay the first answer (201 with Idempotent-Replayed, or 200 for a
record resent by UUID) or are told the first is still running (409). Any 5xx, or more or
fewer than one creation, is a failure. Prints the counts; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from field.visits.models import Finding
from field.core.models.platform import User

from .world import World, build, finding


def _at_once(world: World, parallel: int, send) -> list[int]:
    barrier = threading.Barrier(parallel)

    def one(_):
        client = world.app.test_client()
        barrier.wait()
        return send(client)

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return list(pool.map(one, range(parallel)))


def run(world: World, rounds: int, parallel: int) -> dict:
    counts: Counter = Counter()
    failures: list[str] = []
    factory = world.app.extensions["SESSION_FACTORY"]
    for r in range(rounds):
        key, username = f"round-{r}-{uuid.uuid4()}", f"stress.user.{r}"
        body = {"username": username, "password": "a long enough password", "display_name": "x",
                "role": "inspector", "jurisdiction_id": None}
        with factory() as s:
            body["jurisdiction_id"] = str(s.execute(select(User.jurisdiction_id).where(User.username == "admin"))
                                          .scalar_one())
        statuses = _at_once(world, parallel, lambda c: c.post(
            "/api/v1/users", json=body, headers={**world.admin_headers, "Idempotency-Key": key}).status_code)
        counts.update(f"key:{s}" for s in statuses)
        with factory() as s:
            made = s.execute(select(func.count()).select_from(User).where(User.username == username)).scalar()
        if made != 1 or any(s >= 500 for s in statuses):
            failures.append(f"round {r} (key): {made} created, statuses {sorted(Counter(statuses).items())}")

        rid = uuid.uuid4()
        statuses = _at_once(world, parallel, lambda c: c.post(
            "/api/v1/findings", json=finding(world.unit_id, rid), headers=world.monitor_headers).status_code)
        counts.update(f"uuid:{s}" for s in statuses)
        with factory() as s:
            made = s.execute(select(func.count()).select_from(Finding).where(Finding.id == rid)).scalar()
        if made != 1 or statuses.count(201) != 1 or any(s >= 500 for s in statuses):
            failures.append(f"round {r} (uuid): {made} created, statuses {sorted(Counter(statuses).items())}")
    return {"rounds": rounds, "parallel": parallel, "statuses": dict(sorted(counts.items())), "failures": failures}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--parallel", type=int, default=50)
    parser.add_argument("--database-url", help="an EMPTY database (default: a new SpatiaLite file)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        world = build(args.database_url or f"sqlite:///{tmp}/stress.db", f"{tmp}/evidence")
        try:
            result = run(world, args.rounds, args.parallel)
        finally:
            world.close()
    print(f"rounds: {result['rounds']}  parallel: {result['parallel']}")
    for status, n in result["statuses"].items():
        print(f"  {status}: {n}")
    print(f"failures: {len(result['failures'])}")
    for line in result["failures"][:20]:
        print("  " + line)
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
