"""Findings at domain level: category, unit, person, visit; the envelope the office's queue filters by."""

import uuid

import pytest
from sqlalchemy import select

from field.visits import findings, taxonomy, visits
from field.records import lifecycle as records
from field.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from field.core.locations import GivenLocation
from field.core.models.records import FieldRecord, ReviewState
from field.visits.models import FindingCategory, Severity
from field.core.models.platform import Role
from tests.visits_fixtures import at, finding_values, receipt_for, visit_values, world  # noqa: F401


def _finding(session, world, monitor=None, **overrides):
    monitor = monitor or world.alice
    return findings.record_finding(session, receipt_for(monitor.user), finding_values(world, **overrides))


def test_a_finding_carries_what_the_review_queue_filters_by(session, world, tree):
    visit = visits.record_visit(session, receipt_for(world.alice.user), visit_values()).record
    finding = _finding(session, world, person_id=world.clerk.id, visit_id=visit.id, severity="serious",
                       location=GivenLocation(106.51, 29.50, "gcj02", 15.0)).record
    session.commit()
    assert (finding.category_code, finding.unit_id, finding.squad_id) == ("absent_from_post", world.window.id,
                                                                          world.squad.id)
    assert finding.category.label_zh == "脱岗离岗" and finding.severity is Severity.serious
    assert finding.person.name == "李科员" and finding.visit_id == visit.id
    # The finding is the unit's jurisdiction's to review (the window sits in the district).
    assert finding.jurisdiction_id == world.window.jurisdiction_id
    queue = records.review_queue(session, world.reviewer, kind="finding", category="absent_from_post",
                                 squad_id=world.squad.id, unit_id=world.window.id)
    assert [r.id for r in session.execute(queue).scalars()] == [finding.id]


@pytest.mark.parametrize("change, field", [
    ({"category": "no_such_thing"}, "category"),
    ({"unit_id": "unknown"}, "unit_id"),
    ({"person_id": "stranger"}, "person_id"),
    ({"visit_id": "carols_visit"}, "visit_id"),
    ({"location": GivenLocation(106.5, 95.0)}, "location.coordinates"),
])
def test_a_finding_names_only_what_its_sender_may_name(session, world, change, field):
    carols = visits.record_visit(session, receipt_for(world.carol.user), visit_values()).record
    ids = {"stranger": world.stranger.id, "carols_visit": carols.id, "unknown": uuid.uuid4()}
    change = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in change.items()}
    with pytest.raises(InvalidInput) as err:
        _finding(session, world, **change)
    assert err.value.fields[0].field == field


def test_the_person_involved_may_work_in_a_section_below_the_unit_named(session, world):
    finding = _finding(session, world, unit_id=world.bureau.id, person_id=world.clerk.id).record
    assert finding.person_id == world.clerk.id and finding.unit_id == world.bureau.id


def test_a_category_of_another_district_is_not_one_here(session, world, tree, make_user):
    other_admin = make_user(Role.admin, jurisdiction=tree["other"])
    taxonomy.create_category(session, other_admin, code="yuzhong_only", label_zh="x", label_en="x")
    with pytest.raises(InvalidInput) as err:
        _finding(session, world, category="yuzhong_only")
    assert err.value.fields[0].field == "category"


def test_a_finding_sent_again_after_its_category_was_retired_still_gets_its_receipt(session, world):
    row = taxonomy.create_category(session, world.admin, code="queue_jumping", label_zh="插队", label_en="Queue")
    values = finding_values(world, category="queue_jumping")
    first = findings.record_finding(session, receipt_for(world.alice.user), values)
    taxonomy.update_category(session, world.admin, row, {"active": False})
    again = findings.record_finding(session, receipt_for(world.alice.user), values)
    assert first.created and not again.created and again.record.id == values["id"]
    with pytest.raises(Conflict):
        findings.record_finding(session, receipt_for(world.alice.user), {**values, "severity": "minor"})


def test_an_inspector_never_sees_a_finding(session, world, make_user):
    finding = _finding(session, world).record
    inspector = make_user(Role.inspector)
    with pytest.raises(NotFound):
        findings.get_finding(session, inspector, finding.id)
    with pytest.raises(NotFound):
        findings.findings_query(inspector)
    with pytest.raises(NotFound):
        findings.record_finding(session, receipt_for(inspector), finding_values(world))
    with pytest.raises(NotAllowed):
        findings.record_finding(session, receipt_for(world.reviewer), finding_values(world))


def test_a_monitor_sees_their_own_findings_and_the_office_those_of_its_scope(session, world, tree, make_user):
    mine = _finding(session, world).record
    _finding(session, world, monitor=world.bob)
    listed = session.execute(findings.findings_query(world.alice.user)).scalars().all()
    assert [f.id for f in listed] == [mine.id]
    assert len(session.execute(findings.findings_query(world.reviewer)).scalars().all()) == 2
    elsewhere = make_user(Role.reviewer, jurisdiction=tree["other"])
    assert session.execute(findings.findings_query(elsewhere)).scalars().all() == []
    serious = session.execute(findings.findings_query(world.reviewer, severity=Severity.serious)).scalars().all()
    assert serious == []


def test_an_amended_finding_may_change_its_category_and_keeps_the_first_version(session, world):
    finding = _finding(session, world).record
    records.review(session, world.reviewer, finding, ReviewState.needs_info, "是哪一类问题？")
    amended = {k: v for k, v in finding_values(world, category="buck_passing").items() if k != "id"}
    findings.amend_finding(session, world.alice.user, finding, {**amended, "amendment_note": "改为踢球"})
    assert finding.category_code == "buck_passing" and finding.version == 2
    category = session.execute(select(FindingCategory).where(FindingCategory.code == "buck_passing")).scalar_one()
    assert finding.category_id == category.id
    assert [v.body["category"] for v in records.versions(session, finding)] == ["absent_from_post", "buck_passing"]
    assert session.get(FieldRecord, finding.id).review_state is ReviewState.submitted


def test_a_findings_photos_are_expected_around_when_it_happened_not_when_it_was_sent(session, world):
    from field.attachments import links

    finding = _finding(session, world, device_time=at(14, 20)).record
    assert links.record_window(finding, links.current_thresholds()) == (at(12, 7, 50), at(12, 11, 50))
