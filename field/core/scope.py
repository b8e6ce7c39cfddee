"""Scope: a user sees their jurisdiction and what lies below it, nothing else; a field record, the office
within its scope and anyone else their own."""

from __future__ import annotations

import uuid
from typing import TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from .errors import InvalidInput, NotFound
from .models.platform import OFFICE_ROLES, Jurisdiction, User
from .models.records import FieldRecord

T = TypeVar("T")


def subtree(path: str):
    """Ids of the jurisdiction with materialised ``path`` and all below it, as a subquery."""
    return select(Jurisdiction.id).where(Jurisdiction.path.startswith(path, autoescape=True))


def scope_legs(session: Session, jurisdiction_column, path: str) -> tuple:
    """``paginate``'s ``legs`` for the subtree at ``path``: the column and the subtree's ids, or none
    when the subtree is wider than pages.MAX_LEGS (its lists then walk the common index)."""
    from .pages import MAX_LEGS

    ids = list(session.execute(subtree(path).order_by(Jurisdiction.path).limit(MAX_LEGS + 1)).scalars())
    return (jurisdiction_column, ids if len(ids) <= MAX_LEGS else [])


def in_scope(jurisdiction_column, user: User) -> ColumnElement[bool]:
    """Predicate: the row's jurisdiction lies in ``user``'s subtree."""
    return jurisdiction_column.in_(subtree(user.jurisdiction.path))


def jurisdiction_in_scope(jurisdiction: Jurisdiction, user: User) -> bool:
    return jurisdiction.path.startswith(user.jurisdiction.path)


def get_one(session: Session, model: type[T], object_id, what: str, *visible: ColumnElement[bool]) -> T:
    """The ``model`` row with this id that meets every ``visible`` condition; otherwise ``NotFound(what)``,
    the same for an id that does not exist as for one the caller may not see. Every get-by-id is this."""
    obj = session.execute(select(model).where(model.id == object_id, *visible)).unique().scalar_one_or_none()
    if obj is None:
        raise NotFound(what)
    return obj


def get_in_scope(session: Session, model: type[T], object_id: uuid.UUID, user: User, what: str) -> T:
    """Load ``model`` by id if the user may see it; otherwise the same NotFound as a missing id."""
    return get_one(session, model, object_id, what, in_scope(model.jurisdiction_id, user))


def resolve_jurisdiction(session: Session, actor: User | None, jurisdiction_id: uuid.UUID,
                         field: str = "jurisdiction_id") -> Jurisdiction:
    """A jurisdiction named in a request body; absent and out of scope read the same."""
    j = session.get(Jurisdiction, jurisdiction_id)
    if j is None or (actor is not None and not jurisdiction_in_scope(j, actor)):
        raise InvalidInput(field, "No such jurisdiction.")
    return j


def visible_records_predicate(user: User):
    """Who sees a field record, whatever its kind: office staff within their scope, anyone else their own
    (SQL, for lists, lookups and the sync feed)."""
    if user.role in OFFICE_ROLES:
        return in_scope(FieldRecord.jurisdiction_id, user)
    return FieldRecord.submitted_by_id == user.id
