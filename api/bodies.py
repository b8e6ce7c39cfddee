"""Refuse JSON that would store badly: NaN/Infinity, NUL characters, lone surrogates, oversized or too deeply nested bodies."""

from __future__ import annotations

import json
import re

from apispec import BasePlugin
from flask import Flask, request
from flask_smorest import abort

from .config import SETTINGS

_JSON_TYPES = ("application/json", "application/merge-patch+json")
#: Bodies the API takes at all; anything else is 415 before a view sees it.
ACCEPTED_BODY_TYPES = frozenset(_JSON_TYPES) | {
    "multipart/form-data", "application/offset+octet-stream", "text/csv", "application/geo+json",
}


class _Refused(ValueError):
    """Well-formed JSON holding a value we will not store: 422."""

    def __init__(self, message: str, path: str = ""):
        super().__init__(message)
        self.path = path


class _Malformed(_Refused):
    """Not JSON at all: 400."""


#: A JSON string, escapes included: its brackets are text, not nesting. Unrolled so that it
#: runs in linear time; an unterminated string is left in place (json.loads refuses it anyway).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _check_depth(raw: bytes, max_depth: int) -> None:
    """Refuse nesting deeper than ``max_depth``, from the bytes alone, before anything parses them.

    json.loads, webargs and our own walk all recurse once per level: 1,000 levels (2 KB)
    raised RecursionError, a 500. Counting brackets outside strings is one linear pass
    with no recursion at all, so the parsers only ever see bounded nesting.
    """
    depth = 0
    for byte in _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS):
        if byte in b"[{":
            depth += 1
            if depth > max_depth:
                raise _Malformed(f"The body is nested more than {max_depth} levels deep; "
                                 f"at most {max_depth} levels of arrays and objects are accepted.")
        else:
            depth -= 1


def _reject_constant(name: str):
    raise _Refused(f"{name} is not a JSON number; send a finite number or null.")


def _check_string(s: str, path: str) -> None:
    if "\x00" in s:
        raise _Refused("NUL characters are not allowed in text.", path)
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        raise _Refused("Text contains a lone UTF-16 surrogate (\\ud800-\\udfff); it cannot be stored.", path) from None


def _walk(node, path: str) -> None:
    if isinstance(node, str):
        _check_string(node, path)
    elif isinstance(node, dict):
        for key, value in node.items():
            _check_string(key, path)
            _walk(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _walk(value, f"{path}.{i}" if path else str(i))


def check_json_body(raw: bytes, max_depth: int = SETTINGS["MAX_JSON_DEPTH"][0]) -> None:
    """Raise ``_Refused`` (with the field path) for JSON text we will not store."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Malformed("The body is not UTF-8.") from None
    _check_depth(raw, max_depth)
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except _Refused as exc:
        raise exc
    except ValueError as exc:
        raise _Malformed(f"The body is not valid JSON: {exc}.") from None
    _walk(doc, "")


def reads_own_body(view):
    """Mark a view (a function or a MethodView class) that reads and judges its own request body.

    The guard below is for views that take JSON. A tus view takes raw bytes and owes its
    clients tus's own answers (415 naming application/offset+octet-stream, with
    Tus-Resumable); judging its body as JSON would answer them in another protocol.
    """
    view.reads_own_body = True
    return view


def json_limit(setting: str):
    """Mark a view (a function or a MethodView class) whose JSON bodies are bounded by the setting
    ``setting`` instead of MAX_JSON_BYTES (a batch of records is larger than one record)."""

    def mark(view):
        view.json_limit_setting = setting
        return view

    return mark


def _view_mark(app: Flask, name: str, default):
    view = app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(getattr(view, "view_class", view), name, default)


def view_reads_own_body(app: Flask) -> bool:
    return bool(_view_mark(app, "reads_own_body", False))


def init_json_guard(app: Flask) -> None:
    @app.before_request
    def _guard():
        if request.method in ("GET", "HEAD", "OPTIONS", "DELETE"):
            return
        if view_reads_own_body(app):
            return
        if request.blueprint in app.extensions.get("FORM_BLUEPRINTS", ()):
            return  # web pages post forms, and bound their size themselves (web/pages.py)
        has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding") == "chunked"
        if has_body and request.mimetype not in ACCEPTED_BODY_TYPES and not request.mimetype.endswith("+json"):
            abort(415, message=f"Send the body as application/json (got {request.mimetype or 'no type'!r}).")
        if request.mimetype not in _JSON_TYPES and not request.mimetype.endswith("+json"):
            return
        limit = app.config[_view_mark(app, "json_limit_setting", "MAX_JSON_BYTES")]
        if request.content_length is not None and request.content_length > limit:
            abort(413, message=f"JSON bodies are limited to {limit} bytes.")
        raw = request.get_data(cache=True)  # cached: the schema reads it again
        if len(raw) > limit:
            abort(413, message=f"JSON bodies are limited to {limit} bytes.")
        if not raw:
            return
        try:
            check_json_body(raw, app.config["MAX_JSON_DEPTH"])
        except _Malformed as exc:
            abort(400, message=str(exc))
        except _Refused as exc:
            field = exc.path or "_body"
            abort(422, messages={"json": {field: [str(exc)]}})


#: What the guard above may answer to any request with a body, by the component response documenting it.
GUARD_RESPONSES = {"400": "BAD_REQUEST", "413": "REQUEST_ENTITY_TOO_LARGE", "415": "UNSUPPORTED_MEDIA_TYPE",
                   "422": "UNPROCESSABLE_ENTITY"}


class BodyGuardDoc(BasePlugin):
    """apispec plugin: every operation that takes a request body documents the guard's answers."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            if isinstance(operation, dict) and "requestBody" in operation:
                responses = operation.setdefault("responses", {})
                for status, component in GUARD_RESPONSES.items():
                    if status not in responses and int(status) not in responses:
                        responses[status] = component

