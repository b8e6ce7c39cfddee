"""Approvals e-supervision in the domain, on a real database: folding pushed events, working days across the
Labour Day holiday of 2026 (1-5 May off, Saturday 9 May worked), suspensions, alerts, notices, figures.

Hand counts, from the State Council's 2026 schedule: after Tuesday 28 April the working days are
29, 30 April, 6, 7, 8, 9 (make-up Saturday), 11, 12, 13 May.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from field.approvals import alerts, cases as approval_cases, figures, ingest, matters
from field.approvals.models import AlertLevel, ApprovalAlert, ApprovalCase, ApprovalEvent, ApprovalStep
from field.cases.models import Case as OfficeCase
from field.core.errors import InvalidInput, NotAllowed
from field.core.models.platform import Role
from field.directory.models import UnitKind
from field.directory import units
from tests.approvals_fixtures import Case, at


@pytest.fixture
def office(session, make_user):
    admin = make_user(Role.admin)
    unit = units.create_unit(session, admin, name="区规划自然资源局", kind=UnitKind.department)
    plain = matters.create_matter(session, admin, code="QX-001", name="建设工程规划许可", unit_id=unit.id,
                                  legal_limit_days=20, promised_limit_days=5)
    deemed = matters.create_matter(session, admin, code="QX-002", name="临时占道许可", unit_id=unit.id,
                                   legal_limit_days=5, deemed_approval=True)
    session.commit()
    return {"admin": admin, "unit": unit, "plain": plain, "deemed": deemed}


def _cases():
    a = (Case("A").accepted(at(4, 28, 9), "QX-001").step("review", at(4, 28, 10), at(5, 11), group=1)
         .suspended(at(4, 29), at(5, 6)).completed(at(5, 11)))
    b = (Case("B").accepted(at(4, 28, 9), "QX-001").step("plan", at(4, 28, 10), at(4, 30), group=1)
         .step("fire", at(4, 28, 10), at(4, 29), group=1).completed(at(4, 30)))
    c = Case("C").accepted(at(4, 28, 9), "QX-001").completed(at(5, 13))
    d = Case("D").accepted(at(4, 28, 9), "QX-002")
    return a, b, c, d


def _push(session, admin, cases, today=date(2026, 5, 8)):
    return ingest.push(session, admin, "qx", [e for c in cases for e in c.events], today=today)


def test_working_days_exclude_the_holiday_and_the_suspension_and_count_the_makeup_saturday(session, office):
    _push(session, office["admin"], _cases())
    got = {c.source_number: c for c in session.execute(select(ApprovalCase)).scalars()}
    a = got["A"]
    # (28 Apr, 11 May]: 29, 30 Apr, 6, 7, 8, 9, 11 May = 7; suspended (29 Apr, 6 May]: 30 Apr, 6 May = 2.
    assert (a.working_days, a.suspended_days, a.within_limit, a.deadline) == (5, 2, True, date(2026, 5, 11))
    assert (got["B"].working_days, got["B"].within_limit) == (2, True)
    assert (got["C"].working_days, got["C"].within_limit) == (9, False)
    # D is open on 8 May: 29, 30 Apr, 6, 7, 8 May = 5 of 5: yellow (80 % is 4), not yet red.
    assert (got["D"].state.value, got["D"].working_days, got["D"].within_limit) == ("accepted", 5, None)
    steps = session.execute(select(ApprovalStep.key, ApprovalStep.parallel_group, ApprovalStep.working_days)
                            .where(ApprovalStep.case_id == got["B"].id).order_by(ApprovalStep.key)).all()
    assert steps == [("fire", 1, 1), ("plan", 1, 2)]
    levels = {(c, lv) for c, lv in session.execute(select(ApprovalCase.source_number, ApprovalAlert.level).join(
        ApprovalAlert, ApprovalAlert.approval_case_id == ApprovalCase.id))}
    assert levels == {("C", AlertLevel.red), ("D", AlertLevel.yellow)}


def test_a_replayed_batch_changes_nothing_and_another_body_under_the_same_seq_is_a_conflict(session, office):
    cases = _cases()
    first = _push(session, office["admin"], cases)
    assert (first.applied, first.duplicates, first.cases_created) == (len(first.conflicts) * 0 + first.received, 0, 4)
    before = session.execute(select(ApprovalCase.id, ApprovalCase.updated_at, ApprovalCase.working_days)
                             .order_by(ApprovalCase.id)).all()
    again = _push(session, office["admin"], cases, today=date(2026, 5, 20))
    assert (again.applied, again.duplicates, again.cases_created, again.cases_updated) == (0, first.received, 0, 0)
    assert session.execute(select(ApprovalCase.id, ApprovalCase.updated_at, ApprovalCase.working_days)
                           .order_by(ApprovalCase.id)).all() == before
    changed = dict(cases[2].events[-1], outcome="refused")
    third = ingest.push(session, office["admin"], "qx", [changed])
    assert third.applied == 0 and third.conflicts[0]["seq"] == changed["seq"]
    assert session.execute(select(func.count()).select_from(ApprovalEvent)).scalar_one() == first.received


def test_events_out_of_order_across_batches_fold_the_same(session, office):
    a = _cases()[0]
    ingest.push(session, office["admin"], "qx", a.events[3:], today=date(2026, 5, 8))
    half = session.execute(select(ApprovalCase)).scalar_one()
    assert half.matter_id is None and half.working_days is None  # no accepted event yet
    ingest.push(session, office["admin"], "qx", a.events[:3], today=date(2026, 5, 8))
    session.expire_all()
    whole = session.execute(select(ApprovalCase)).scalar_one()
    assert (whole.working_days, whole.suspended_days, whole.within_limit) == (5, 2, True)


def test_an_overdue_case_on_a_deemed_approval_matter_turns_red_and_deemed_and_the_alert_becomes_a_case(
        session, office):
    _push(session, office["admin"], _cases())
    # 9 May (the make-up Saturday) is the sixth working day: past the limit of 5.
    folded, raised = alerts.scan(session, office["admin"], today=date(2026, 5, 9))
    assert (folded, raised) == (1, 2)
    d = session.execute(select(ApprovalCase).where(ApprovalCase.source_number == "D")).scalar_one()
    assert d.deemed_approved and d.working_days == 6
    red = session.execute(select(ApprovalAlert).where(ApprovalAlert.approval_case_id == d.id,
                                                      ApprovalAlert.level == AlertLevel.red)).scalar_one()
    assert alerts.scan(session, office["admin"], today=date(2026, 5, 9)) == (1, 0)  # raising again: nothing
    case = alerts.open_case(session, office["admin"], red)
    assert isinstance(case, OfficeCase) and case.subjects[0].unit_id == office["unit"].id
    assert red.state.value == "converted" and red.case_id == case.id
    assert "D" in case.title and "临时占道许可" in case.title


def test_a_refusal_without_a_notice_is_flagged_until_one_is_entered(session, office):
    e = Case("E").accepted(at(4, 28, 9), "QX-001").completed(at(4, 30), outcome="refused")
    _push(session, office["admin"], [e])
    case = session.execute(select(ApprovalCase)).scalar_one()
    assert case.needs_notice
    assert {a.level for a in session.execute(select(ApprovalAlert)).scalars()} == {AlertLevel.no_notice}
    with pytest.raises(InvalidInput) as refused:
        approval_cases.record_notice(session, office["admin"], case, kind="refusal", reason="材料不全",
                                     handler_name="  ", issued_on=date(2026, 4, 30))
    assert refused.value.fields[0].field == "handler_name"
    approval_cases.record_notice(session, office["admin"], case, kind="refusal", reason="材料不全",
                                 handler_name="王经办", issued_on=date(2026, 4, 30))
    assert not session.get(ApprovalCase, case.id).needs_notice


def test_a_pushed_notice_counts(session, office):
    f = (Case("F").accepted(at(4, 28, 9), "QX-001").completed(at(4, 30), outcome="deferred")
         .add("notice", at(4, 30, 11), notice_kind="deferral", reason="需现场踏勘", handler_name="李经办"))
    _push(session, office["admin"], [f])
    assert not session.execute(select(ApprovalCase.needs_notice)).scalar_one()


def test_figures_per_period_against_the_previous_one(session, office):
    _push(session, office["admin"], _cases())
    early = Case("G").accepted(at(1, 5, 9), "QX-001").completed(at(1, 7))  # 6, 7 January: 2 days
    _push(session, office["admin"], [early])
    got = figures.figures(session, office["admin"], start=date(2026, 4, 1), end=date(2026, 6, 30))
    row = got["rows"][0]
    # A 5, B 2, C 9 completed (C late), D open: average 16/3, median 5.
    assert row["current"] == {"accepted": 4, "completed": 3, "within_limit": 2, "within_limit_rate": 66.7,
                              "average_working_days": 5.33, "median_working_days": 5.0, "provisional": False}
    assert got["previous_period"] == {"start": date(2025, 12, 31), "end": date(2026, 3, 31)}
    assert row["previous"]["accepted"] == 1 and row["previous"]["median_working_days"] == 2.0
    by_matter = figures.figures(session, office["admin"], start=date(2026, 4, 1), end=date(2026, 6, 30), by="matter")
    counts = {r["matter"]: r["current"]["accepted"] for r in by_matter["rows"]}
    assert counts == {str(office["plain"].id): 3, str(office["deemed"].id): 1}


def test_pushing_is_for_admins_and_unknown_references_are_named(session, office, make_user):
    reviewer = make_user(Role.reviewer)
    with pytest.raises(NotAllowed):
        ingest.push(session, reviewer, "qx", _cases()[0].events)
    bad = Case("X").accepted(at(4, 28), "NOPE")
    with pytest.raises(InvalidInput) as refused:
        ingest.push(session, office["admin"], "qx", _cases()[1].events + bad.events)
    assert refused.value.fields[0].field == f"events.{len(_cases()[1].events)}.matter_code"
    assert session.execute(select(func.count()).select_from(ApprovalCase)).scalar_one() == 0
