"""Contact-point reports on the database: the point from the liaison, fields per type, filing match, visibility."""

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from field.custody import chain as custody
from field.records import lifecycle as records
from field.reports import reports
from field.core.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound
from field.reports.models import ContactReport
from field.core.models.records import FieldRecord, ReviewState
from field.core.models.platform import Role
from tests.reports_fixtures import (  # noqa: F401 (fixtures)
    bureau,
    enterprise,
    leader,
    liaison,
    make_enterprise,
    make_filing,
    make_point,
    make_unit,
    point,
    reviewer,
    send_report,
    set_point,
)

VISIT_DAY = date(2026, 5, 6)


def _visit(unit, **extra):
    return {"report_type": "enforcement_visit", "unit_id": unit.id, "visited_on": VISIT_DAY,
            "officers": "张某、李某", "filing_shown": True, **extra}


# -- the point ---------------------------------------------------------------------------------------


def test_the_point_enterprise_and_jurisdiction_come_from_the_liaisons_own_point(session, liaison, point):
    report = send_report(session, liaison).record
    assert (report.point_id, report.enterprise_id, report.jurisdiction_id) == (
        point.id, point.enterprise_id, point.jurisdiction_id)
    assert report.kind == "report" and report.review_state is ReviewState.submitted


def test_a_liaison_of_several_points_must_name_the_one_they_report_for(session, liaison, point, make_point):
    second = make_point(liaisons=[liaison])
    with pytest.raises(InvalidInput) as err:
        send_report(session, liaison)
    assert err.value.fields[0].field == "point_id" and "2 points" in err.value.detail
    assert send_report(session, liaison, point_id=second.id).record.point_id == second.id


def test_a_point_that_is_not_theirs_reads_exactly_like_one_that_does_not_exist(session, liaison, point,
                                                                               make_point, make_user):
    covert_elsewhere = make_point(covert=True, liaisons=[make_user(Role.liaison)])
    answers = []
    for point_id in (covert_elsewhere.id, uuid.uuid4()):
        with pytest.raises(InvalidInput) as err:
            send_report(session, liaison, point_id=point_id)
        answers.append((err.value.fields[0].field, err.value.detail))
    assert answers[0] == answers[1] == ("point_id", "No such monitoring point of yours.")


def test_a_liaison_without_a_point_is_told_so(session, make_user):
    with pytest.raises(InvalidInput) as err:
        send_report(session, make_user(Role.liaison))
    assert err.value.fields[0].field == "point_id"


def test_only_liaisons_file_reports(session, leader, point):
    with pytest.raises(NotAllowed):
        send_report(session, leader)


# -- fields per type ---------------------------------------------------------------------------------


def test_each_type_names_its_missing_fields_and_refuses_fields_of_other_types(session, liaison, point, bureau):
    with pytest.raises(DomainError) as err:
        send_report(session, liaison, report_type="problem", unit_id=bureau["department"].id, score=2)
    assert {(f.field, f.message) for f in err.value.fields} == {
        ("problem_area", "Required for a problem report."), ("description", "Required for a problem report."),
        ("score", "Not part of a problem report.")}
    with pytest.raises(DomainError) as err:
        send_report(session, liaison, report_type="suggestion", text="  ")
    assert [f.field for f in err.value.fields] == ["text"]


def test_a_problem_and_a_suggestion_keep_their_text_and_the_problem_its_unit(session, liaison, point, bureau):
    problem = send_report(session, liaison, report_type="problem", problem_area="fees",
                          unit_id=bureau["window"].id, description=" 收取不合理的资料费 ").record
    assert (problem.problem_area.value, problem.unit_id, problem.description) == (
        "fees", bureau["window"].id, "收取不合理的资料费")
    suggestion = send_report(session, liaison, text="延长午间办理时间").record
    assert suggestion.text == "延长午间办理时间" and suggestion.unit_id is None


def test_a_rating_names_a_unit_of_the_rated_kind(session, liaison, point, bureau):
    rated = send_report(session, liaison, report_type="rating", rating_target="window",
                        unit_id=bureau["window"].id, score=5, comment="办事快").record
    assert (rated.rating_target.value, rated.score, rated.unit_id) == ("window", 5, bureau["window"].id)
    with pytest.raises(InvalidInput) as err:
        send_report(session, liaison, report_type="rating", rating_target="unit", unit_id=bureau["section"].id,
                    score=2)
    assert err.value.fields[0].field == "unit_id" and "department or public-service" in err.value.detail


def test_a_rating_of_a_person_puts_the_persons_unit_on_the_envelope(session, liaison, point, bureau):
    from field.directory import units

    chief = units.create_person(session, None, unit_id=bureau["section"].id, name="王科长", post="科长")
    rated = send_report(session, liaison, report_type="rating", rating_target="person", person_id=chief.id,
                        score=1).record
    assert (rated.person_id, rated.unit_id) == (chief.id, bureau["section"].id)
    with pytest.raises(DomainError) as err:
        send_report(session, liaison, report_type="rating", rating_target="person", unit_id=bureau["section"].id,
                    score=1)
    assert {f.field for f in err.value.fields} == {"person_id", "unit_id"}


def test_a_unit_outside_the_liaisons_jurisdiction_is_refused_naming_unit_id(session, liaison, point, tree):
    from field.directory import units

    foreign = units.create_unit(session, None, name="渝中区市场监督管理局", kind="department",
                                jurisdiction_id=tree["other"].id)
    with pytest.raises(InvalidInput) as err:
        send_report(session, liaison, report_type="problem", problem_area="approvals", unit_id=foreign.id,
                    description="审批拖延")
    assert err.value.fields[0].field == "unit_id"


def test_an_enforcement_visit_in_the_future_is_refused(session, liaison, point, bureau):
    with pytest.raises(InvalidInput) as err:
        send_report(session, liaison, **_visit(bureau["department"], visited_on=date(2026, 5, 7)))
    assert err.value.fields[0].field == "visited_on"


# -- the filing match --------------------------------------------------------------------------------


def test_an_enforcement_visit_with_no_approved_filing_is_flagged_unfiled_and_queued_as_such(
        session, liaison, point, bureau, reviewer):
    report = send_report(session, liaison, **_visit(bureau["department"])).record
    assert report.flag_unfiled and report.filing_id is None and report.filing_shown is True
    queued = session.execute(records.review_queue(session, reviewer, flag="unfiled")).scalars().all()
    assert [r.id for r in queued] == [report.id]


def test_an_approved_filing_covering_the_day_is_linked_and_clears_the_flag(
        session, liaison, point, enterprise, bureau, make_filing):
    filing = make_filing(enterprise, bureau["department"], date(2026, 5, 4), date(2026, 5, 8))
    report = send_report(session, liaison, **_visit(bureau["department"], filing_shown=False)).record
    assert report.filing_id == filing.id and not report.flag_unfiled


def test_a_filing_of_the_department_covers_officers_reported_as_its_section_and_the_reverse(
        session, liaison, point, enterprise, bureau, make_filing):
    by_department = make_filing(enterprise, bureau["department"], VISIT_DAY)
    assert send_report(session, liaison, **_visit(bureau["section"])).record.filing_id == by_department.id
    other_day = date(2026, 5, 5)
    by_section = make_filing(enterprise, bureau["section"], other_day)
    report = send_report(session, liaison, **_visit(bureau["department"], visited_on=other_day)).record
    assert report.filing_id == by_section.id


@pytest.mark.parametrize("why", ["pending", "rejected", "another day", "another enterprise", "another unit"])
def test_a_filing_that_is_not_approved_or_not_for_this_visit_leaves_it_unfiled(
        session, liaison, point, enterprise, bureau, make_filing, make_enterprise, make_unit, why):
    unit, on, target, state = bureau["department"], VISIT_DAY, enterprise, ReviewState.accepted
    if why == "pending":
        state = ReviewState.submitted
    elif why == "rejected":
        state = ReviewState.rejected
    elif why == "another day":
        on = date(2026, 5, 5)
    elif why == "another enterprise":
        target = make_enterprise("另一家企业")
    else:
        unit = make_unit("区住房和城乡建设委员会")
    make_filing(target, unit, on, state=state)
    assert send_report(session, liaison, **_visit(bureau["department"])).record.flag_unfiled


def test_a_filing_approved_after_the_report_clears_the_flag_when_its_approval_commits(
        session, liaison, point, enterprise, bureau, make_filing, reviewer):
    report = send_report(session, liaison, **_visit(bureau["section"])).record
    session.commit()
    filing = make_filing(enterprise, bureau["department"], VISIT_DAY, state=ReviewState.submitted)
    assert report.flag_unfiled
    records.review(session, reviewer, filing, ReviewState.accepted, "同意")
    session.commit()
    assert (report.filing_id, report.flag_unfiled) == (filing.id, False)
    last = custody.history(session, "report", report.id)[-1]
    assert last.kind == "report.filing_match" and last.data["reason"] == f"filing {filing.id} changed (now accepted)"


def test_a_statutory_filing_rejected_afterwards_flags_the_visits_it_covered(
        session, liaison, point, enterprise, bureau, make_filing, reviewer):
    from field.filings.models import FilingKind

    filing = make_filing(enterprise, bureau["department"], VISIT_DAY, state=ReviewState.submitted,
                         kind=FilingKind.statutory_exempt)
    report = send_report(session, liaison, **_visit(bureau["department"])).record
    assert report.filing_id == filing.id
    records.review(session, reviewer, filing, ReviewState.rejected, "不属于法定检查")
    session.commit()
    assert (report.filing_id, report.flag_unfiled) == (None, True)


def test_the_match_is_written_to_the_custody_log_with_the_creation(session, liaison, point, bureau):
    report = send_report(session, liaison, **_visit(bureau["department"])).record
    entries = custody.history(session, "report", report.id)
    assert [e.kind for e in entries] == ["record.created", "report.filing_match"]
    assert entries[1].data == {"filing_id": None, "unfiled": True, "version": 1}


def test_an_amendment_is_checked_and_matched_again(session, liaison, point, enterprise, bureau, make_filing,
                                                   reviewer):
    report = send_report(session, liaison, **_visit(bureau["department"])).record
    records.review(session, reviewer, report, ReviewState.needs_info, "哪一天？")
    filing = make_filing(enterprise, bureau["department"], date(2026, 5, 5))
    fields = {**_visit(bureau["department"], visited_on=date(2026, 5, 5)), "device_time": report.device_time}
    reports.amend_report(session, liaison, report, note="是5号", **fields)
    assert (report.version, report.filing_id, report.flag_unfiled) == (2, filing.id, False)
    assert [e.kind for e in custody.history(session, "report", report.id)][-2:] == [
        "record.amended", "report.filing_match"]


# -- offline safety ----------------------------------------------------------------------------------


def test_a_report_sent_again_is_stored_once_and_another_body_under_its_id_is_a_conflict(
        session, liaison, point):
    rid = uuid.uuid4()
    first = send_report(session, liaison, rid, text="建议一")
    again = send_report(session, liaison, rid, text="建议一")
    assert first.created and not again.created and again.record.id == rid
    with pytest.raises(Conflict):
        send_report(session, liaison, rid, text="建议二")
    assert session.execute(select(func.count()).select_from(FieldRecord).where(FieldRecord.id == rid)).scalar() == 1


def test_a_repeat_after_the_liaison_lost_the_point_still_answers_the_stored_report(
        session, liaison, point, set_point):
    rid = uuid.uuid4()
    send_report(session, liaison, rid)
    set_point(point, liaison_ids=[])
    assert send_report(session, liaison, rid).record.id == rid


# -- visibility --------------------------------------------------------------------------------------


@pytest.fixture
def circle(make_user, make_point, liaison, leader):
    """A covert point with two liaisons and a leader, and everyone who must not see its reports."""
    co_liaison = make_user(Role.liaison)
    covert = make_point(covert=True, liaisons=[liaison, co_liaison], leader=leader)
    others = {
        "liaison of another point": make_user(Role.liaison),
        "leader of another point": make_user(Role.leader),
        "inspector": make_user(Role.inspector),
        "squad member": make_user(Role.squad_member),
    }
    make_point(liaisons=[others["liaison of another point"]], leader=others["leader of another point"])
    return {"point": covert, "co_liaison": co_liaison, "others": others}


def test_a_covert_points_reports_are_seen_by_its_circle_and_the_office_only(
        session, liaison, leader, circle, reviewer, make_user, tree):
    report = send_report(session, liaison, point_id=circle["point"].id).record
    for viewer in (liaison, circle["co_liaison"], leader, reviewer):
        assert reports.get_report(session, viewer, report.id).id == report.id
    far_office = make_user(Role.reviewer, jurisdiction=tree["other"])
    for viewer in [*circle["others"].values(), far_office]:
        with pytest.raises(NotFound):
            reports.get_report(session, viewer, report.id)


def test_lists_hold_what_each_viewer_may_see(session, liaison, leader, circle, reviewer):
    mine = send_report(session, liaison, point_id=circle["point"].id).record
    other_liaison = circle["others"]["liaison of another point"]
    theirs = send_report(session, other_liaison).record

    def listed(user, **filters):
        return {r.id for r in session.execute(reports.reports_query(user, **filters)).scalars()}

    assert listed(circle["co_liaison"]) == {mine.id}
    assert listed(other_liaison) == {theirs.id}
    assert listed(reviewer) == {mine.id, theirs.id}
    assert listed(reviewer, point_id=circle["point"].id) == {mine.id}
    with pytest.raises(NotAllowed):
        listed(circle["others"]["inspector"])


def test_a_submitter_keeps_seeing_their_report_after_leaving_the_point(session, liaison, point, set_point):
    report = send_report(session, liaison).record
    set_point(point, liaison_ids=[])
    assert reports.get_report(session, liaison, report.id).id == report.id


def test_reports_are_counted_with_their_kind_in_the_envelope_table(session, liaison, point):
    send_report(session, liaison)
    kinds = session.execute(select(FieldRecord.kind, func.count()).group_by(FieldRecord.kind)).all()
    assert ("report", 1) in [tuple(k) for k in kinds]
    assert session.execute(select(func.count()).select_from(ContactReport)).scalar() == 1
