"""The finding categories: the seeded taxonomy of the brief, and the categories an office adds."""

import pytest
from sqlalchemy import select

from field.visits import taxonomy
from field.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from field.visits.models import FindingCategory
from field.core.models.platform import Role
from tests.visits_fixtures import world  # noqa: F401

#: Brief, mechanism 4: every category, by its Chinese label.
BRIEF = ["刁难", "勾兑", "踢球", "折腾", "利己", "庸懒散", "不作为", "乱作为", "慢作为", "乱收费", "乱罚款", "乱摊派",
         "有诺不践"]


def test_seeding_loads_every_category_of_the_brief_with_english_codes_and_both_labels(session):
    report = taxonomy.seed_categories(session)
    rows = {c.code: c for c in session.execute(select(FindingCategory)).scalars()}
    assert report.created == len(taxonomy.SEED) == len(rows)
    labels = {c.label_zh for c in rows.values()}
    assert all(label in labels for label in BRIEF)
    for code in ("rude_service", "unfair_enforcement", "arbitrary_policy", "excessive_procedures", "delays",
                 "absent_from_post", "personal_business_at_work", "irregular_enterprise_inspection",
                 "sponsorship_or_paid_training"):
        assert code in rows
    assert all(taxonomy.CODE.match(code) and c.label_en and c.jurisdiction_id is None for code, c in rows.items())
    assert sorted(c.code for c in rows.values() if c.group_code == "five_poisons") == [
        "buck_passing", "collusion", "harassing", "obstructing", "self_serving"]


def test_seeding_again_adds_nothing_and_puts_a_changed_label_back(session):
    taxonomy.seed_categories(session)
    row = session.execute(select(FindingCategory).where(FindingCategory.code == "delays")).scalar_one()
    row.label_zh = "拖拖拉拉"
    again = taxonomy.seed_categories(session)
    assert (again.created, again.updated, again.unchanged) == (0, 1, len(taxonomy.SEED) - 1)
    assert row.label_zh == "办事拖延"


def test_an_offices_category_applies_in_its_jurisdiction_and_below_but_not_next_door(session, world, tree, make_user):
    row = taxonomy.create_category(session, world.admin, code="parking_fees", label_zh="违规收取停车费",
                                   label_en="Irregular parking fees", group_code="three_arbitraries")
    assert taxonomy.resolve_category(session, "parking_fees", tree["home_street"]).id == row.id
    with pytest.raises(InvalidInput) as err:
        taxonomy.resolve_category(session, "parking_fees", tree["other"])
    assert err.value.fields[0].field == "category"
    listed = [c.code for c in session.execute(taxonomy.categories_query(session, world.alice.user)).scalars()]
    assert "parking_fees" in listed and "delays" in listed
    elsewhere = [c.code for c in session.execute(taxonomy.categories_query(
        session, make_user(Role.reviewer, jurisdiction=tree["other"]))).scalars()]
    assert "parking_fees" not in elsewhere and "delays" in elsewhere


def test_a_code_may_not_repeat_one_that_applies_above_or_is_defined_below(session, world, tree, make_user):
    street_admin = make_user(Role.admin, jurisdiction=tree["home_street"])
    taxonomy.create_category(session, street_admin, code="market_fees", label_zh="市场乱收费", label_en="Market fees")
    for actor, code in ((world.admin, "market_fees"), (street_admin, "delays")):
        with pytest.raises(Conflict) as err:
            taxonomy.create_category(session, actor, code=code, label_zh="x", label_en="x")
        assert err.value.fields[0].field == "code"
    # Next door, the same code is free.
    other_admin = make_user(Role.admin, jurisdiction=tree["other"])
    assert taxonomy.create_category(session, other_admin, code="market_fees", label_zh="x", label_en="x").code


def test_a_deactivated_category_takes_no_new_findings(session, world, tree):
    row = taxonomy.create_category(session, world.admin, code="queue_jumping", label_zh="插队办理",
                                   label_en="Queue jumping")
    taxonomy.update_category(session, world.admin, row, {"active": False, "label_en": "Queue-jumping"})
    with pytest.raises(InvalidInput) as err:
        taxonomy.resolve_category(session, "queue_jumping", tree["home"])
    assert "no longer in use" in err.value.detail and row.label_en == "Queue-jumping"


def test_codes_are_english_snake_case(session, world):
    with pytest.raises(InvalidInput) as err:
        taxonomy.create_category(session, world.admin, code="乱收费", label_zh="x", label_en="x")
    assert err.value.fields[0].field == "code"


def test_only_admins_manage_categories_and_the_seeded_ones_are_fixed(session, world, make_user):
    seeded = session.execute(select(FindingCategory).where(FindingCategory.code == "delays")).scalar_one()
    with pytest.raises(NotAllowed):
        taxonomy.update_category(session, world.admin, seeded, {"active": False})
    with pytest.raises(NotAllowed):
        taxonomy.create_category(session, world.reviewer, code="abc", label_zh="x", label_en="x")
    with pytest.raises(NotFound):
        taxonomy.categories_query(session, make_user(Role.inspector))
