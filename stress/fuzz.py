"""API fuzz: schemathesis cases for every operation of /openapi.json, sent as each of the six roles.

    python -m stress.fuzz --examples 200 [--database-url URL] [--operation 'POST /api/v1/cases.*'] [--seed N]

A district with one of everything is built first (stress/district.py, committed); each operation
then gets ``--examples`` generated cases (schema-valid ones with the district's real ids in the
path, schema-valid ones with generated ids, and schema-breaking ones), derandomised by
``--seed``. Every case is sent once per role inside a transaction that is rolled back, so no
case changes what the next one sees. Each response must pass schemathesis's
not_a_server_error, status_code_conformance, content_type_conformance,
response_headers_conformance and response_schema_conformance, plus two of ours: the status is
documented by the operation itself (not only by the catch-all ``default``), and no response to
a role other than admin carries the district's canary marker (a monitor's or a complainant's
identity). Prints counts per role and per operation; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field

import hypothesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from sqlalchemy.orm import Session

import schemathesis
from field.core.db import make_engine
from field.core.models.platform import Role
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .canary import Scanner
from .district import District, build

ROLES = tuple(Role)

# tus chunks are raw bytes: generate them as schemathesis does any octet stream.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch")


class RolledBack:
    """A session factory whose sessions join one connection, inside a savepoint that ``end`` rolls back.

    The app's commits become nested savepoints, so each fuzz case sees the district as it was
    built. One connection serves the whole run (SpatiaLite loads itself on every new one).
    """

    def __init__(self, url: str):
        self.engine = make_engine(url)
        self.connection = None
        self.outer = None
        self.nested = None

    def begin(self) -> None:
        if self.connection is None:
            self.connection = self.engine.connect()
            self.outer = self.connection.begin()
        self.nested = self.connection.begin_nested()

    def end(self) -> None:
        if self.nested is not None and self.nested.is_active:
            self.nested.rollback()
        self.nested = None

    def __call__(self) -> Session:
        if self.nested is None:
            self.begin()
        return Session(bind=self.connection, expire_on_commit=False, join_transaction_mode="create_savepoint")

    def close(self) -> None:
        self.end()
        if self.connection is not None:
            self.outer.rollback()
            self.connection.close()
        self.engine.dispose()


@dataclass
class Fuzzed:
    """What sending one operation's cases as every role gave."""

    label: str
    cases: int = 0
    statuses: Counter = field(default_factory=Counter)  # (role, status) -> n
    failures: list[str] = field(default_factory=list)


def documented_status(ctx, response, case):
    """The status is one the operation documents itself: ``default`` is a catch-all that would
    let status_code_conformance pass anything."""
    codes = {str(c) for c in case.operation.responses.status_codes}
    status = str(response.status_code)
    if status not in codes and f"{status[0]}XX" not in codes:
        raise AssertionError(f"{case.operation.label} answered {status}, which it does not document "
                             f"(documented: {', '.join(sorted(codes))})")


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


def leaks(district: District, response) -> list[str]:
    """Where the district's confidential identities appear in a response (body or headers)."""
    scanner = Scanner(district.marker, *district.phones)
    text = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return scanner.find(response.content, where="body") + scanner.find(text.encode(), where="headers")


def _summary(exc: BaseException) -> str:
    """A check failure in one line: its title and what was received against what is documented."""
    title = getattr(exc, "title", None) or type(exc).__name__
    message = " ".join(line.strip() for line in str(getattr(exc, "message", "") or exc).splitlines() if line.strip())
    return f"{title}: {message[:400]}"


def load_schema(district: District):
    return schemathesis.openapi.from_wsgi("/openapi.json", district.app)


def operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


def _strategy(operation, district: District):
    names = [p.name for p in operation.path_parameters]
    known = {n: district.ids[n] for n in names if n in district.ids}
    strategies = []
    for mode, path in ((GenerationMode.POSITIVE, known), (GenerationMode.POSITIVE, None),
                       (GenerationMode.NEGATIVE, known), (GenerationMode.NEGATIVE, None)):
        try:
            strategies.append(operation.as_strategy(mode, path_parameters=path or None))
        except Exception:  # noqa: BLE001 - an operation with nothing to break has no negative cases
            continue
    return st.one_of(strategies)


def fuzz_operation(operation, district: District, sessions: RolledBack, *, examples: int, seed: int | None = None,
                   roles=ROLES) -> Fuzzed:
    """Send ``examples`` generated cases of ``operation`` as each role; collect, never raise."""
    result = Fuzzed(operation.label)

    def send(case) -> None:
        result.cases += 1
        for role in roles:
            sessions.begin()
            try:
                # identity: the checks read the body as sent; compression is a transport matter.
                response = case.call(app=district.app, headers={**district.headers[role],
                                                                "Accept-Encoding": "identity"})
                result.statuses[(role.value, response.status_code)] += 1
                problems = []
                try:
                    case.validate_response(response, checks=CHECKS)
                except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - a group of check failures
                    problems += [_summary(e) for e in getattr(exc, "exceptions", [exc])]
                try:
                    documented_status(None, response, case)
                except AssertionError as exc:
                    problems.append(str(exc))
                # A disclosure (x-discloses-identity) answers an identity to whom its policy lets see it, and
                # logs it: tests/api/test_identity_disclosures_api.py holds those to their rules. Every other
                # answer to anyone but the admin must carry none.
                if role is not Role.admin and not operation.definition.raw.get("x-discloses-identity"):
                    problems += [f"canary {hit}" for hit in leaks(district, response)]
                if problems:
                    result.failures.append(
                        f"{role.value} {operation.label} -> {response.status_code}: " + " | ".join(problems)
                        + f"\n    {case.as_curl_command(headers=dict(district.headers[role]))}")
            finally:
                sessions.end()

    strategy = _strategy(operation, district)
    test = hypothesis.given(case=strategy)(send)
    # Derandomised (the same cases every run) unless a seed asks for other ones.
    test = hypothesis.settings(max_examples=examples, derandomize=seed is None, database=None, deadline=None,
                               phases=[Phase.explicit, Phase.generate],
                               suppress_health_check=list(HealthCheck))(test)
    if seed is not None:
        test = hypothesis.seed(seed)(test)
    try:
        test()
    except Exception as exc:  # noqa: BLE001 - the schema itself defeats generation: a failure of the document
        result.failures.append(f"{operation.label}: no cases could be generated: {_summary(exc)}")
    return result


def fuzz(district: District, sessions: RolledBack, *, examples: int, seed: int | None = None,
         only: str | None = None) -> list[Fuzzed]:
    schema = load_schema(district)
    results = []
    for operation in operations(schema):
        if only and not re.fullmatch(only, operation.label):
            continue
        results.append(fuzz_operation(operation, district, sessions, examples=examples, seed=seed))
    return results


def build_fuzzed_district(url: str, evidence_dir: str) -> tuple[District, RolledBack]:
    sessions = RolledBack(url)
    district = build(url, evidence_dir, session_factory=sessions)
    return district, sessions


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="cases per operation (each sent as every role)")
    parser.add_argument("--seed", type=int, help="other cases than the derandomised default ones")
    parser.add_argument("--operation", help="only operations whose label matches this regex, e.g. 'GET /api/v1/.*'")
    parser.add_argument("--database-url", help="an EMPTY database (default: a new SpatiaLite file)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        district, sessions = build_fuzzed_district(args.database_url or f"sqlite:///{tmp}/fuzz.db", f"{tmp}/evidence")
        try:
            results = fuzz(district, sessions, examples=args.examples, seed=args.seed, only=args.operation)
        finally:
            sessions.close()
            district.close()
    per_role: Counter = Counter()
    for r in results:
        for (role, status), n in r.statuses.items():
            per_role[(role, status // 100)] += n
    print(f"operations: {len(results)}  cases: {sum(r.cases for r in results)}  "
          f"requests: {sum(sum(r.statuses.values()) for r in results)}  seconds: {time.monotonic() - started:.0f}")
    print("per role (status class: requests):")
    for role in ROLES:
        row = {f"{c}xx": per_role[(role.value, c)] for c in (2, 3, 4, 5) if per_role[(role.value, c)]}
        print(f"  {role.value:13} " + "  ".join(f"{k}: {v}" for k, v in row.items()))
    print("per operation (cases; statuses over all roles):")
    for r in results:
        statuses = Counter()
        for (_, status), n in r.statuses.items():
            statuses[status] += n
        print(f"  {r.label:62} {r.cases:4}  " + " ".join(f"{s}:{n}" for s, n in sorted(statuses.items()))
              + (f"  FAILURES: {len(r.failures)}" if r.failures else ""))
    failures = [f for r in results for f in r.failures]
    print(f"failures: {len(failures)}")
    for line in failures[:200]:
        print("  " + line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
