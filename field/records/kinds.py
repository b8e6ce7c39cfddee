"""The record-kind seam: every kind of field record registers here once, and the generic parts pick it up.

A kind (a finding, a contact-point report, an on-site inspection …) is a ``FieldRecord`` subclass
with its own verbs. It says once, with ``register(RecordKind(...))`` at the end of its verbs module:

- ``model``, ``name`` (its polymorphic identity) and ``noun`` (what a 404 calls it);
- ``path``: its collection under /api/v1 (``findings`` → /findings, /findings/<id>);
- ``create`` and ``amend``: check and apply, as ``(session, receipt, body, context)`` and
  ``(session, user, record, body, context)``; ``body`` is the loaded body, ``id`` and
  ``amendment_note`` included, and ``context`` what the deployment decides (``Context``);
- ``get`` and ``query``: who sees which (visibility is the verbs' own: they raise the
  ``NotAllowed``/``NotFound`` of the policy); ``query`` declares its paging keys (``@keyed``);
- ``roles``: the role gate per operation (``list``, ``create``, ``get``, ``amend``, ``export``),
  checked by ``allow`` before anything else of the operation (its own rules, the undercover
  area's 404 included, are its verbs' and lookups');
- ``summary``: what the console's queue row says of it (enterprises, a tag, a line of text);
- ``export_columns``: its CSV/GeoJSON columns, when the office exports it.

The API (api/records.py) makes the list, create, get-by-id and amend endpoints of every kind
from this registry and the kind's schemas (schemas/records.py ``register_schemas``); the review
queue, versions, comments, sync feed and the console's record page are generic already and read
``summary`` and the schemas from here. docs/architecture.md walks through adding a kind.

Registration happens when a kind's verbs module is imported; ``kinds()`` imports every module of
``field`` once first, so a caller sees every kind whatever it imported itself.
"""

from __future__ import annotations

import importlib
import pkgutil
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Sequence

from sqlalchemy import Select
from sqlalchemy.orm import Session

from field.core.errors import NotAllowed
from field.core.models.platform import Role, User
from field.core.models.records import FieldRecord
from field.core import pages
from field.core.pages import Page

from .lifecycle import Receipt, Submitted, get_record

Column = tuple[str, Callable[[Any], Any]]
Summary = Callable[[FieldRecord], tuple[list, "str | None", str]]
OPERATIONS = ("list", "create", "get", "amend")


@dataclass(frozen=True)
class Context:
    """What the deployment decides for a request, handed to every verb: no verb reads the app's config."""

    far_threshold_m: float
    today: date


@dataclass(frozen=True)
class RecordKind:
    name: str
    model: type[FieldRecord]
    noun: str
    path: str
    create: Callable[[Session, Receipt, dict, Context], Submitted]
    amend: Callable[[Session, User, FieldRecord, dict, Context], Any]
    query: Callable[..., Select]
    get: Callable[[Session, User, uuid.UUID], FieldRecord] | None = None
    #: A list of its own (findings: near, radius, box …); otherwise ``query`` paged by the keys it
    #: declares (field/core/pages.py ``keyed``).
    page: Callable[..., Page] | None = None
    roles: dict[str, tuple[Role, ...]] = field(default_factory=dict)
    summary: Summary | None = None
    export_columns: Sequence[Column] | None = None
    #: Its ``create`` only reads until ``build`` makes the record, and writes nothing but through
    #: ``submit``: a batch may add many of it and flush them at once (field/records/batches.py).
    batchable: bool = False

    def allow(self, user: User, operation: str) -> None:
        """The kind's role gate for ``operation``: 403 for a role that may never do it."""
        allowed = self.roles.get(operation)
        if allowed and user.role not in allowed:
            raise NotAllowed(f"This needs the role {' or '.join(r.value for r in allowed)}.")

    def get_one(self, session: Session, user: User, record_id: uuid.UUID) -> FieldRecord:
        if self.get is not None:
            return self.get(session, user, record_id)
        return get_record(session, user, record_id, self.model, self.noun)

    def list_page(self, session: Session, user: User, filters: dict, *, cursor: str | None, limit: int,
                  area=None) -> Page:
        if self.page is not None:
            return self.page(session, user, filters, area, cursor=cursor, limit=limit)
        return pages.page(session, self.query, user, cursor=cursor, limit=limit, **filters)


def first_text(*texts) -> str:
    """The first of ``texts`` with something in it (a summary's line of text), or ""."""
    return next((t for t in texts if t and str(t).strip()), "") or ""


def value_of(enum_or_none) -> str | None:
    return getattr(enum_or_none, "value", enum_or_none)


_KINDS: dict[str, RecordKind] = {}
_discovered = False


def register(kind: RecordKind) -> RecordKind:
    if kind.name in _KINDS and _KINDS[kind.name] is not kind:
        existing = _KINDS[kind.name]
        if existing.model is not kind.model:
            raise ValueError(f"record kind {kind.name!r} registered twice")
    _KINDS[kind.name] = kind
    return kind


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    import field

    for info in pkgutil.walk_packages(field.__path__, "field."):
        importlib.import_module(info.name)


def kinds() -> list[RecordKind]:
    """Every registered kind, in registration order."""
    _discover()
    return list(_KINDS.values())


def kind(name: str) -> RecordKind | None:
    _discover()
    return _KINDS.get(name)
