"""Complaint categories (the Open311 services) and their working-day limits: defaults, an office's own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from field.core.errors import InvalidInput
from field.core.models.base import utcnow
from field.core.models.platform import Jurisdiction, User

from .models import ComplaintTimeLimit
from .policy import POLICY


@dataclass(frozen=True)
class Category:
    code: str
    label_zh: str
    label_en: str
    #: Working days for the unit's first acknowledgement (响应) and for its answer (办结).
    response_days: int
    answer_days: int


#: The categories the office takes complaints in, and their limits when no office has set its own.
CATEGORIES: tuple[Category, ...] = (
    Category("obstruction", "刁难推诿", "Obstruction and buck-passing", 1, 5),
    Category("inaction", "不作为慢作为", "Inaction and slow action", 1, 5),
    Category("arbitrary_charges", "乱收费乱罚款乱摊派", "Arbitrary fees, fines and levies", 1, 10),
    Category("unfair_enforcement", "执法不公", "Unfair enforcement", 1, 10),
    Category("rude_service", "服务态度差", "Rude service", 1, 5),
    Category("broken_promise", "有诺不践", "Broken promises", 1, 10),
    Category("excessive_procedures", "多头审批繁琐", "Excessive procedures", 1, 10),
    Category("other", "其他", "Other", 1, 15),
)
BY_CODE = {c.code: c for c in CATEGORIES}


def category(code: str, field: str = "category") -> Category:
    found = BY_CODE.get(code)
    if found is None:
        raise InvalidInput(field, f"One of {', '.join(BY_CODE)}.")
    return found


def _chain(session: Session, jurisdiction: Jurisdiction) -> list[uuid.UUID]:
    """The jurisdiction and those above it, from the top down."""
    codes = [c for c in jurisdiction.path.strip("/").split("/") if c]
    rows = dict(session.execute(select(Jurisdiction.code, Jurisdiction.id).where(Jurisdiction.code.in_(codes))).all())
    return [rows[c] for c in codes if c in rows]


@dataclass(frozen=True)
class Limits:
    category: Category
    response_days: int
    answer_days: int
    #: Where they were set (a jurisdiction id), None for the built-in defaults.
    set_in: uuid.UUID | None


def limits_in(session: Session, jurisdiction: Jurisdiction) -> dict[str, Limits]:
    """Each category's limits in ``jurisdiction``: the lowest level that set them wins."""
    chain = _chain(session, jurisdiction)
    depth = {jid: i for i, jid in enumerate(chain)}
    best: dict[str, ComplaintTimeLimit] = {}
    for row in session.execute(select(ComplaintTimeLimit)
                               .where(ComplaintTimeLimit.jurisdiction_id.in_(chain))).scalars():
        held = best.get(row.category_code)
        if held is None or depth[held.jurisdiction_id] < depth[row.jurisdiction_id]:
            best[row.category_code] = row
    out = {}
    for c in CATEGORIES:
        row = best.get(c.code)
        out[c.code] = Limits(c, row.response_days if row else c.response_days,
                             row.answer_days if row else c.answer_days, row.jurisdiction_id if row else None)
    return out


def time_limits(session: Session, actor: User) -> list[Limits]:
    POLICY.require(actor, "read_limits")
    return list(limits_in(session, actor.jurisdiction).values())


def set_limits(session: Session, actor: User, code: str, *, response_days: int | None,
               answer_days: int | None) -> Limits:
    """An admin sets (both None: removes) a category's limits for their jurisdiction and below.

    Complaints already dispatched keep the due days they were given."""
    POLICY.require(actor, "set_limits")
    found = category(code, "category")
    row = session.get(ComplaintTimeLimit, (actor.jurisdiction_id, found.code))
    if response_days is None and answer_days is None:
        if row is not None:
            session.delete(row)
    else:
        response_days = response_days or found.response_days
        answer_days = answer_days or found.answer_days
        if answer_days < response_days:
            raise InvalidInput("answer_days", "The answer cannot be due before the response.")
        if row is None:
            session.add(ComplaintTimeLimit(jurisdiction_id=actor.jurisdiction_id, category_code=found.code,
                                           response_days=response_days, answer_days=answer_days,
                                           updated_by_id=actor.id, updated_at=utcnow()))
        else:
            row.response_days, row.answer_days = response_days, answer_days
            row.updated_by_id, row.updated_at = actor.id, utcnow()
    session.flush()
    return limits_in(session, actor.jurisdiction)[found.code]
