"""Pages dumped in bulk: a marshmallow schema compiled once into plain getters and converters.

``Schema.dump`` pays, for every field of every item, ``Field.serialize`` → ``get_value`` →
``_get_value_for_key`` (a ``__getitem__`` probe, then ``getattr``) before the field's own
``_serialize``; on a 50-item page that indirection was most of the dump (issue 18). ``dump``
here reads each attribute with one ``getattr`` and calls the field's own ``_serialize`` (or
``str`` for strings and UUIDs, the nested item's compiled dumper for ``Nested``), which is what
marshmallow ends with, so the output is the same dict (tests/unit/test_fast_dump.py compares).

What it does not know how to do the same way it leaves to marshmallow: a schema with dump hooks
or its own ``get_attribute``, a field with its own ``serialize`` or ``get_value``, an item that
is a mapping (marshmallow reads ``obj[key]`` first).
"""

from __future__ import annotations

from typing import Any, Callable

import marshmallow as ma
from marshmallow import missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP

Dumper = Callable[[Any], dict]
_FIELD = ma.fields.Field


def dump(schema: ma.Schema, obj: Any, *, many: bool = False):
    """``schema.dump(obj, many=many)``, through the compiled dumper when the schema has one."""
    dumper = compiled(schema)
    if dumper is None:
        return ma.Schema.dump(schema, obj, many=many)
    if many:
        return None if obj is None else [dumper(item) for item in obj]
    return dumper(obj)


def compiled(schema: ma.Schema) -> Dumper | None:
    """The schema's dumper, compiled on first use and kept on the schema instance (None: marshmallow's)."""
    try:
        return schema.__dict__["_fast_dumper"]
    except KeyError:
        pass
    dumper = _compile(schema)
    schema.__dict__["_fast_dumper"] = dumper
    return dumper


def _compile(schema: ma.Schema) -> Dumper | None:
    hooks = schema._hooks  # noqa: SLF001 - marshmallow keeps them there
    if hooks[PRE_DUMP] or hooks[POST_DUMP] or type(schema).get_attribute is not ma.Schema.get_attribute:
        return None
    steps = []
    for name, field in schema.dump_fields.items():
        if type(field).serialize is not _FIELD.serialize:
            return None
        key = field.data_key if field.data_key is not None else name
        if not field._CHECK_ATTRIBUTE:  # noqa: SLF001 - Method, Function, Constant: no value to read
            steps.append((key, None, None, field, _converter(field, name)))
            continue
        if type(field).get_value is not _FIELD.get_value:
            return None
        path = tuple((field.attribute or name).split("."))
        steps.append((key, path, field.dump_default, field, _converter(field, name)))
    slow = schema

    def dumper(obj: Any) -> dict:
        if hasattr(type(obj), "__getitem__"):
            return ma.Schema.dump(slow, obj)
        out = {}
        for key, path, default, field, convert in steps:
            if path is None:
                value = None
            else:
                value = getattr(obj, path[0], missing)
                for part in path[1:]:  # as marshmallow.utils.get_value: a missing or None step is missing
                    if value is missing:
                        break
                    value = (getattr(value, part, missing) if not hasattr(type(value), "__getitem__")
                             else ma.utils._get_value_for_key(value, part, missing))  # noqa: SLF001
                if value is missing:
                    value = default() if callable(default) else default
                    if value is missing:
                        continue
            out[key] = convert(value, obj)
        return out

    return dumper


def _converter(field: ma.fields.Field, name: str) -> Callable[[Any, Any], Any]:
    kind = type(field)
    if kind is ma.fields.UUID:
        return lambda v, obj: None if v is None else str(v)
    if kind is ma.fields.String:
        return lambda v, obj: v if v is None or type(v) is str else field._serialize(v, name, obj)  # noqa: SLF001
    if kind is ma.fields.Nested:
        nested = _nested(field)
        if nested is not None:
            return nested
    if kind is ma.fields.List and type(field.inner) is ma.fields.Nested:
        inner = _nested(field.inner)
        if inner is not None:
            return lambda v, obj: None if v is None else [inner(each, obj) for each in v]
    serialize = field._serialize  # noqa: SLF001 - the field's own conversion, as marshmallow calls it
    return lambda v, obj: serialize(v, name, obj)


def _nested(field: ma.fields.Nested) -> Callable[[Any, Any], Any] | None:
    schema = field.schema
    dumper = compiled(schema)
    if dumper is None:
        return None
    if schema.many or field.many:
        return lambda v, obj: None if v is None else [dumper(each) for each in v]
    return lambda v, obj: None if v is None else dumper(v)
