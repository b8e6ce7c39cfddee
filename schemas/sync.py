"""Schemas of the sync feed; each entity's data is dumped with the schema registered for it."""

from __future__ import annotations

import marshmallow as ma

from field.core.sync import MAX_LIMIT

#: entity → the schema its data is written with; the API registers one per feed.
ENTITY_SCHEMAS: dict[str, ma.Schema] = {}


def register_entity_schema(entity: str, schema: ma.Schema) -> None:
    ENTITY_SCHEMAS[entity] = schema


class SyncArgsSchema(ma.Schema):
    cursor = ma.fields.String(load_default=None, metadata={
        "description": "The cursor of the previous answer; none for the first sync"})
    limit = ma.fields.Integer(load_default=500, validate=ma.validate.Range(1, MAX_LIMIT))


class ChangeSchema(ma.Schema):
    entity = ma.fields.String(metadata={"example": "enterprise", "description": "unit, person, enterprise, "
                                        "monitoring_point, squad, record_review or complaint (a handler's unit's); "
                                        "the data has that resource's schema"})
    id = ma.fields.UUID()
    op = ma.fields.String(metadata={"example": "upsert", "description": "upsert (store data) or delete (drop "
                                    "the local copy: deleted, or no longer visible to the caller)"})
    data = ma.fields.Method("_data", allow_none=True, metadata={"type": "object"})

    def _data(self, entry):
        if entry.data is None:
            return None
        return ENTITY_SCHEMAS[entry.entity].dump(entry.data)


class SyncSchema(ma.Schema):
    changes = ma.fields.List(ma.fields.Nested(ChangeSchema))
    cursor = ma.fields.String(metadata={"description": "Send it back as ?cursor= next time"})
    has_more = ma.fields.Boolean(metadata={"description": "More changes wait: ask again with the new cursor"})
    reset = ma.fields.Boolean(metadata={
        "description": "The cursor was made for another account or scope: drop the local copy, then apply"})
