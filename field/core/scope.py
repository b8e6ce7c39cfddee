"""Scope: a user sees their jurisdiction and what lies below it, nothing else."""

from __future__ import annotations

import uuid
from typing import TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from .errors import NotFound
from .models.platform import Jurisdiction, User

T = TypeVar("T")


def subtree(path: str):
    """Ids of the jurisdiction with materialised ``path`` and all below it, as a subquery."""
    return select(Jurisdiction.id).where(Jurisdiction.path.startswith(path, autoescape=True))


def in_scope(jurisdiction_column, user: User) -> ColumnElement[bool]:
    """Predicate: the row's jurisdiction lies in ``user``'s subtree."""
    return jurisdiction_column.in_(subtree(user.jurisdiction.path))


def jurisdiction_in_scope(jurisdiction: Jurisdiction, user: User) -> bool:
    return jurisdiction.path.startswith(user.jurisdiction.path)


def get_in_scope(session: Session, model: type[T], object_id: uuid.UUID, user: User, what: str) -> T:
    """Load ``model`` by id if the user may see it; otherwise the same NotFound as a missing id."""
    obj = session.execute(
        select(model).where(model.id == object_id, in_scope(model.jurisdiction_id, user))
    ).scalar_one_or_none()
    if obj is None:
        raise NotFound(what)
    return obj
