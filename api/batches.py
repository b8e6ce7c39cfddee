"""``POST /api/v1/batches``: a phone back online sends its outbox in one request (field/records/batches.py).

Thin: read the envelope, load each item with its kind's own create schema (a body that does
not load is that item's 422, named ``items.<i>.body.<field>``), hand the loaded items to the
domain, answer 207 Multi-Status with one entry per item. The whole batch is one transaction
and one commit (api/db.py); ``Idempotency-Key`` replays its answer like any POST's.
"""

from __future__ import annotations

from functools import cache

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from field.core.errors import FieldProblem
from field.records import batches
from schemas.batches import RecordBatchAnswerSchema, RecordBatchKindsSchema, RecordBatchSchema
from schemas.records import KindSchemas, kind_schemas

from .auth import authenticated
from .bodies import json_limit
from .db import db
from .errors import flatten_messages, domain_problem_body, domain_status, problem_body
from .records import context
from .submissions import receipt

blp = Blueprint("batches", __name__, url_prefix="/api/v1",
                description="A device's outbox in one request: records of any kinds, each answered on its own")

@cache
def _kinds() -> dict[str, tuple[KindSchemas, ma.Schema]]:
    """Each kind's schemas and its create schema, made once: the registry is complete once the app
    is built, and a schema instance is dear to make, cheap to reuse."""
    return {spec.kind.name: (spec, spec.create()) for spec in kind_schemas()}


def _refused(index: int, raw, kind: str | None, problems: dict[str, str]) -> batches.Refused:
    return batches.Refused(index, kind, batches.record_id_of(raw.get("body") if isinstance(raw, dict) else None),
                           [FieldProblem(f"items.{index}.{name}", message) for name, message in problems.items()])


def _load(index: int, raw, specs: dict[str, tuple[KindSchemas, ma.Schema]]) -> batches.Item | batches.Refused:
    """One item of the envelope, loaded by its kind's schema; or why not, with the fields named."""
    if not isinstance(raw, dict):
        return _refused(index, raw, None, {"_item": 'An object {"kind": …, "body": {…}}.'})
    unknown = sorted(set(raw) - {"kind", "body"})
    kind_name = raw.get("kind")
    spec, loader = specs.get(kind_name, (None, None)) if isinstance(kind_name, str) else (None, None)
    problems = {name: "Unknown field." for name in unknown}
    if spec is None:
        problems["kind"] = f"One of: {', '.join(sorted(specs))}."
    if not isinstance(raw.get("body"), dict):
        problems["body"] = "The record's body: an object, as its own POST takes it."
    if problems:
        return _refused(index, raw, kind_name if spec else None, problems)
    try:
        body = loader.load(raw["body"])
    except ma.ValidationError as exc:
        loaded = flatten_messages({"json": exc.messages})
        return batches.Refused(index, kind_name, batches.record_id_of(raw["body"]),
                               [FieldProblem(f"items.{index}.body.{f['field']}", f["message"]) for f in loaded])
    return batches.Item(index, spec.kind, body)


def _answer(outcome: batches.Outcome) -> dict:
    out = {"index": outcome.index, "kind": outcome.kind,
           "id": None if outcome.record_id is None else str(outcome.record_id), "status": outcome.status}
    if outcome.record is not None:
        out["version"] = outcome.record.version
        out["review_state"] = outcome.record.review_state.value
    elif outcome.error is not None:
        out["problem"] = domain_problem_body(outcome.error, field_prefix=f"items.{outcome.index}.body.")
    else:
        fields = [{"field": f.field, "message": f.message} for f in outcome.fields]
        out["problem"] = problem_body("validation-failed", "Some fields are not valid: "
                                      + ", ".join(sorted({f["field"] for f in fields})) + ".", fields=fields)
    return out


@blp.route("/batches")
@json_limit("BATCH_MAX_BYTES")
class Batches(MethodView):
    @authenticated()
    @blp.arguments(RecordBatchSchema)
    @blp.response(207, RecordBatchAnswerSchema)
    def post(self, body):
        """Submit a device's outbox: up to BATCH_MAX_ITEMS records of any kinds, one answer each

        Each item is ``{"kind": …, "body": …}`` with the body its kind's own POST takes (its client
        UUID in ``id``, its declared attachments; the photos follow by tus as for one record).
        Each item answers what its own POST would have (201, 200 for a repeat, 409, 422 with its
        fields named ``items.<i>.body.<field>``, 403, 404) in the 207 body, in the request's order;
        one refused item changes nothing and blocks no other. The batch is one transaction: all
        the items that answered 200 or 201 are stored together, or (a 5xx) none. Sending the same
        batch again is safe: created items answer 200; with the same ``Idempotency-Key`` the first
        answer is replayed as it was.
        """
        items = body["items"]
        limit = current_app.config["BATCH_MAX_ITEMS"]
        if not items:
            abort(422, messages={"json": {"items": ["Send at least one record."]}})
        if len(items) > limit:
            abort(422, messages={"json": {"items": [
                f"At most {limit} records in one batch (got {len(items)}); send the rest in another."]}})
        specs = _kinds()
        loaded = [_load(index, raw, specs) for index, raw in enumerate(items)]
        outcomes = batches.submit_batch(db(), receipt(), loaded, context(), domain_status)
        return {"items": [_answer(outcome) for outcome in outcomes], "counts": batches.counts(outcomes)}


@blp.route("/batches/kinds")
class BatchKinds(MethodView):
    @authenticated()
    @blp.response(200, RecordBatchKindsSchema)
    def get(self):
        """The record kinds a batch item may be, and how large a batch may be"""
        return {"kinds": sorted(_kinds()), "max_items": current_app.config["BATCH_MAX_ITEMS"],
                "max_bytes": current_app.config["BATCH_MAX_BYTES"]}
