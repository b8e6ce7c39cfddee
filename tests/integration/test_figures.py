"""The office's figures over a seeded year, against hand-computed values, on both databases."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from field.figures import figures
from field.core.errors import InvalidInput, NotFound
from field.cases.models import (
    Case,
    CaseKind,
    CaseState,
    CaseSubject,
    ComplaintChannel,
    Disposition,
    DispositionKind,
)
from field.directory.models import PersonRank, UnitKind
from field.core.models.records import ReviewState
from field.core.models.platform import Role
from field.cases.models import Complaint
from field.directory.models import Enterprise, MonitoringPoint, Person, Unit, VisitFrequency
from field.filings.models import InspectionMeasure, InspectionRecord
from field.reports.models import ContactReport, LeaderVisit, ReportType
from field.visits.models import (
    Callback,
    CallbackBatch,
    CallbackSample,
    Finding,
    FindingCategory,
    SampleCase,
    ServiceCase,
    Severity,
)

START, END, TODAY = date(2026, 1, 1), date(2026, 12, 31), date(2027, 1, 15)
CST = timezone(timedelta(hours=8))


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=CST)


def seed(session, tree, make_user) -> dict:
    """Two years of a district's work (2025 and 2026), plus a neighbour district's that must not count."""
    home, street, other = tree["home"], tree["home_street"], tree["other"]
    office = make_user(Role.reviewer, home)
    leader = make_user(Role.leader, home)
    outsider = make_user(Role.reviewer, other)
    add = session.add

    def unit(name, j=home):
        u = Unit(name=name, kind=UnitKind.department, jurisdiction_id=j.id)
        add(u)
        return u

    u1, u2, u3, u4, u_other = unit("建设局"), unit("税务局"), unit("供电公司"), unit("水务公司", street), unit("渝中区税务局", other)
    session.flush()

    def person(name, u, rank):
        p = Person(name=name, unit_id=u.id, rank=rank, jurisdiction_id=u.jurisdiction_id)
        add(p)
        return p

    p1, p2, p3 = person("张一", u1, PersonRank.division), person("李二", u1, PersonRank.section), \
        person("王三", u2, PersonRank.below_section)
    ents = {}
    for key, name, j in (("e1", "山城火锅", home), ("e2", "九龙机械", home), ("e3", "渝中商贸", other)):
        ents[key] = Enterprise(name=name, credit_code=f"91500107MA{uuid.uuid4().hex[:8].upper()}",
                               jurisdiction_id=j.id)
        add(ents[key])
    session.flush()
    mp1 = MonitoringPoint(enterprise_id=ents["e1"].id, covert=False, leader_id=leader.id,
                          visit_frequency=VisitFrequency.monthly, active_from=date(2025, 1, 1), jurisdiction_id=home.id)
    mp2 = MonitoringPoint(enterprise_id=ents["e2"].id, covert=True, active_from=date(2025, 1, 1),
                          jurisdiction_id=home.id)
    add(mp1), add(mp2)
    category = FindingCategory(code="test.slow", label_zh="慢作为", label_en="Slow action")
    add(category)
    session.flush()

    seq = iter(range(1, 100))

    def case(opened_on, *, units, state=CaseState.opened, closed_on=None, handling=None, deadline=None,
             complaint=False, j=home):
        n = next(seq)
        deadline = deadline or opened_on + timedelta(days=21)
        ended = closed_on
        c = Case(number=f"{opened_on.year}-{j.code[:6]}-{n:04d}", area_code=j.code[:6], year=opened_on.year, seq=n,
                 kind=CaseKind.efficiency_complaint, title=f"案件{n}", opened_by_id=office.id, handler_id=office.id,
                 opened_on=opened_on, opened_at=at(opened_on), time_limit_days=15, deadline=deadline,
                 effective_deadline=deadline, state=state, ended_on=ended, ended_at=at(ended) if ended else None,
                 closed_on=closed_on if state is CaseState.closed else None, handling_working_days=handling,
                 dismissed_reason="不属实" if state is CaseState.dismissed else None, jurisdiction_id=j.id)
        add(c)
        session.flush()
        for u in units:
            add(CaseSubject(case_id=c.id, subject_key=f"unit:{u.id}", unit_id=u.id, added_by_id=office.id))
        if complaint:
            add(Complaint(case_id=c.id, channel=ComplaintChannel.phone, received_at=at(opened_on), text="投诉",
                          taken_by_id=office.id, jurisdiction_id=j.id))
        return c

    closed, dismissed = CaseState.closed, CaseState.dismissed
    c1 = case(date(2026, 2, 2), units=[u1], state=closed, closed_on=date(2026, 2, 20), handling=12, complaint=True)
    case(date(2026, 3, 2), units=[u1, u2], state=closed, closed_on=date(2026, 3, 30), handling=18, complaint=True)
    case(date(2026, 5, 4), units=[u2], deadline=date(2026, 5, 25))  # still open: overdue
    case(date(2026, 11, 2), units=[u3], state=dismissed, closed_on=date(2026, 11, 10), complaint=True)
    case(date(2025, 12, 1), units=[u1], state=closed, closed_on=date(2026, 1, 20), handling=30,
         deadline=date(2025, 12, 22))
    case(date(2026, 6, 1), units=[u4], deadline=date(2027, 3, 1), complaint=True, j=street)  # open, on time
    case(date(2025, 4, 1), units=[u2], state=closed, closed_on=date(2025, 4, 21), handling=14)
    case(date(2026, 3, 3), units=[u_other], state=closed, closed_on=date(2026, 3, 9), handling=4, complaint=True,
         j=other)

    def disposition(kind, decided_on, *, p=None, u=None, **kw):
        add(Disposition(case_id=c1.id, kind=kind, person_id=p.id if p else None, unit_id=u.id if u else p.unit_id,
                        rank_at_decision=p.rank if p else None, decided_on=decided_on, authority="区纪委监委",
                        recorded_by_id=office.id, jurisdiction_id=home.id, **kw))

    session.flush()
    disposition(DispositionKind.admonishment_talk, date(2026, 3, 1), p=p1)
    disposition(DispositionKind.public_criticism, date(2026, 4, 1), p=p1)
    disposition(DispositionKind.disciplinary_sanction, date(2026, 5, 1), p=p2, sanction_system="administrative",
                grade="warning")
    disposition(DispositionKind.reassignment, date(2026, 6, 1), p=p3)
    disposition(DispositionKind.yellow_card, date(2026, 7, 1), u=u1)
    disposition(DispositionKind.admonishment_talk, date(2025, 7, 1), p=p3)

    def record(model, when, j=home, state=ReviewState.submitted, **kw):
        r = model(id=uuid.uuid4(), submitted_by_id=office.id, device_time=when, body_hash="0" * 64,
                  review_state=state, jurisdiction_id=j.id, **kw)
        add(r)
        return r

    def finding(u, day, **kw):
        record(Finding, at(day), unit_id=u.id, category_id=category.id, category_code="test.slow",
               severity=Severity.minor, occurred_at=at(day), description="拖延", **kw)

    for day in (date(2026, 1, 5), date(2026, 6, 5), date(2026, 12, 31)):
        finding(u1, day)
    finding(u2, date(2026, 8, 8))
    finding(u3, date(2026, 8, 8), state=ReviewState.rejected)
    finding(u2, date(2025, 8, 8))
    # 2027-01-01 01:00 in Beijing is still 2026 in UTC: it belongs to 2027.
    record(Finding, datetime(2027, 1, 1, 1, tzinfo=CST), unit_id=u1.id, category_id=category.id,
           severity=Severity.minor, occurred_at=datetime(2027, 1, 1, 1, tzinfo=CST), description="跨年")

    def report(point, day, rtype=ReportType.problem, u=None):
        extra = {"problem_area": "approvals", "description": "刁难"} if rtype is ReportType.problem else {"text": "建议"}
        record(ContactReport, at(day), report_type=rtype, point_id=point.id, enterprise_id=point.enterprise_id,
               unit_id=u.id if u else None, **extra)

    report(mp1, date(2026, 2, 1), u=u2)
    report(mp1, date(2026, 9, 1), u=u2)
    report(mp1, date(2026, 9, 2), ReportType.suggestion, u=u4)
    report(mp2, date(2026, 10, 1), u=u3)
    report(mp1, date(2025, 6, 1), u=u2)

    for month in (1, 2, 3):
        record(LeaderVisit, at(date(2026, month, 10)), point_id=mp1.id, enterprise_id=ents["e1"].id,
               visited_at=at(date(2026, month, 10)))

    def inspection(e, day, measure, fine=None, *, unfiled=False, j=home, state=ReviewState.submitted):
        record(InspectionRecord, at(day), j=j, state=state, enterprise_id=ents[e].id, inspected_at=at(day),
               inspected_on=day, checked="消防", found="无", measure=measure,
               fine_amount=Decimal(fine) if fine else None, flag_unfiled=unfiled)

    m = InspectionMeasure
    inspection("e1", date(2026, 2, 3), m.fine, "1000.50")
    inspection("e1", date(2026, 4, 3), m.fine, "200.25")
    inspection("e1", date(2026, 5, 3), m.warning)
    inspection("e1", date(2026, 6, 3), m.none, unfiled=True)
    inspection("e2", date(2026, 2, 3), m.order_to_rectify)
    inspection("e2", date(2026, 7, 3), m.compulsory_measure, unfiled=True)
    inspection("e1", date(2025, 3, 3), m.fine, "500.00")
    inspection("e2", date(2025, 3, 3), m.none)
    inspection("e2", date(2025, 9, 3), m.first_violation_exemption)
    inspection("e1", date(2026, 8, 3), m.fine, "7777.00", state=ReviewState.rejected)
    inspection("e3", date(2026, 8, 3), m.fine, "9999.00", j=other)

    batch = CallbackBatch(name="2026年办件", file_sha256="a" * 64, imported_by_id=office.id, jurisdiction_id=home.id)
    add(batch)
    session.flush()
    services = []
    for n in range(4):
        s = ServiceCase(batch_id=batch.id, row=n + 2, case_no=f"BJ{n}", unit_name="税务局", unit_id=u2.id,
                        service="办税", completed_on=date(2026, 1, 2), applicant_contact="13800000000",
                        jurisdiction_id=home.id)
        add(s)
        services.append(s)
    session.flush()

    def sample(when, cases_):
        smp = CallbackSample(batch_id=batch.id, seed=1, size=len(cases_), population=4, population_sha256="b" * 64,
                             algorithm="test", drawn_by_id=office.id, jurisdiction_id=home.id, created_at=when)
        add(smp)
        session.flush()
        for i, s in enumerate(cases_):
            add(SampleCase(sample_id=smp.id, case_id=s.id, position=i + 1))

    sample(at(date(2026, 3, 1)), services[:3])
    sample(at(date(2025, 5, 1)), services[3:])
    for s, reached, satisfied in ((services[0], True, True), (services[1], True, False), (services[2], False, None)):
        record(Callback, at(date(2026, 3, 5)), case_id=s.id, called_at=at(date(2026, 3, 5)), reached=reached,
               satisfied=satisfied)
    session.commit()
    return {"office": office, "leader": leader, "outsider": outsider, "units": (u1, u2, u3, u4),
            "enterprises": ents, "points": (mp1, mp2)}


@pytest.fixture
def seeded(session, tree, make_user):
    return seed(session, tree, make_user)


@pytest.fixture
def result(session, seeded):
    return figures.figures(session, seeded["office"], start=START, end=END, today=TODAY)


def c(current, previous, change, pct, **flags):
    return {"current": current, "previous": previous, "change": change, "change_pct": pct, **flags}


def test_the_previous_period_has_the_same_length_and_ends_the_day_before():
    assert figures.Span(date(2026, 1, 1), date(2026, 6, 30)).previous() == figures.Span(date(2025, 7, 4),
                                                                                         date(2025, 12, 31))


def test_a_change_against_nothing_has_no_percentage_and_money_stays_exact():
    assert figures.compare(3, 0) == c(3, 0, 3, None)
    assert figures.compare(Decimal("700.75"), Decimal("500.00")) == c("700.75", "500.00", "200.75", 40.2)


def test_case_figures_match_the_hand_count(result):
    cases = result["cases"]
    assert cases["opened"] == c(5, 2, 3, 150.0)
    assert cases["closed"] == c(3, 1, 2, 200.0)
    assert cases["dismissed"] == c(1, 0, 1, None)
    # Of the five opened in 2026, two were closed by its end; of 2025's two, one.
    assert cases["closure_rate"] == c(40.0, 50.0, -10.0, -20.0)
    assert cases["handling_days_mean"] == c(20.0, 14.0, 6.0, 42.9, provisional=False)
    assert cases["handling_days_median"] == c(18.0, 14.0, 4.0, 28.6, provisional=False)
    # As of each period's end: 2026's case of May past its deadline; 2025's of December.
    assert cases["overdue"] == c(1, 1, 0, 0.0, provisional=False)


def test_people_with_dispositions_are_counted_once_by_rank_and_dispositions_by_kind(result):
    ranks = result["dispositions"]["persons_by_rank"]
    assert {k: (v["current"], v["previous"]) for k, v in ranks.items()} == {
        "division": (1, 0), "section": (1, 0), "below_section": (1, 1), "unknown": (0, 0)}
    kinds = result["dispositions"]["by_kind"]
    assert {k: (v["current"], v["previous"]) for k, v in kinds.items()} == {
        "admonishment_talk": (1, 1), "public_criticism": (1, 0), "disciplinary_sanction": (1, 0),
        "reassignment": (1, 0), "yellow_card": (1, 0)}


def test_units_are_ranked_and_the_top_three_by_complaints_lose_the_excellent_grade(result, seeded):
    u1, u2, u3, u4 = seeded["units"]
    got = [(r["unit_id"], r["findings"], r["complaints"], r["reports"], r["cases"], r["rank_by_findings"],
            r["rank_by_complaints"], r["rank_by_cases"], r["loses_excellent_grade"]) for r in result["units"]]
    assert got == [
        (u2.id, 1, 1, 2, 2, 2, 1, 1, True),
        (u1.id, 3, 2, 0, 2, 1, 2, 1, True),
        (u3.id, 0, 1, 1, 1, None, 2, 3, True),   # tied second: flagged with the first
        (u4.id, 0, 1, 0, 1, None, 4, 3, False),
    ]


def test_inspections_count_penalties_and_exact_fines_per_enterprise_and_in_total(result, seeded):
    ins = result["inspections"]
    assert ins["penalty_measures"] == ["warning", "fine", "compulsory_measure"]
    assert ins["inspections"] == c(6, 3, 3, 100.0)
    assert ins["penalties"] == c(4, 1, 3, 300.0)
    assert ins["fines_total"] == c("1200.75", "500.00", "700.75", 140.2)
    assert ins["unfiled"] == c(2, 0, 2, None)
    e1, e2 = seeded["enterprises"]["e1"], seeded["enterprises"]["e2"]
    per = {row["enterprise_id"]: row for row in ins["per_enterprise"]}
    assert set(per) == {e1.id, e2.id}
    assert per[e1.id]["inspections"] == c(4, 1, 3, 300.0)
    assert per[e1.id]["penalties"] == c(3, 1, 2, 200.0)
    assert per[e1.id]["fines_total"] == c("1200.75", "500.00", "700.75", 140.2)
    assert per[e2.id]["inspections"] == c(2, 2, 0, 0.0)
    assert per[e2.id]["penalties"] == c(1, 0, 1, None)
    assert per[e2.id]["fines_total"] == c("0.00", "0.00", "0.00", None)


def test_monitoring_points_count_reports_and_leader_visit_compliance(result, seeded):
    mp1, mp2 = seeded["points"]
    points = {p["point_id"]: p for p in result["monitoring_points"]}
    assert points[mp1.id]["reports"] == c(3, 1, 2, 200.0)
    assert points[mp1.id]["leader_visits"] == {"obligation": "monthly", "periods_due": 12, "periods_visited": 3,
                                               "periods_missed": 9}
    assert points[mp2.id]["reports"] == c(1, 0, 1, None)
    assert points[mp2.id]["leader_visits"] is None


def test_callbacks_count_sampled_reached_and_satisfied(result):
    cb = result["callbacks"]
    assert cb["sampled"] == c(3, 1, 2, 200.0)
    assert cb["called"] == c(3, 0, 3, None)
    assert cb["reached"] == c(2, 0, 2, None)
    assert cb["satisfied"] == c(1, 0, 1, None)
    assert cb["dissatisfied"] == c(1, 0, 1, None)


def test_a_street_s_figures_count_only_its_own_subtree(session, seeded, tree):
    street = figures.figures(session, seeded["office"], start=START, end=END, today=TODAY,
                             jurisdiction_id=tree["home_street"].id)
    assert street["cases"]["opened"]["current"] == 1
    assert [u["unit_id"] for u in street["units"]] == [seeded["units"][3].id]
    assert street["inspections"]["inspections"]["current"] == 0


def test_a_jurisdiction_outside_the_caller_s_scope_is_refused_on_its_field(session, seeded, tree):
    with pytest.raises(InvalidInput) as refused:
        figures.figures(session, seeded["office"], start=START, end=END, jurisdiction_id=tree["other"].id)
    assert refused.value.fields[0].field == "jurisdiction_id"


def test_a_period_that_ends_before_it_starts_is_refused(session, seeded):
    with pytest.raises(InvalidInput):
        figures.figures(session, seeded["office"], start=END, end=START)


def test_only_office_staff_get_figures(session, seeded):
    with pytest.raises(NotFound):
        figures.figures(session, seeded["leader"], start=START, end=END)


def test_the_csv_rows_carry_every_compared_number(result):
    rows = list(figures.rows(result))
    assert rows[0] == figures.CSV_HEADER
    assert ("cases", "", "", "opened", 5, 2, 3, 150.0, "") in rows
    assert ("cases", "", "", "overdue", 1, 1, 0, 0.0, "false") in rows
    assert ("inspections", "", "", "fines_total", "1200.75", "500.00", "700.75", 140.2, "") in rows
