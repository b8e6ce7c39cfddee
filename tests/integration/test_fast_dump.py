"""Pages dumped in bulk (schemas/fast.py) give the dict marshmallow gives, field for field (issue 18).

Real records from the database, in every CRS a map may ask for, through the page schemas the
API answers with; and a schema with every kind of field the compiler treats apart, on plain objects.
"""

from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import SimpleNamespace
import uuid

import marshmallow as ma
import pytest

from field.core.locations import Area
from field.records import lifecycle as records
from field.visits import findings
from schemas import fast
from schemas.common import REQUEST_CRS, page_of
from schemas.records import RecordEnvelopeSchema
from schemas.visits import FindingSchema
from tests.visits_fixtures import finding_values, receipt_for, world  # noqa: F401


@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "bd09"])
def test_a_page_of_findings_dumps_as_marshmallow_dumps_it(session, world, crs):
    for severity in ("minor", "serious"):
        findings.record_finding(session, receipt_for(world.alice.user), finding_values(world, severity=severity))
    findings.record_finding(session, receipt_for(world.alice.user), finding_values(world, location=None))
    page = findings.list_findings(session, world.reviewer, {}, Area(), cursor=None, limit=2)
    assert len(page.items) == 2 and page.next_cursor
    token = REQUEST_CRS.set(crs)
    try:
        for schema in (page_of(FindingSchema)(), page_of(RecordEnvelopeSchema)()):
            assert fast.compiled(schema) is not None
            assert schema.dump(page) == ma.Schema.dump(schema, page)
    finally:
        REQUEST_CRS.reset(token)


def test_a_page_of_the_review_queue_dumps_as_marshmallow_dumps_it(session, world):
    findings.record_finding(session, receipt_for(world.alice.user), finding_values(world))
    page = records.queue_page(session, world.reviewer, {}, cursor=None, limit=50)
    assert page.items
    schema = page_of(RecordEnvelopeSchema)()
    assert schema.dump(page) == ma.Schema.dump(schema, page)


class _Ref(ma.Schema):
    code = ma.fields.String()
    n = ma.fields.Integer(allow_none=True)


class _Every(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String(allow_none=True)
    renamed = ma.fields.String(attribute="label_text", data_key="label")
    at = ma.fields.AwareDateTime()
    when = ma.fields.DateTime(format="%Y/%m/%d", allow_none=True)
    ratio = ma.fields.Float(allow_none=True)
    count = ma.fields.Integer(as_string=True)
    ref = ma.fields.Nested(_Ref, allow_none=True)
    refs = ma.fields.List(ma.fields.Nested(_Ref))
    many_refs = ma.fields.Nested(_Ref, many=True)
    tags = ma.fields.List(ma.fields.String())
    deep = ma.fields.String(attribute="ref.code", dump_default="none")
    upper = ma.fields.Function(lambda o: o.name.upper() if o.name else None)
    method = ma.fields.Method("_twice")
    absent = ma.fields.String()
    extra = ma.fields.Dict()

    def _twice(self, obj):
        return (obj.count or 0) * 2


@dataclass
class _Item:
    id: uuid.UUID
    name: str | None
    at: datetime
    when: datetime | None
    ratio: float | None
    count: int
    ref: object
    refs: list
    many_refs: list
    tags: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    label_text: str = "标签"


@pytest.mark.parametrize("name, ref", [("河边", SimpleNamespace(code="a", n=1)), (None, None),
                                       (b"bytes", SimpleNamespace(code=None, n=None))])
def test_every_kind_of_field_dumps_as_marshmallow_dumps_it(name, ref):
    at = datetime(2026, 5, 1, 9, 30, tzinfo=timezone.utc)
    item = _Item(uuid.uuid4(), name, at, at if ref else None, 0.5 if ref else None, 3, ref,
                 [SimpleNamespace(code="b", n=2)], [SimpleNamespace(code="c", n=3)], ["x"], {"k": [1]})
    schema = _Every()
    assert fast.dump(schema, [item, item], many=True) == ma.Schema.dump(schema, [item, item], many=True)
    mapping = {"code": "m", "n": None}  # read by key, as marshmallow reads a mapping
    assert fast.dump(_Ref(), mapping) == ma.Schema.dump(_Ref(), mapping) == {"code": "m", "n": None}


def test_a_schema_with_dump_hooks_is_left_to_marshmallow():
    class Hooked(ma.Schema):
        code = ma.fields.String()

        @ma.post_dump
        def _shout(self, data, **kwargs):
            return {k: v.upper() for k, v in data.items()}

    assert fast.compiled(Hooked()) is None
    assert fast.dump(Hooked(), SimpleNamespace(code="a")) == {"code": "A"}
