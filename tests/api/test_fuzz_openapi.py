"""Fuzzing the API: schemathesis cases for every operation of /openapi.json, sent as each of the six roles.

One test per operation (and database). Each gets EXAMPLES generated cases (derandomised, so CI
repeats itself): schema-valid with the district's real ids, schema-valid with generated ids, and
schema-breaking. Each case is sent as admin, reviewer, inspector, squad_member, liaison and
leader, each time in a transaction rolled back afterwards (stress/fuzz.py). Every answer: no
5xx, a status the operation documents itself, the documented content type, headers and body
schema, and for everyone but the admin no monitor's or complainant's identity. Longer runs:
``python -m stress.fuzz --examples 200``.
"""

from __future__ import annotations

import pytest

import schemathesis
from api import create_app
from stress import fuzz
from tests.conftest import fresh_database_url

#: Cases per operation in CI (each sent six times); stress/fuzz.py takes --examples for more.
EXAMPLES = 4


def _document() -> dict:
    """The published document, read from an app that needs no database."""
    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "spec", "EVIDENCE_DIR": "/nonexistent"})
    return app.test_client().get("/openapi.json").get_json()


DOCUMENT = _document()
LABELS = [op.label for op in fuzz.operations(schemathesis.openapi.from_dict(DOCUMENT))]


# -- what the fuzz found in the document itself ------------------------------------------------


def _walk(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}/{i}")


def test_every_numeric_bound_of_the_document_is_a_number():
    """A Decimal field's bounds came out as strings ("100.00"): no generator can read that schema."""
    bounds = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
    assert [(path, key, value) for path, key, value in _walk(DOCUMENT)
            if key in bounds and not isinstance(value, (int, float))] == []


def test_a_problem_may_carry_extension_members():
    """RFC 9457 §3.2: retry_after, allowed, missing_gates, earliest … are part of the answers."""
    assert DOCUMENT["components"]["schemas"]["Problem"].get("additionalProperties") is not False


def test_every_operation_taking_a_body_documents_what_the_body_guard_answers():
    """Malformed JSON 400, too large 413, another media type 415, a refused value 422."""
    missing = [f"{method.upper()} {path}: {code}"
               for path, item in DOCUMENT["paths"].items() for method, op in item.items()
               if isinstance(op, dict) and "requestBody" in op
               for code in ("400", "413", "415", "422") if code not in op["responses"]]
    assert missing == []


# -- the fuzz ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzzed(backend, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    district, sessions = fuzz.build_fuzzed_district(fresh_database_url(backend, tmp, "_fuzz"), str(tmp / "evidence"))
    schema = fuzz.load_schema(district)
    yield district, sessions, {op.label: op for op in fuzz.operations(schema)}
    sessions.close()
    district.close()


def test_the_fuzz_covers_every_operation_of_the_document_and_every_role():
    assert len(LABELS) >= 150
    assert {role.value for role in fuzz.ROLES} == {"admin", "reviewer", "inspector", "squad_member", "liaison",
                                                   "leader", "operator", "handler"}


@pytest.mark.parametrize("label", LABELS)
def test_every_answer_to_a_generated_request_conforms_to_the_document(fuzzed, label):
    district, sessions, operations = fuzzed
    result = fuzz.fuzz_operation(operations[label], district, sessions, examples=EXAMPLES)
    assert result.cases >= 1
    assert sum(result.statuses.values()) == result.cases * len(fuzz.ROLES)
    assert result.failures == [], "\n".join(result.failures[:10])
