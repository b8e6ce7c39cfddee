"""Every field of a record, whatever its kind: the kind's output schema (the API's answer) as a tree to render.

One generic template renders the tree (console/_fields.html); the schema is the one the kind
registered (schemas/records.py ``register_schemas``), so a new kind needs nothing here and no
template. A kind without registered schemas shows its latest version body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from field.records import lifecycle as records
from schemas.records import RecordEnvelopeSchema, schemas_of

from .labels import FIELDS, TAGS, label

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
    #: An id shown by the name of what it refers to; ``record`` when it is a record to open.
    ref: str | None = None
    record: str | None = None


@dataclass(frozen=True)
class _Refs:
    names: dict[str, str]
    records: frozenset[str]


def _shown(key: str, value, refs: _Refs) -> Shown:
    name = label(FIELDS, key)
    if value is None or value == "" or value == [] or value == {}:
        return Shown(key, name, empty=True)
    if isinstance(value, dict):
        return Shown(key, name, children=[_shown(k, v, refs) for k, v in value.items()])
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return Shown(key, name, items=[refs.names.get(str(v)) or _scalar(v) for v in value])
        return Shown(key, name, children=[_shown(f"{key}[{i + 1}]", v, refs) for i, v in enumerate(value)])
    if isinstance(value, str) and _INSTANT.match(value):
        return Shown(key, name, instant=datetime.fromisoformat(value.replace("Z", "+00:00")))
    if isinstance(value, str) and value in refs.records:
        return Shown(key, name, text=value, record=value)
    if isinstance(value, str) and value in refs.names:
        return Shown(key, name, text=refs.names[value], ref=value)
    return Shown(key, name, text=_scalar(value))


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return label(TAGS, value) if isinstance(value, str) and value in TAGS else str(value)


def fields_of(session, sheet) -> list[Shown]:
    """The kind's fields of ``sheet.record`` (a ``field.visits.review_sheet.RecordSheet``), ids shown by name."""
    record = sheet.record
    registered = schemas_of(record.kind)
    if registered is not None:
        data = registered.out().dump(record)
    else:
        data = records.versions(session, record)[-1].body
    refs = _Refs(sheet.names, sheet.record_links)
    shown = []
    for key, value in data.items():
        # ``x_name`` beside ``x_id`` says the same thing once: the id is shown by that name.
        if key in ENVELOPE or (key.endswith("_name") and f"{key[:-5]}_id" in data):
            continue
        if key == "category" and sheet.row.category_code:
            continue  # the page's header block shows the category in both languages
        if key.endswith("_id") and data.get(f"{key[:-3]}_name"):
            refs.names.setdefault(str(value), data[f"{key[:-3]}_name"])
        shown.append(_shown(key, value, refs))
    return shown


def version_text(text: str | None, names: dict[str, str]) -> str | None:
    """A value of a version's body as people read it: an id by its name, a point as "lat, lon ± m",
    an instant in the office's time zone; anything else as sent."""
    import json

    from flask_babel import format_datetime

    if text is None:
        return None
    if text in names:
        return names[text]
    if _INSTANT.match(text):
        return format_datetime(datetime.fromisoformat(text.replace("Z", "+00:00")), "yyyy-MM-dd HH:mm:ss")
    if text.startswith("{") and '"coordinates"' in text:
        try:
            point = json.loads(text)
            lon, lat = point["coordinates"][:2]
            accuracy = point.get("accuracy_m")
            return f"{lat:.6f}, {lon:.6f}" + (f" ± {accuracy:g} m" if accuracy else "")
        except (ValueError, KeyError, TypeError):
            return text
    return text
