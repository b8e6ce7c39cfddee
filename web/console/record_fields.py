"""Every field of a record, whatever its kind: the kind's output schema (the API's answer) as a tree to render.

One generic template renders the tree (console/_fields.html), so a new kind needs a line in
``KIND_SCHEMAS`` and no template. A kind without a schema here shows its latest version body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from field import records
from field.models import FieldRecord
from schemas.inspections import FilingSchema, InspectionSchema
from schemas.records import RecordEnvelopeSchema
from schemas.reports import LeaderVisitSchema, ReportSchema
from schemas.visits import CallbackSchema, FindingSchema, VisitSchema

from .labels import FIELDS, TAGS, label

KIND_SCHEMAS = {
    "finding": FindingSchema, "visit": VisitSchema, "callback": CallbackSchema, "report": ReportSchema,
    "leader_visit": LeaderVisitSchema, "inspection": InspectionSchema, "filing": FilingSchema,
}
#: Shown in the page's header and evidence sections, not again among the fields.
ENVELOPE = frozenset(RecordEnvelopeSchema().fields)
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


@dataclass
class Shown:
    """One field: a label and a text, an instant, a list of texts, or nested fields."""

    key: str
    label: str
    text: str | None = None
    instant: datetime | None = None
    items: list[str] = field(default_factory=list)
    children: list[Shown] = field(default_factory=list)
    empty: bool = False


def _shown(key: str, value) -> Shown:
    name = label(FIELDS, key)
    if value is None or value == "" or value == [] or value == {}:
        return Shown(key, name, empty=True)
    if isinstance(value, dict):
        return Shown(key, name, children=[_shown(k, v) for k, v in value.items()])
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return Shown(key, name, items=[_scalar(v) for v in value])
        return Shown(key, name, children=[_shown(f"{key}[{i + 1}]", v) for i, v in enumerate(value)])
    if isinstance(value, str) and _INSTANT.match(value):
        return Shown(key, name, instant=datetime.fromisoformat(value.replace("Z", "+00:00")))
    return Shown(key, name, text=_scalar(value))


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return label(TAGS, value) if isinstance(value, str) and value in TAGS else str(value)


def fields_of(session, record: FieldRecord) -> list[Shown]:
    schema = KIND_SCHEMAS.get(record.kind)
    if schema is not None:
        data = schema().dump(record)
    else:
        data = records.versions(session, record)[-1].body
    return [_shown(key, value) for key, value in data.items() if key not in ENVELOPE]
