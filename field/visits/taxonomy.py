"""The office's finding categories: the seeded ones of the brief (shared by all) and each office's own.

A category with no jurisdiction is seeded: shared by every office, maintained here in
``SEED`` and loaded by ``seed_categories`` (``fieldwatch seed-taxonomy``, safe to run after
every migration: it adds what is missing and corrects labels, and leaves ``active`` alone).
Offices cannot change seeded categories. An admin adds categories for their jurisdiction; one applies there
and below. A code means one thing wherever it applies, so a new code may not repeat a
code that applies above the new category's jurisdiction or is defined below it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from field.custody import chain as custody

from field.core.memo import remembered
from field.core.pages import keyed
from field.core.errors import Conflict, FieldProblem, InvalidInput, NotAllowed
from field.core.models.platform import OFFICE_ROLES, Jurisdiction, Role, User
from field.core.models.base import utcnow
from .models import FindingCategory
from field.core.scope import get_one, in_scope, subtree
from field.core.scoped import target_jurisdiction, text_matches
from .visits import require_undercover_role

CODE = re.compile(r"^[a-z][a-z0-9_]{1,47}$")


@dataclass(frozen=True)
class Seed:
    code: str
    label_zh: str
    label_en: str
    group_code: str | None = None


#: Every category of the brief's mechanism 4, in the order the office lists them.
SEED: tuple[Seed, ...] = (
    # 五毒: the "five poisons"
    Seed("obstructing", "刁难", "Obstructing: making things difficult for applicants", "five_poisons"),
    Seed("collusion", "勾兑", "Collusion", "five_poisons"),
    Seed("buck_passing", "踢球", "Buck-passing", "five_poisons"),
    Seed("harassing", "折腾", "Harassing: needless back-and-forth", "five_poisons"),
    Seed("self_serving", "利己", "Self-serving", "five_poisons"),
    Seed("incompetence_laziness_laxity", "庸懒散", "Incompetence, laziness, laxity"),
    # 不作为、乱作为、慢作为
    Seed("inaction", "不作为", "Inaction", "three_actions"),
    Seed("arbitrary_action", "乱作为", "Arbitrary action", "three_actions"),
    Seed("slow_action", "慢作为", "Slow action", "three_actions"),
    # 乱收费、乱罚款、乱摊派
    Seed("arbitrary_fees", "乱收费", "Arbitrary fees", "three_arbitraries"),
    Seed("arbitrary_fines", "乱罚款", "Arbitrary fines", "three_arbitraries"),
    Seed("arbitrary_levies", "乱摊派", "Arbitrary levies", "three_arbitraries"),
    Seed("rude_service", "服务态度差", "Rude service"),
    Seed("unfair_enforcement", "执法不公", "Unfair enforcement"),
    Seed("arbitrary_policy", "政策随意多变", "Arbitrary policy"),
    Seed("broken_promises", "有诺不践", "Broken promises"),
    Seed("excessive_procedures", "程序繁琐", "Excessive procedures"),
    Seed("delays", "办事拖延", "Delays"),
    # 违反工作纪律
    Seed("absent_from_post", "脱岗离岗", "Absent from post", "work_discipline"),
    Seed("personal_business_at_work", "上班时间办私事", "Personal business during working hours", "work_discipline"),
    Seed("work_discipline_other", "其他违反工作纪律", "Other breach of work discipline", "work_discipline"),
    Seed("irregular_enterprise_inspection", "违规涉企检查", "Irregular enterprise inspection"),
    Seed("sponsorship_or_paid_training", "拉赞助、借培训收费", "Soliciting sponsorship or charging through training courses"),
)


@dataclass(frozen=True)
class SeedReport:
    created: int
    updated: int
    unchanged: int


def seed_categories(session: Session) -> SeedReport:
    """Add the seeded categories that are missing and correct their labels; flushes, never commits."""
    existing = {c.code: c for c in session.execute(
        select(FindingCategory).where(FindingCategory.jurisdiction_id.is_(None))).scalars()}
    created = updated = unchanged = 0
    for seed in SEED:
        row = existing.get(seed.code)
        if row is None:
            session.add(FindingCategory(jurisdiction_id=None, code=seed.code, label_zh=seed.label_zh,
                                        label_en=seed.label_en, group_code=seed.group_code, active=True))
            created += 1
        elif (row.label_zh, row.label_en, row.group_code) != (seed.label_zh, seed.label_en, seed.group_code):
            row.label_zh, row.label_en, row.group_code = seed.label_zh, seed.label_en, seed.group_code
            row.updated_at = utcnow()
            updated += 1
        else:
            unchanged += 1
    session.flush()
    return SeedReport(created, updated, unchanged)


def _chain_ids(session: Session, jurisdiction: Jurisdiction) -> Select:
    """The jurisdiction and those above it (their codes are its materialised path)."""
    codes = [c for c in jurisdiction.path.strip("/").split("/") if c]
    return select(Jurisdiction.id).where(Jurisdiction.code.in_(codes))


def applies_at(session: Session, jurisdiction: Jurisdiction) -> ColumnElement[bool]:
    """Categories that apply in ``jurisdiction``: the seeded ones, and those of it and above it."""
    return or_(FindingCategory.jurisdiction_id.is_(None),
               FindingCategory.jurisdiction_id.in_(_chain_ids(session, jurisdiction)))


def visible_categories(session: Session, user: User) -> ColumnElement[bool]:
    """What a user may list: what applies to them; office staff also the categories defined below them."""
    applicable = applies_at(session, user.jurisdiction)
    if user.role in OFFICE_ROLES:
        return or_(applicable, in_scope(FindingCategory.jurisdiction_id, user))
    return applicable


@keyed(FindingCategory.code, FindingCategory.id)
def categories_query(session: Session, user: User, *, active: bool | None = None, q: str | None = None) -> Select:
    require_undercover_role(user)
    stmt = select(FindingCategory).where(visible_categories(session, user))
    if active is not None:
        stmt = stmt.where(FindingCategory.active.is_(active))
    if q:
        stmt = stmt.where(text_matches(q, FindingCategory.code, FindingCategory.label_zh, FindingCategory.label_en))
    return stmt


def get_category(session: Session, user: User, category_id: uuid.UUID) -> FindingCategory:
    require_undercover_role(user)
    return get_one(session, FindingCategory, category_id, "finding category", visible_categories(session, user))


def resolve_category(session: Session, code: str, jurisdiction: Jurisdiction, field: str = "category") \
        -> FindingCategory:
    """The active category ``code`` names in ``jurisdiction``; a 422 naming ``field`` otherwise."""
    row = remembered(session, ("category", code, jurisdiction.id), lambda: session.execute(
        select(FindingCategory).where(FindingCategory.code == code, applies_at(session, jurisdiction))).scalars().first())
    if row is None:
        raise InvalidInput(field, f"No finding category {code!r} here; GET /api/v1/finding-categories lists them.")
    if not row.active:
        raise InvalidInput(field, f"The finding category {code!r} is no longer in use.")
    return row


def _require_admin(actor: User) -> None:
    require_undercover_role(actor)
    if actor.role is not Role.admin:
        raise NotAllowed("Only an admin manages the finding categories.")


def create_category(session: Session, actor: User, *, code: str, label_zh: str, label_en: str,
                    group_code: str | None = None, jurisdiction_id: uuid.UUID | None = None) -> FindingCategory:
    _require_admin(actor)
    code = code.strip()
    if not CODE.match(code):
        raise InvalidInput("code", "English snake_case: a lower-case letter, then letters, digits or _ "
                                   "(2 to 48 characters).")
    jurisdiction = target_jurisdiction(session, actor, jurisdiction_id)
    clash = session.execute(select(FindingCategory.id).where(
        FindingCategory.code == code,
        or_(applies_at(session, jurisdiction), FindingCategory.jurisdiction_id.in_(subtree(jurisdiction.path))),
    )).first()
    if clash:
        raise Conflict(f"The code {code!r} is in use here, above or below; choose another.",
                       fields=[FieldProblem("code", "Already in use.")])
    row = FindingCategory(jurisdiction_id=jurisdiction.id, code=code, label_zh=label_zh.strip(),
                          label_en=label_en.strip(), group_code=(group_code or "").strip() or None,
                          active=True, created_by_id=actor.id)
    session.add(row)
    session.flush()
    custody.record(session, jurisdiction_id=jurisdiction.id, kind="finding_category.created",
                   subject_type="finding_category", subject_id=row.id, actor=actor, data={"code": code})
    return row


def update_category(session: Session, actor: User, row: FindingCategory, changes: dict) -> FindingCategory:
    """Relabel or (de)activate an office's own category; the code never changes (findings carry it)."""
    _require_admin(actor)
    if row.jurisdiction_id is None:
        raise NotAllowed("The seeded categories are shared by every office and change only with the software; "
                         "add a category of your own instead.")
    for name in ("label_zh", "label_en"):
        if name in changes:
            setattr(row, name, changes[name].strip())
    if "group_code" in changes:
        row.group_code = (changes["group_code"] or "").strip() or None
    if "active" in changes:
        row.active = bool(changes["active"])
    row.updated_at = utcnow()
    session.flush()
    custody.record(session, jurisdiction_id=row.jurisdiction_id, kind="finding_category.changed",
                   subject_type="finding_category", subject_id=row.id, actor=actor,
                   data={"fields": sorted(changes), "active": row.active})
    return row
