"""Narrowing a list's query by the filters a caller gave: the one spelling of "this column, if given"."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select


def narrowed(stmt: Select, *filters: tuple[Any, Any]) -> Select:
    """``stmt`` where ``column == value`` for each ``(column, value)`` whose value was given (is not None)."""
    for column, value in filters:
        if value is not None:
            stmt = stmt.where(column == value)
    return stmt
