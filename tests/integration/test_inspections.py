"""Inspection filings, compulsory measures and on-site inspection records, on the database."""

import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from field.custody import chain as custody
from field.core import calendar
from field.core.office import OFFICE_TZ
from field.filings import coverage, filings, inspections, inspectors, measures
from field.records import lifecycle as records
from field.core.errors import Conflict, InvalidInput, InvalidTransition, NotAllowed, NotFound
from field.core.models.records import FieldRecord, ReviewState
from field.core.models.platform import Role
from field.directory.models import UnitKind
from field.filings.models import ApprovalState, CompulsoryMeasureApproval, InspectionFiling, InspectionRecord
from tests.directory_fixtures import make_enterprise, make_unit  # noqa: F401 (fixtures)
from tests.inspection_fixtures import (  # noqa: F401 (fixtures)
    DAY,
    SITE,
    approved_filing,
    approved_measure,
    at_noon,
    bureau,
    enterprise,
    file,
    filing_body,
    inspection_body,
    inspector,
    make_inspector,
    record,
    receipt,
    reviewer,
)

#: About 400 m north of SITE.
NORTH_400M = (SITE[0], SITE[1] + 0.0036)


# -- inspectors' units ------------------------------------------------------------------------------


def test_an_admin_assigns_an_inspector_to_a_unit_and_can_move_them(session, admin, make_user, make_unit, bureau):
    user = make_user(Role.inspector)
    assert inspectors.unit_of(session, user) is None
    inspectors.assign_unit(session, admin, user.id, bureau.id)
    section = make_unit("执法支队", UnitKind.section, parent_id=bureau.id)
    inspectors.assign_unit(session, admin, user.id, section.id)
    assert inspectors.unit_of(session, user).id == section.id
    inspectors.remove_assignment(session, admin, user.id)
    assert inspectors.unit_of(session, user) is None


def test_only_inspectors_are_assigned_and_only_to_a_department_or_section_they_can_see(
        session, admin, make_user, make_unit, bureau, tree):
    with pytest.raises(InvalidInput) as err:
        inspectors.assign_unit(session, admin, make_user(Role.squad_member).id, bureau.id)
    assert err.value.fields[0].field == "user_id"
    window = make_unit("综合窗口", UnitKind.window, parent_id=bureau.id)
    street_unit = make_unit("街道执法队", UnitKind.department, jurisdiction_id=tree["home_street"].id)
    street_inspector = make_user(Role.inspector, jurisdiction=tree["home_street"])
    for user, unit in ((make_user(Role.inspector), window), (street_inspector, bureau)):
        with pytest.raises(InvalidInput) as err:
            inspectors.assign_unit(session, admin, user.id, unit.id)
        assert err.value.fields[0].field == "unit_id"
    assert inspectors.assign_unit(session, admin, street_inspector.id, street_unit.id).unit_id == street_unit.id
    with pytest.raises(NotFound):
        inspectors.assign_unit(session, admin, make_user(Role.inspector, jurisdiction=tree["other"]).id, bureau.id)
    with pytest.raises(NotAllowed):
        inspectors.assign_unit(session, make_user(Role.reviewer), make_user(Role.inspector).id, bureau.id)


def test_an_inspector_without_a_unit_files_nothing(session, make_user, enterprise):
    with pytest.raises(NotAllowed, match="not assigned to a unit"):
        file(session, make_user(Role.inspector), filing_body([enterprise]))


# -- the matching function --------------------------------------------------------------------------


def test_the_match_is_an_approved_filing_of_the_unit_naming_the_enterprise_whose_window_holds_the_day(
        session, approved_filing, enterprise, bureau, make_enterprise, make_unit):
    def match(on, enterprise_id=enterprise.id, unit_id=bureau.id):
        return coverage.approved_filing_covering(session, enterprise_id=enterprise_id, unit_id=unit_id, on=on)

    end = DAY + timedelta(days=4)
    assert match(DAY).id == approved_filing.id and match(end).id == approved_filing.id
    assert match(DAY - timedelta(days=1)) is None and match(end + timedelta(days=1)) is None
    assert match(DAY, enterprise_id=make_enterprise("另一家公司").id) is None
    assert match(DAY, unit_id=make_unit("区住建委").id) is None
    assert match(DAY, unit_id=None).id == approved_filing.id


def test_a_filing_waiting_or_rejected_covers_nothing_while_a_statutory_one_covers_until_rejected(
        session, inspector, enterprise, bureau, reviewer):
    def match():
        return coverage.approved_filing_covering(session, enterprise_id=enterprise.id, unit_id=bureau.id, on=DAY)

    planned = file(session, inspector, filing_body([enterprise])).record
    assert match() is None
    records.review(session, reviewer, planned, ReviewState.rejected, "无检查必要")
    assert match() is None
    statutory = file(session, inspector, filing_body([enterprise], kind="statutory_exempt")).record
    assert match().id == statutory.id and statutory.review_state is ReviewState.submitted
    records.review(session, reviewer, statutory, ReviewState.rejected, "不属于法定检查")
    assert match() is None


# -- filings ----------------------------------------------------------------------------------------


def test_a_filing_is_made_for_the_inspectors_unit_with_its_enterprises_and_inspectors(
        session, inspector, make_inspector, bureau, enterprise, make_enterprise):
    colleague = make_inspector(bureau)
    second = make_enterprise("重庆山城食品有限公司")
    body = filing_body([enterprise, second], inspector_ids=[inspector.id, colleague.id])
    filing = file(session, inspector, body, today=date(2026, 3, 1)).record
    session.expire_all()
    filing = session.get(InspectionFiling, filing.id)
    assert (filing.kind, filing.unit_id, filing.jurisdiction_id) == ("filing", bureau.id, bureau.jurisdiction_id)
    assert {e.id for e in filing.enterprises} == {enterprise.id, second.id}
    assert {u.id for u in filing.inspectors} == {inspector.id, colleague.id}
    assert filing.filed_on == date(2026, 3, 1) and filing.review_state is ReviewState.submitted
    assert [e.kind for e in custody.history(session, "filing", filing.id)] == ["record.created"]


@pytest.mark.parametrize(("today", "earliest"), [
    (date(2025, 9, 25), date(2025, 10, 9)),   # Thu: Fri 26, Sun 28 (调休 make-up), 29, 30, then after the holiday 9 Oct
    (date(2025, 9, 26), date(2025, 10, 10)),  # Fri: 28 (make-up), 29, 30, 9, 10
    (date(2025, 9, 27), date(2025, 10, 10)),  # Sat: worth the Friday before
    (date(2025, 10, 9), date(2025, 10, 15)),  # Thu after the holiday: 10, Sat 11 (make-up), 13, 14, 15
])
def test_an_ad_hoc_filing_needs_five_working_days_notice_on_the_official_calendar(
        session, inspector, enterprise, today, earliest):
    too_soon = filing_body([enterprise], kind="ad_hoc", start=earliest - timedelta(days=1))
    with pytest.raises(InvalidInput) as err:
        file(session, inspector, too_soon, today=today)
    assert err.value.fields[0].field == "planned_start"
    assert err.value.extra == {"earliest": earliest.isoformat(), "earliest_provisional": False}
    on_time = file(session, inspector, filing_body([enterprise], kind="ad_hoc", start=earliest), today=today)
    assert on_time.created and on_time.record.filed_on == today


def test_a_local_holiday_of_the_office_pushes_the_earliest_day_back(session, admin, inspector, enterprise):
    calendar.add_override(session, admin, day=date(2025, 10, 10), working=False, note="区运动会")
    with pytest.raises(InvalidInput) as err:
        file(session, inspector, filing_body([enterprise], kind="ad_hoc", start=date(2025, 10, 10)),
             today=date(2025, 9, 26))
    assert err.value.extra["earliest"] == "2025-10-11"  # the make-up Saturday is the fifth working day now


def test_a_notice_running_into_a_year_the_calendar_does_not_know_is_judged_on_weekends_and_says_so(
        session, inspector, enterprise):
    # Filed Monday 28 December 2026: 29, 30, 31 December, then 2027 on weekends alone: Fri 1, Mon 4 January.
    with pytest.raises(InvalidInput) as err:
        file(session, inspector, filing_body([enterprise], kind="ad_hoc", start=date(2027, 1, 1)),
             today=date(2026, 12, 28))
    assert err.value.extra == {"earliest": "2027-01-04", "earliest_provisional": True}
    assert "counted on weekends alone" in err.value.detail
    filed = file(session, inspector, filing_body([enterprise], kind="ad_hoc", start=date(2027, 1, 4)),
                 today=date(2026, 12, 28)).record
    assert filed.notice_provisional is True
    known = file(session, inspector, filing_body([enterprise], kind="ad_hoc", start=date(2026, 12, 7)),
                 today=date(2026, 11, 30)).record
    assert known.notice_provisional is False


def test_an_annual_plan_needs_no_notice_but_may_not_start_in_the_past_nor_span_two_years(
        session, inspector, enterprise):
    today = date(2026, 1, 5)
    assert file(session, inspector, filing_body([enterprise], start=today, end=date(2026, 12, 31)),
                today=today).created
    for start, end, field in ((date(2026, 1, 4), date(2026, 6, 30), "planned_start"),
                              (date(2026, 7, 1), date(2027, 1, 31), "planned_end"),
                              (date(2026, 7, 1), date(2026, 6, 30), "planned_end")):
        with pytest.raises(InvalidInput) as err:
            file(session, inspector, filing_body([enterprise], start=start, end=end), today=today)
        assert err.value.fields[0].field == field


def test_a_statutory_filing_names_its_exemption_and_may_start_the_day_it_is_filed(session, inspector, enterprise):
    today = date(2026, 5, 6)
    with pytest.raises(InvalidInput) as err:
        file(session, inspector, filing_body([enterprise], kind="statutory_exempt", start=today,
                                             exemption_basis=" "), today=today)
    assert err.value.fields[0].field == "exemption_basis"
    with pytest.raises(InvalidInput) as err:
        file(session, inspector, filing_body([enterprise], exemption_basis="《安全生产法》"), today=today)
    assert err.value.fields[0].field == "exemption_basis"
    assert file(session, inspector, filing_body([enterprise], kind="statutory_exempt", start=today),
                today=today).created


def test_enterprises_and_inspectors_the_filer_may_not_name_are_refused_naming_the_field(
        session, inspector, enterprise, make_enterprise, make_inspector, make_unit, make_user, tree):
    other_admin = make_user(Role.admin, jurisdiction=tree["other"])
    foreign = make_enterprise("渝中区某公司", actor=other_admin)
    with pytest.raises(InvalidInput) as err:
        file(session, inspector, filing_body([enterprise, foreign]))
    assert err.value.fields[0].field == "enterprise_ids.1"
    other_units_inspector = make_inspector(make_unit("区消防救援大队"))
    with pytest.raises(InvalidInput) as err:
        file(session, inspector, filing_body([enterprise], inspector_ids=[inspector.id, other_units_inspector.id]))
    assert err.value.fields[0].field == "inspector_ids.1"
    with pytest.raises(InvalidInput) as err:
        file(session, inspector, filing_body([enterprise, enterprise]))
    assert err.value.fields[0].field == "enterprise_ids.1"


def test_a_repeat_arriving_after_the_notice_ran_out_answers_the_stored_filing(session, inspector, enterprise):
    body, filing_id = filing_body([enterprise], kind="ad_hoc", start=date(2025, 10, 10)), uuid.uuid4()
    first = file(session, inspector, body, today=date(2025, 9, 26), filing_id=filing_id)
    again = file(session, inspector, dict(body), today=date(2025, 10, 8), filing_id=filing_id)
    assert first.created and not again.created and again.record.id == filing_id
    with pytest.raises(Conflict):
        file(session, inspector, {**body, "purpose": "另一目的"}, today=date(2025, 9, 26), filing_id=filing_id)


def test_planned_measures_become_requests_of_their_own_for_a_filed_enterprise(
        session, inspector, enterprise, make_enterprise):
    planned = [{"enterprise_id": enterprise.id, "measure": "sealing", "reason": "疑似存放不合格产品"}]
    filing = file(session, inspector, filing_body([enterprise], planned_measures=planned)).record
    (approval,) = filing.measures
    assert (approval.state, approval.enterprise_id, approval.filing_id, approval.requested_by_id) == (
        ApprovalState.requested, enterprise.id, filing.id, inspector.id)
    assert [e.kind for e in custody.history(session, "compulsory_measure", approval.id)] == ["measure.requested"]
    elsewhere = [{"enterprise_id": make_enterprise("未备案公司").id, "measure": "seizure", "reason": "扣押"}]
    with pytest.raises(InvalidInput) as err:
        file(session, inspector, filing_body([enterprise], planned_measures=elsewhere))
    assert err.value.fields[0].field == "planned_measures.0.enterprise_id"


def test_an_amended_filing_is_checked_as_if_filed_on_the_day_of_the_amendment(
        session, inspector, enterprise, reviewer):
    body = filing_body([enterprise], kind="ad_hoc", start=date(2025, 10, 10))
    filing = file(session, inspector, body, today=date(2025, 9, 26)).record
    records.review(session, reviewer, filing, ReviewState.needs_info, "请补充检查依据")
    amended = {**body, "legal_basis": "《食品安全法》第一百一十条、第一百一十四条"}
    with pytest.raises(InvalidInput) as err:
        filings.amend_filing(session, inspector, filing, amended, today=date(2025, 9, 30))
    assert err.value.extra["earliest"] == "2025-10-14"  # 9, 10, Sat 11 (make-up), 13, 14 October
    later = {**amended, "planned_start": date(2025, 10, 14), "planned_end": date(2025, 10, 17)}
    filings.amend_filing(session, inspector, filing, later, today=date(2025, 9, 30), comment="已补充")
    assert (filing.version, filing.review_state, filing.filed_on, filing.planned_start) == (
        2, ReviewState.submitted, date(2025, 9, 30), date(2025, 10, 14))


# -- compulsory measures ----------------------------------------------------------------------------


def test_the_office_decides_a_measure_once_and_says_why_it_rejects(session, inspector, enterprise, reviewer):
    approval = measures.request_measure(session, inspector, enterprise_id=enterprise.id, measure="seizure",
                                           reason="扣押涉嫌假冒商品")
    with pytest.raises(NotAllowed):
        measures.decide_measure(session, inspector, approval, "approved", None)
    with pytest.raises(InvalidInput) as err:
        measures.decide_measure(session, reviewer, approval, "rejected", "  ")
    assert err.value.fields[0].field == "note"
    measures.decide_measure(session, reviewer, approval, "rejected", "证据不足")
    assert (approval.state, approval.decided_by_id, approval.decision_note) == (
        ApprovalState.rejected, reviewer.id, "证据不足")
    with pytest.raises(InvalidTransition):
        measures.decide_measure(session, reviewer, approval, "approved", None)
    assert [e.kind for e in custody.history(session, "compulsory_measure", approval.id)] == [
        "measure.requested", "measure.rejected"]


def test_a_measure_requested_under_a_filing_must_be_for_one_of_its_enterprises(
        session, inspector, enterprise, make_enterprise, approved_filing):
    with pytest.raises(InvalidInput) as err:
        measures.request_measure(session, inspector, enterprise_id=make_enterprise("别家").id,
                                    measure="sealing", reason="查封", filing_id=approved_filing.id)
    assert err.value.fields[0].field == "enterprise_id"
    with pytest.raises(InvalidInput) as err:
        measures.request_measure(session, inspector, enterprise_id=enterprise.id, measure="sealing",
                                    reason="查封", filing_id=uuid.uuid4())
    assert err.value.fields[0].field == "filing_id"


# -- inspection records -----------------------------------------------------------------------------


def test_an_inspection_covered_by_an_approved_filing_is_not_flagged(
        session, inspector, enterprise, approved_filing, bureau):
    body = inspection_body(enterprise, filing_id=approved_filing.id, day=DAY + timedelta(days=2))
    inspection = record(session, inspector, body).record
    assert (inspection.kind, inspection.unit_id, inspection.jurisdiction_id) == (
        "inspection", bureau.id, bureau.jurisdiction_id)
    assert inspection.covering_filing_id == approved_filing.id and not inspection.flag_unfiled
    assert inspection.distance_m == pytest.approx(0, abs=0.01) and not inspection.flag_far_from_target
    assert [e.kind for e in custody.history(session, "inspection", inspection.id)] == [
        "record.created", "inspection.checked"]


def test_an_inspection_with_no_approved_filing_is_flagged_and_listed_as_unfiled(
        session, inspector, enterprise, approved_filing, reviewer, make_user, tree):
    outside_window = record(session, inspector, inspection_body(enterprise, day=DAY + timedelta(days=5))).record
    unfiled_also = records.submit(  # any kind of record flagged unfiled is in the list
        session, FieldRecord, uuid.uuid4(), {"n": 1}, receipt(make_user(Role.liaison)),
        lambda: FieldRecord(jurisdiction_id=tree["home"].id, device_time=at_noon(DAY), flag_unfiled=True)).record
    covered = record(session, inspector, inspection_body(enterprise)).record
    assert outside_window.flag_unfiled and outside_window.covering_filing_id is None and not covered.flag_unfiled
    listed = session.execute(inspections.unfiled_query(reviewer)).scalars().all()
    assert {r.id for r in listed} == {outside_window.id, unfiled_also.id}
    assert session.execute(inspections.unfiled_query(reviewer, kind="inspection")).scalars().all() == [outside_window]
    elsewhere = make_user(Role.reviewer, jurisdiction=tree["other"])
    assert session.execute(inspections.unfiled_query(elsewhere)).scalars().all() == []
    with pytest.raises(NotAllowed):
        inspections.unfiled_query(inspector)


def test_a_filing_naming_the_enterprise_but_not_approved_leaves_the_inspection_unfiled(
        session, inspector, enterprise):
    waiting = file(session, inspector, filing_body([enterprise])).record
    inspection = record(session, inspector, inspection_body(enterprise, filing_id=waiting.id)).record
    assert inspection.filing_id == waiting.id and inspection.flag_unfiled


def test_approving_the_filing_after_the_inspection_arrived_clears_the_flag_when_the_approval_commits(
        session, inspector, enterprise, reviewer):
    filing = file(session, inspector, filing_body([enterprise])).record
    inspection = record(session, inspector, inspection_body(enterprise)).record
    assert inspection.flag_unfiled
    records.review(session, reviewer, filing, ReviewState.accepted, "同意")
    session.commit()
    assert not inspection.flag_unfiled and inspection.covering_filing_id == filing.id
    kinds = [e.kind for e in custody.history(session, "inspection", inspection.id)]
    assert kinds == ["record.created", "inspection.checked", "inspection.checked"]


def test_rejecting_a_statutory_filing_flags_the_inspections_it_covered(session, inspector, enterprise, reviewer):
    statutory = file(session, inspector, filing_body([enterprise], kind="statutory_exempt")).record
    inspection = record(session, inspector, inspection_body(enterprise)).record
    assert inspection.covering_filing_id == statutory.id and not inspection.flag_unfiled
    records.review(session, reviewer, statutory, ReviewState.rejected, "不属于法定检查")
    session.commit()
    assert inspection.flag_unfiled and inspection.covering_filing_id is None


@pytest.mark.parametrize(("position", "accuracy", "far"), [
    (NORTH_400M, 50.0, True),    # 400 m − 50 m > 300 m
    (NORTH_400M, 150.0, False),  # 400 m − 150 m: the fix may well have been at the enterprise
    (SITE, None, False),
])
def test_a_check_in_is_far_only_when_even_its_accuracy_cannot_bring_it_within_the_threshold(
        session, inspector, enterprise, position, accuracy, far):
    from field.core.locations import GivenLocation

    body = inspection_body(enterprise, location=GivenLocation(*position, "wgs84", accuracy))
    inspection = record(session, inspector, body).record
    assert inspection.flag_far_from_target is far


def test_a_gcj02_check_in_is_converted_to_wgs84_before_the_distance_is_measured(session, inspector, enterprise):
    from field.core.crs import from_wgs84
    from field.core.locations import GivenLocation

    gcj = from_wgs84(*SITE, "gcj02")
    converted = record(session, inspector, inspection_body(enterprise, location=GivenLocation(*gcj, "gcj02"))).record
    taken_as_gps = record(session, inspector, inspection_body(enterprise, location=GivenLocation(*gcj))).record
    assert converted.distance_m < 1 and not converted.flag_far_from_target
    assert taken_as_gps.distance_m > 400 and taken_as_gps.flag_far_from_target


def test_an_enterprise_without_a_position_gives_no_distance_and_no_flag(
        session, inspector, make_enterprise):
    unplaced = make_enterprise("无坐标企业")
    inspection = record(session, inspector, inspection_body(unplaced, at=NORTH_400M)).record
    assert inspection.distance_m is None and not inspection.flag_far_from_target


def test_a_fine_is_kept_to_the_fen_and_only_fines_carry_an_amount(session, inspector, enterprise):
    fine = record(session, inspector, inspection_body(enterprise, measure="fine",
                                                      fine_amount=Decimal("12345678.91"))).record
    session.expire_all()
    stored = session.get(InspectionRecord, fine.id)
    assert stored.fine_amount == Decimal("12345678.91") and str(stored.fine_amount) == "12345678.91"
    for overrides, field in (({"measure": "fine"}, "fine_amount"),
                             ({"measure": "fine", "fine_amount": Decimal("0.00")}, "fine_amount"),
                             ({"measure": "warning", "fine_amount": Decimal("200")}, "fine_amount"),
                             ({"measure": "warning", "compulsory_measure_id": uuid.uuid4()}, "compulsory_measure_id")):
        with pytest.raises(InvalidInput) as err:
            record(session, inspector, inspection_body(enterprise, **overrides))
        assert err.value.fields[0].field == field


def test_fines_per_enterprise_sum_exactly_in_sql(session, inspector, enterprise):
    for amount in ("0.10", "0.20", "1999999.70"):
        record(session, inspector, inspection_body(enterprise, measure="fine", fine_amount=Decimal(amount)))
    total = session.execute(select(func.sum(InspectionRecord.fine_amount))
                            .where(InspectionRecord.enterprise_id == enterprise.id)).scalar_one()
    assert Decimal(total).quantize(Decimal("0.01")) == Decimal("2000000.00")


def test_a_compulsory_measure_is_recorded_only_once_approved_and_only_once(
        session, inspector, enterprise, reviewer, make_enterprise):
    approval = measures.request_measure(session, inspector, enterprise_id=enterprise.id, measure="sealing",
                                           reason="疑似存放不合格产品")
    body = inspection_body(enterprise, measure="compulsory_measure", compulsory_measure_id=approval.id)
    with pytest.raises(Conflict) as err:
        record(session, inspector, body)
    assert err.value.extra["measure"] == "sealing" and err.value.extra["measure_state"] == "requested"
    assert err.value.fields[0].field == "compulsory_measure_id" and "sealing" in err.value.detail
    measures.decide_measure(session, reviewer, approval, "approved", "同意")
    taken = record(session, inspector, body).record
    assert taken.compulsory_measure_id == approval.id
    assert session.get(CompulsoryMeasureApproval, approval.id).taken_in.id == taken.id
    with pytest.raises(Conflict) as err:
        record(session, inspector, {**body, "checked": "复查"})
    assert err.value.extra["taken_in"] == str(taken.id)
    other = make_enterprise("别的公司", at=SITE)
    with pytest.raises(InvalidInput) as err:
        record(session, inspector, inspection_body(other, measure="compulsory_measure",
                                                   compulsory_measure_id=approval.id))
    assert err.value.fields[0].field == "compulsory_measure_id"
    assert [e.kind for e in custody.history(session, "compulsory_measure", approval.id)] == [
        "measure.requested", "measure.approved", "measure.taken"]


def test_the_day_of_the_inspection_is_the_offices_day_and_a_wrong_phone_clock_is_corrected(
        session, inspector, enterprise, approved_filing):
    late_evening = datetime(2026, 5, 6, 23, 30, tzinfo=OFFICE_TZ)  # 15:30 UTC, still 6 May in China
    assert record(session, inspector, inspection_body(enterprise, device_time=late_evening)).record.inspected_on \
        == date(2026, 5, 6)
    # A phone whose clock reset to 2019: it stamps 2019 and says so at sending; the server knows the offset.
    offset = datetime.now(timezone.utc) - datetime(2019, 1, 1, tzinfo=timezone.utc)
    true_time = at_noon(DAY + timedelta(days=1))
    reset = record(session, inspector, inspection_body(enterprise, device_time=true_time - offset),
                   sent_at=datetime.now(timezone.utc) - offset).record
    assert reset.flag_clock_skew and reset.device_time.year < 2020
    assert reset.inspected_on == DAY + timedelta(days=1) and not reset.flag_unfiled


def test_an_inspector_sees_their_units_inspections_and_the_office_its_scope(
        session, inspector, enterprise, make_inspector, make_unit, make_user, tree, reviewer):
    mine = record(session, inspector, inspection_body(enterprise)).record
    colleague_of_other_unit = make_inspector(make_unit("区消防救援大队"))
    for user in (inspector, reviewer):
        assert inspections.get_inspection(session, user, mine.id).id == mine.id
        assert session.execute(inspections.inspections_query(user)).scalars().all() == [mine]
    for user in (colleague_of_other_unit, make_user(Role.reviewer, jurisdiction=tree["other"])):
        with pytest.raises(NotFound):
            inspections.get_inspection(session, user, mine.id)
        assert session.execute(inspections.inspections_query(user)).scalars().all() == []
    for role in (Role.squad_member, Role.liaison, Role.leader):
        with pytest.raises(NotAllowed):
            inspections.get_inspection(session, make_user(role), mine.id)


def test_an_amended_inspection_is_measured_and_matched_again(
        session, inspector, enterprise, reviewer, approved_filing):
    body = inspection_body(enterprise, at=NORTH_400M, day=DAY + timedelta(days=10))
    inspection = record(session, inspector, body).record
    assert inspection.flag_far_from_target and inspection.flag_unfiled
    records.review(session, reviewer, inspection, ReviewState.needs_info, "请核实日期和位置")
    amended = inspection_body(enterprise, day=DAY + timedelta(days=1), filing_id=approved_filing.id)
    inspections.amend_inspection(session, inspector, inspection, amended, far_threshold_m=300.0, comment="日期有误")
    session.commit()
    assert not inspection.flag_far_from_target and not inspection.flag_unfiled
    assert (inspection.version, inspection.covering_filing_id) == (2, approved_filing.id)
    assert [v.version for v in records.versions(session, inspection)] == [1, 2]


def test_the_same_inspection_sent_again_is_one_record_and_another_body_a_conflict(session, inspector, enterprise):
    rid, body = uuid.uuid4(), inspection_body(enterprise, measure="fine", fine_amount=Decimal("5000"))
    first = record(session, inspector, body, record_id=rid)
    again = record(session, inspector, {**body, "fine_amount": Decimal("5000.00")}, record_id=rid)
    assert first.created and not again.created
    with pytest.raises(Conflict):
        record(session, inspector, {**body, "fine_amount": Decimal("5000.01")}, record_id=rid)
    count = session.execute(select(func.count()).select_from(InspectionRecord)
                            .where(InspectionRecord.id == rid)).scalar_one()
    assert count == 1
