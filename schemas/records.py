"""Schemas shared by every kind of field record: the envelope, its review and versions."""

from __future__ import annotations

from dataclasses import dataclass, field

import marshmallow as ma
from webargs.fields import DelimitedList

from field.core.models.records import ReviewState
from field.records import kinds
from field.records.kinds import RecordKind

from .common import GeoJSONGeometry, StrictSchema, Text


class DeclaredAttachmentSchema(StrictSchema):
    sha256 = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[0-9a-f]{64}$"),
                              metadata={"description": "SHA-256 the phone computed at capture"})
    media = ma.fields.String(load_default="photo", validate=ma.validate.OneOf(["photo", "audio", "video"]))


class RecordBodySchema(StrictSchema):
    """What the phone sends with every kind of record: its clock, and the evidence it will upload."""

    device_time = ma.fields.AwareDateTime(required=True, metadata={
        "description": "When the record was made on the phone (RFC 3339 with offset)",
        "example": "2026-05-06T10:15:00+08:00"})
    declared_attachments = ma.fields.List(ma.fields.Nested(DeclaredAttachmentSchema), load_default=list,
                                          validate=ma.validate.Length(0, 50), metadata={
                                              "description": "Evidence the phone will upload for this record"})


class RecordEnvelopeSchema(ma.Schema):
    """What every record answers with, whatever its kind."""

    id = ma.fields.UUID()
    kind = ma.fields.String()
    jurisdiction_id = ma.fields.UUID()
    device_time = ma.fields.AwareDateTime()
    received_at = ma.fields.AwareDateTime()
    clock_skew_s = ma.fields.Float(allow_none=True)
    version = ma.fields.Integer()
    review_state = ma.fields.Enum(ReviewState)
    reviewed_at = ma.fields.AwareDateTime(allow_none=True)
    location = GeoJSONGeometry(allow_none=True)
    accuracy_m = ma.fields.Float(allow_none=True)
    flags = ma.fields.Method("_flags")
    declared_attachments = ma.fields.List(ma.fields.Dict())

    def _flags(self, record):
        return sorted(name for name in ("unfiled", "implausible_evidence", "clock_skew", "far_from_target")
                      if getattr(record, f"flag_{name}"))


class ReviewDecisionSchema(StrictSchema):
    state = ma.fields.Enum(ReviewState, required=True)
    comment = Text(5000, blank=True, load_default=None)


class CommentCreateSchema(StrictSchema):
    body = Text(5000, required=True)


class CommentSchema(ma.Schema):
    id = ma.fields.UUID()
    author_id = ma.fields.UUID()
    author = ma.fields.Function(lambda c: c.author.display_name)
    author_role = ma.fields.Function(lambda c: c.author.role.value)
    body = ma.fields.String()
    state_from = ma.fields.Enum(ReviewState, allow_none=True)
    state_to = ma.fields.Enum(ReviewState, allow_none=True)
    created_at = ma.fields.AwareDateTime()


class VersionSchema(ma.Schema):
    version = ma.fields.Integer()
    body = ma.fields.Dict()
    body_hash = ma.fields.String()
    submitted_at = ma.fields.AwareDateTime()


class QueueArgsSchema(ma.Schema):
    kind = ma.fields.String(load_default=None)
    unit_id = ma.fields.UUID(load_default=None)
    squad_id = ma.fields.UUID(load_default=None)
    category = ma.fields.String(load_default=None)
    flag = ma.fields.String(load_default=None, validate=ma.validate.OneOf(
        ["unfiled", "implausible_evidence", "clock_skew", "far_from_target"]))
    bbox = DelimitedList(ma.fields.Float(),
                                   validate=ma.validate.Length(equal=4),
                                   metadata={"description": "min_lon,min_lat,max_lon,max_lat (WGS-84)"})
    jurisdiction_id = ma.fields.UUID(load_default=None)


class RecordReviewSchema(ma.Schema):
    """What a phone's sync feed says of one of its own records: the review state and the thread."""

    id = ma.fields.UUID()
    kind = ma.fields.String()
    version = ma.fields.Integer()
    review_state = ma.fields.Enum(ReviewState)
    reviewed_at = ma.fields.AwareDateTime(allow_none=True)
    comments = ma.fields.List(ma.fields.Nested(CommentSchema))


# -- the record-kind seam: each kind's schemas, registered once beside them ---------------------


@dataclass(frozen=True)
class KindSchemas:
    """A record kind's bodies and answer (field/records/kinds.py has its verbs); api/records.py makes
    its endpoints from both. ``docs`` are the operations' descriptions (list, create, get, amend)."""

    kind: RecordKind
    create: type[ma.Schema]
    amend: type[ma.Schema]
    out: type[ma.Schema]
    query: type[ma.Schema]
    #: The path parameter naming one record (/findings/{finding_id}).
    id_param: str
    #: Locations answered in ``?crs=``, lists as GeoJSON on request.
    located: bool = True
    #: The list also takes near, radius, box, boundary and nearest-N (schemas.common.AreaArgsSchema).
    area: bool = False
    docs: dict[str, str] = field(default_factory=dict)


_SCHEMAS: dict[str, KindSchemas] = {}


def register_schemas(schemas: KindSchemas) -> KindSchemas:
    _SCHEMAS[schemas.kind.name] = schemas
    return schemas


def kind_schemas() -> list[KindSchemas]:
    """Every registered kind's schemas (every module of ``schemas`` imported first), in the domain's order."""
    import importlib
    import pkgutil

    import schemas

    for info in pkgutil.iter_modules(schemas.__path__, "schemas."):
        importlib.import_module(info.name)
    return [_SCHEMAS[k.name] for k in kinds.kinds() if k.name in _SCHEMAS]


def schemas_of(kind: str) -> KindSchemas | None:
    kind_schemas()
    return _SCHEMAS.get(kind)
