"""Bodies of ``POST /api/v1/batches``: a device's outbox of records of any kinds, and the answer per item."""

from __future__ import annotations

import marshmallow as ma

from .common import ProblemSchema, StrictSchema


class RecordBatchSchema(StrictSchema):
    """Items are read one by one (api/batches.py), so that one malformed item is that item's 422."""

    items = ma.fields.List(ma.fields.Raw(), required=True, metadata={
        "description": "The records, in the order the phone made them. Each is an object "
                       '{"kind": "<record kind>", "body": {<the body its own POST takes, id included>}}; '
                       "kinds: those of GET /api/v1/batches/kinds. At most BATCH_MAX_ITEMS items.",
        "example": [{"kind": "finding", "body": {"id": "0b8c5c7e-3f1a-4b7e-9d0e-5b7f4c1a2e3d", "category": "…"}}]})


class RecordBatchItemSchema(ma.Schema):
    index = ma.fields.Integer(metadata={"description": "The item's position in the request, from 0"})
    kind = ma.fields.String(allow_none=True)
    id = ma.fields.String(allow_none=True, metadata={"description": "The record's id, as the phone sent it"})
    status = ma.fields.Integer(metadata={
        "description": "What the item's own POST would have answered: 201 created, 200 a repeat of the stored "
                       "record, 409 the id used for another body, 422 refused (fields named), 403, 404"})
    version = ma.fields.Integer(metadata={"description": "The stored record's version (200, 201)"})
    review_state = ma.fields.String(metadata={"description": "The stored record's review state (200, 201)"})
    problem = ma.fields.Nested(ProblemSchema, metadata={
        "description": "Why the item was refused (RFC 9457); field names are paths in the request: "
                       "items.<index>.body.<field>"})


class RecordBatchAnswerSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(RecordBatchItemSchema))
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), metadata={
        "description": 'How many items answered each status, e.g. {"201": 198, "200": 1, "422": 1}'})


class RecordBatchKindsSchema(ma.Schema):
    kinds = ma.fields.List(ma.fields.String(), metadata={"description": "The record kinds a batch item may be"})
    max_items = ma.fields.Integer(metadata={"description": "The most items one batch may carry"})
    max_bytes = ma.fields.Integer(metadata={"description": "The largest batch body, in bytes"})
