"""The catalogue of approval matters (事项) with their time limits."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from field.core.errors import Conflict, InvalidInput
from field.core.models.platform import User
from field.core.scope import get_in_scope, in_scope
from field.directory.models import Unit

from .models import ApprovalMatter
from .policy import require

FIELDS = ("code", "name", "unit_id", "legal_limit_days", "promised_limit_days", "deemed_approval", "yellow_share")


def matters_query(actor: User) -> Select:
    require(actor, "matters.read")
    return select(ApprovalMatter).where(in_scope(ApprovalMatter.jurisdiction_id, actor))


def get_matter(session: Session, actor: User, matter_id: uuid.UUID) -> ApprovalMatter:
    require(actor, "matters.read")
    return get_in_scope(session, ApprovalMatter, matter_id, actor, "approval matter")


def _check(session: Session, actor: User, values: dict, matter: ApprovalMatter | None = None) -> None:
    if values.get("unit_id") is not None:
        unit = session.execute(select(Unit.id).where(Unit.id == values["unit_id"], Unit.deleted_at.is_(None),
                                                     in_scope(Unit.jurisdiction_id, actor))).scalar_one_or_none()
        if unit is None:
            raise InvalidInput("unit_id", "No such unit.")
    legal = values.get("legal_limit_days", matter.legal_limit_days if matter else None)
    promised = values.get("promised_limit_days", matter.promised_limit_days if matter else None)
    if legal is not None and promised is not None and promised > legal:
        raise InvalidInput("promised_limit_days", "The promised limit is at most the legal one.")


def create_matter(session: Session, actor: User, **values) -> ApprovalMatter:
    require(actor, "matters.write")
    _check(session, actor, values)
    matter = ApprovalMatter(jurisdiction_id=actor.jurisdiction_id, **{k: values.get(k) for k in FIELDS
                                                                      if k in values})
    try:
        with session.begin_nested():
            session.add(matter)
    except IntegrityError:
        raise InvalidInput("code", f"The matter code {values['code']!r} is taken here.") from None
    return matter


def update_matter(session: Session, actor: User, matter: ApprovalMatter, changes: dict) -> ApprovalMatter:
    """Limits apply to cases folded from now on (a case's limit is refolded with its next event or scan)."""
    require(actor, "matters.write")
    _check(session, actor, changes, matter)
    for key, value in changes.items():
        if key not in FIELDS:
            raise InvalidInput(key, "Not a field of a matter.")
        setattr(matter, key, value)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict("The matter code is taken here.") from None
    return matter
