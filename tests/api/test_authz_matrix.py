"""Issue 8 item 7, the authorization matrix: every role × every OpenAPI operation × every relation of the object.

Run: ``.venv/bin/pytest -q -p no:cacheprovider tests/api/test_authz_matrix.py`` (add
``TEST_DATABASE_URL=postgresql://postgres@127.0.0.1/<name>`` for PostGIS too).

The operations come from the app's own /openapi.json; the expected answer of every cell from
tests/authz_policy.py, written once; the objects from tests/authz_world.py, built once per
database in a transaction of this module's own. Each request runs inside a savepoint that is
rolled back after it, so a DELETE or a logout in one cell leaves the world as it was for the next.
Beside the relations, each operation on an id is also sent with ids that do not exist: a foreign
object and a covert one seen from outside its circle must answer exactly like that.
Every differing cell is reported at once, as a table.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field

import pytest
from sqlalchemy.orm import sessionmaker

from api import create_app
from field.core.models.platform import Role
from tests import authz_policy as policy
from tests.authz_world import CALLERS, REQUESTS, World, build, object_id

METHODS = ("get", "post", "put", "patch", "delete")
SYMBOL = {403: "3", 404: "4", 409: "C", 422: "I"}


@dataclass
class Matrix:
    app: object
    client: object
    connection: object
    world: World
    operations: list[str]
    #: Answers to requests on one object, kept: the missing-id test compares with the matrix's own.
    answers: dict = field(default_factory=dict)
    sent: int = 0

    def send(self, operation: str, role: Role, relation: str | None, *, missing: bool = False):
        """One request in a savepoint rolled back after it; (status, body text, problem detail)."""
        key = (operation, role, relation, missing)
        if key not in self.answers:
            self.answers[key] = self._send(operation, role, relation, missing)
        return self.answers[key]

    def _send(self, operation: str, role: Role, relation: str | None, missing: bool):
        self.sent += 1
        method, path = operation.split(" ", 1)
        url = path
        for param in re.findall(r"{(\w+)}", path):
            value = uuid.uuid4() if missing and param not in ("kind", "name", "slug") else object_id(
                self.world, path, param, relation or "own", role)
            if value is None:
                return 0, "", "the world has no such object"  # shown as "0": tests/authz_world.py lacks it
            url = url.replace(f"{{{param}}}", str(value))
        make = REQUESTS.get((method, path))
        kwargs = make(self.world, role, relation or "own") if make else {}
        if missing and operation in policy.BODY_NAMES_OBJECT:
            kwargs = make(self.world, role, "missing")
        headers = {**self.world.headers[CALLERS[role]], **kwargs.pop("headers", {})}
        if method in ("POST", "PUT", "PATCH") and "json" not in kwargs and "data" not in kwargs:
            kwargs["json"] = {}
        # A savepoint of our own, in SQL: the app's sessions nest their own savepoints inside it and have
        # closed them all by the end of the request; rolling back to ours undoes whatever they committed.
        self.connection.exec_driver_sql("SAVEPOINT authz_cell")
        try:
            resp = self.client.open(url, method=method, headers=headers, **kwargs)
            text = resp.get_data().decode("utf-8", "replace") if relation is None else ""  # lists are read
            body = resp.get_json(silent=True) if resp.mimetype.endswith("json") else None
            detail = body.get("detail") if isinstance(body, dict) and resp.status_code >= 400 else None
            resp.close()
        finally:
            self.connection.exec_driver_sql("ROLLBACK TO SAVEPOINT authz_cell")
            self.connection.exec_driver_sql("RELEASE SAVEPOINT authz_cell")
        return resp.status_code, text, detail


def _symbol(status: int) -> str:
    return "A" if 200 <= status < 400 else SYMBOL.get(status, str(status))


@pytest.fixture(scope="module")
def matrix(engine, db_url, tmp_path_factory):
    with engine.connect() as conn:
        outer = conn.begin()
        factory = sessionmaker(bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint")
        app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "test",
                          "EVIDENCE_DIR": str(tmp_path_factory.mktemp("authz") / "evidence")},
                         session_factory=factory)
        app.testing = True
        client = app.test_client()
        with factory() as session:
            world = build(session, client)
        spec = client.get("/openapi.json").get_json()
        operations = [f"{method.upper()} {path}" for path, item in spec["paths"].items()
                      for method in item if method in METHODS]
        yield Matrix(app, client, conn, world, operations)
        outer.rollback()


def _observe(m: Matrix, operation: str, role: Role, cell: str) -> str:
    """What the API answers, written like the policy's cell."""
    if policy.is_list(cell):
        status, text, _ = m.send(operation, role, None)
        if not 200 <= status < 300:
            return _symbol(status)
        param = policy.LISTED[operation]
        marks = []
        for rel, expected in zip(policy.RELATIONS, cell[1:]):
            if expected == ".":
                marks.append(".")
                continue
            found = m.world.id(param, rel, role)
            marks.append("?" if found is None else "+" if str(found) in text else "-")
        return "L" + "".join(marks)
    if len(cell) == 1:
        return _symbol(m.send(operation, role, None)[0])
    return "".join(sym if sym == "." else _symbol(m.send(operation, role, rel)[0])
                   for rel, sym in zip(policy.RELATIONS, cell))


def _table(rows: list[tuple[str, Role, str, str]]) -> str:
    width = max(len(op) for op, *_ in rows)
    lines = [f"{'operation'.ljust(width)}  {'role'.ljust(12)}  policy  observed   (relations: own peer sibling "
             f"foreign; A 2xx/3xx, 3 403, 4 404, C 409, I 422, L list +listed -absent)"]
    lines += [f"{op.ljust(width)}  {role.value.ljust(12)}  {want.ljust(6)}  {got}" for op, role, want, got in rows]
    return "\n".join(lines)


def test_the_policy_names_every_operation_of_the_openapi_and_nothing_else(matrix):
    unknown = sorted(set(matrix.operations) - set(policy.POLICY))
    stale = sorted(set(policy.POLICY) - set(matrix.operations))
    assert not unknown, f"operations the policy does not mention (add them to tests/authz_policy.py): {unknown}"
    assert not stale, f"policy entries for operations the OpenAPI no longer has: {stale}"


def test_the_policy_is_well_formed():
    for operation, cells in policy.POLICY.items():
        assert set(cells) == set(policy.ROLES), operation
        relational = bool(set(re.findall(r"{(\w+)}", operation)) - {"kind", "slug"}) or (
            operation in policy.BODY_NAMES_OBJECT)
        for role, cell in cells.items():
            if relational:
                assert policy.per_relation(cell) and set(cell) <= policy.ALLOWED_SYMBOLS, (operation, role, cell)
            elif policy.is_list(cell):
                assert operation in policy.LISTED and len(cell) == 5 and set(cell[1:]) <= set("+-."), (operation, role)
            else:
                assert len(cell) == 1 and cell in policy.ALLOWED_SYMBOLS, (operation, role, cell)


def test_covert_things_answer_outsiders_exactly_like_an_id_that_does_not_exist_in_the_policy():
    """The covert rule as the table states it: outside the circle, the covert object's cell is the foreign one's."""
    checked = 0
    for operation, cells in policy.POLICY.items():
        params = re.findall(r"{(\w+)}", operation)
        for param in params:
            for relation, circle in policy.COVERT.get(param, {}).items():
                index = policy.RELATIONS.index(relation)
                for role, cell in cells.items():
                    if role in circle or not policy.per_relation(cell) or cell[index] == ".":
                        continue
                    assert cell[index] == cell[3], (operation, role.value, relation, cell)
                    checked += 1
    assert checked > 150


def test_every_role_on_every_operation_and_relation_answers_as_the_policy_says(matrix):
    started = time.perf_counter()
    differing, cells = [], 0
    for operation in matrix.operations:
        if operation not in policy.POLICY:
            continue  # the test above names it
        for role in policy.ROLES:
            want = policy.cell(operation, role)
            got = _observe(matrix, operation, role, want)
            cells += len([s for s in want.lstrip("L") if s != "."]) or 1
            if got != want:
                differing.append((operation, role, want, got))
    print(f"\nauthorization matrix: {len(matrix.operations)} operations, {cells} cells, {matrix.sent} requests, "
          f"{time.perf_counter() - started:.1f} s")
    assert not differing, f"{len(differing)} cells differ from tests/authz_policy.py:\n" + _table(differing)


def test_a_foreign_or_covert_object_answers_like_an_id_that_does_not_exist(matrix):
    """For every operation on an id and every role: the other district's object, and every covert object
    seen from outside its circle, get the same status and the same problem detail as a random id."""
    differing = []
    for operation in matrix.operations:
        if operation not in policy.POLICY:
            continue
        params = re.findall(r"{(\w+)}", operation)
        if not (set(params) - {"kind", "name", "slug"}) and operation not in policy.BODY_NAMES_OBJECT:
            continue
        for role in policy.ROLES:
            cell = policy.cell(operation, role)
            if not policy.per_relation(cell):
                continue
            missing = matrix.send(operation, role, None, missing=True)
            outsiders = ["foreign"] + [rel for p in params for rel, circle in policy.COVERT.get(p, {}).items()
                                       if role not in circle and cell[policy.RELATIONS.index(rel)] != "."]
            for rel in outsiders:
                status, _, detail = matrix.send(operation, role, rel)
                if (status, detail) != (missing[0], missing[2]):
                    differing.append((operation, role, f"{missing[0]} {missing[2]!r}", f"{rel}: {status} {detail!r}"))
    print(f"\nmissing-id probes: {matrix.sent} requests in all")
    assert not differing, "answers that tell an existing object from a missing one:\n" + "\n".join(
        f"{op}  {role.value}: missing id {want}, {got}" for op, role, want, got in differing)
