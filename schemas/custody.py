"""Schemas of the custody log's checkpoints (the signed heads of every chain)."""

from __future__ import annotations

import marshmallow as ma

from field.custody.checkpoints import heads_of


class CheckpointHeadSchema(ma.Schema):
    jurisdiction_code = ma.fields.String(attribute="code")
    seq = ma.fields.Integer(metadata={"description": "The chain's head: its last entry's position"})
    hash = ma.fields.String(metadata={"description": "SHA-256 of that entry (hex)"})
    at = ma.fields.AwareDateTime(metadata={"description": "When that entry was logged"})


class CheckpointSchema(ma.Schema):
    """A signed checkpoint; its note (``links.note``) is the document to print or hand over."""

    id = ma.fields.UUID()
    made_at = ma.fields.AwareDateTime()
    key_name = ma.fields.String(metadata={"description": "Name of the signing key: the log's origin"})
    key_id = ma.fields.String(metadata={"description": "Key id (hex), as in the note's signature line"})
    chains = ma.fields.Integer()
    heads = ma.fields.Method("_heads", metadata={"description": "The head of every chain, as the note lists them"})
    links = ma.fields.Method("_links")

    def _heads(self, row):
        return CheckpointHeadSchema(many=True).dump(heads_of(row))

    def _links(self, row):
        return {"note": f"/api/v1/custody/checkpoints/{row.id}"}
