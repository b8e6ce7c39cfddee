"""Keyset (cursor) pagination for SQLAlchemy 2 ``select()``: stable under inserts, flat at any depth."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Sequence, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import Session

from .errors import InvalidInput

T = TypeVar("T")

MAX_LIMIT = 500


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _encode(values: Sequence[Any]) -> str:
    def plain(v):
        if isinstance(v, datetime):
            return v.isoformat()
        if isinstance(v, uuid.UUID):
            return str(v)
        return v

    raw = json.dumps([plain(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, columns) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(columns):
            raise ValueError("wrong arity")
        out = []
        for v, col in zip(values, columns):
            kind = col.type.python_type
            if v is None:
                out.append(None)
            elif kind is datetime:
                out.append(datetime.fromisoformat(v))
            elif kind is uuid.UUID:
                out.append(uuid.UUID(v))
            else:
                out.append(kind(v))
        return out
    except (ValueError, TypeError, UnicodeDecodeError, NotImplementedError):
        raise InvalidInput("cursor", "This cursor is not one this server gave out.") from None


def _after(columns, values, descending: bool):
    """Row-value comparison ``(a, b) > (x, y)`` written out, as SQLite and PostgreSQL both index it."""
    clauses = []
    for i, (col, val) in enumerate(zip(columns, values)):
        eq = [c == v for c, v in zip(columns[:i], values[:i])]
        cmp = col < val if descending else col > val
        clauses.append(and_(*eq, cmp))
    return or_(*clauses)


def paginate(
    session: Session, stmt: Select, keys: Sequence, *, cursor: str | None, limit: int,
    descending: bool = False, key_of=None,
) -> Page:
    """One page of ``stmt`` ordered by ``keys`` (the last key must be unique, e.g. the id).

    ``key_of(item)`` gives the key values of a result item; by default the attributes
    named like the key columns are read from the item.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("limit", f"Must be between 1 and {MAX_LIMIT}.")
    if cursor:
        stmt = stmt.where(_after(keys, _decode(cursor, keys), descending))
    order = [k.desc() if descending else k.asc() for k in keys]
    rows = list(session.execute(stmt.order_by(*order).limit(limit + 1)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        values = key_of(last) if key_of else [getattr(last, k.key) for k in keys]
        next_cursor = _encode(values)
    return Page(rows, next_cursor)


def keyed(*keys, descending: bool = False):
    """Declare the paging keys of a query function (``@keyed(Case.opened_at, Case.id, descending=True)``):
    the domain, not the view, says how its lists are ordered and cut. ``page`` reads them."""

    def mark(query):
        query.page_keys, query.page_descending = keys, descending
        return query

    return mark


def page(session: Session, query, *args, cursor: str | None, limit: int, **filters) -> Page:
    """One page of what ``query(*args, **filters)`` selects, by the keys the query function declares."""
    return paginate(session, query(*args, **filters), list(query.page_keys), cursor=cursor, limit=limit,
                    descending=query.page_descending)
