"""Accountability cases at domain level: numbering, the clock, states and gates, outcomes, notices, evidence."""

from __future__ import annotations

import hashlib
import io
import threading
import uuid
from datetime import date, timedelta

import pytest
from shapely.geometry import Point
from sqlalchemy import String, func, select

from field.custody import chain as custody
from field.core import calendar, geo
from field.cases import lifecycle as cases
from field.cases import complainants, notices, parties, time_limits, view as case_view
from field.records import lifecycle as records
from field.directory import squads, units
from field.core.errors import Conflict, InvalidInput, InvalidTransition, NotAllowed, NotFound
from field.core.models.base import Base, utcnow
from field.cases.models import CaseKind, CaseState, ComplaintChannel, Disposition, DispositionKind, Gate
from field.core.models.records import FieldRecord
from field.directory.models import PersonRank, UnitKind
from field.core.models.platform import Role, User

#: Thursday 24 September 2026: the day before the Mid-Autumn holiday (25-27 Sep) and a week
#: before National Day (1-7 Oct); Saturday 10 October is a make-up working day.
OPENED = date(2026, 9, 24)


class CaseTestRecord(FieldRecord):
    """A record kind with no table of its own: cases read only the envelope."""

    __mapper_args__ = {"polymorphic_identity": "case_test_record"}


def sha_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_HASH: list[str] = []


def password_hash() -> str:
    """One argon2 hash of the tests' password per process: accounts made below skip the (slow) hashing."""
    if not _HASH:
        from field.accounts.users import _hasher
        from tests.conftest import PASSWORD

        _HASH.append(_hasher.hash(PASSWORD))
    return _HASH[0]


@pytest.fixture
def make_user(session, tree):
    """Like conftest's, without hashing a password for each account (login still works: same password)."""
    def make(role=Role.inspector, jurisdiction=None, **kw):
        user = User(username=kw.pop("username", f"{role.value}-{uuid.uuid4().hex[:8]}"),
                    display_name=kw.pop("display_name", f"Test {role.value}"), role=role,
                    password_hash=password_hash(), jurisdiction_id=(jurisdiction or tree["home"]).id)
        session.add(user)
        session.commit()
        return user
    return make


@pytest.fixture
def admin(make_user):
    return make_user(Role.admin, display_name="王管理")


@pytest.fixture
def office(make_user, admin):
    return {"reviewer": make_user(Role.reviewer, display_name="李审核"), "admin": admin}


@pytest.fixture
def member(make_user):
    return make_user(Role.squad_member)


@pytest.fixture
def make_record(session, member):
    """A field record of the test kind, submitted by a monitor, declaring the given evidence."""
    def make(*, by=None, jurisdiction=None, at=None, declared=(), unit=None):
        user = by or member

        def build():
            record = CaseTestRecord(jurisdiction_id=(jurisdiction or user.jurisdiction).id, device_time=utcnow(),
                                    declared_attachments=[{"sha256": s, "media": "photo"} for s in declared],
                                    unit_id=unit.id if unit else None)
            if at is not None:
                record.location, record.accuracy_m = geo.to_db(Point(*at)), 8.0
            return record

        record = records.submit(session, CaseTestRecord, uuid.uuid4(), {"n": uuid.uuid4().hex},
                                records.Receipt(user, None, None), build).record
        session.commit()
        return record
    return make


@pytest.fixture
def add_evidence(session):
    """Store ``data`` as an original (in ``store`` too when given) and attach it to ``record``."""
    def add(record, data: bytes, *, store=None, by=None):
        from field.attachments import links
        from field.core.models.evidence import Blob

        sha = sha_of(data)
        blob = session.get(Blob, sha)
        if blob is None:
            if store is not None:
                store.put_original(io.BytesIO(data))
            blob = Blob(sha256=sha, size=len(data), media_kind="photo", mime="image/jpeg", ext="jpg",
                        jurisdiction_id=record.jurisdiction_id, has_exif=True, facts={}, derivatives_state="none")
            session.add(blob)
            session.flush()
            custody.record(session, jurisdiction_id=record.jurisdiction_id, kind="evidence.received",
                           subject_type="blob", subject_id=sha, actor=by or record.submitted_by)
        links.attach(session, blob=blob, record_id=record.id, uploader=by or record.submitted_by, device_id=None)
        session.commit()
        return sha
    return add


@pytest.fixture
def directory(session, admin):
    unit = units.create_unit(session, admin, name="区市场监督管理局", kind=UnitKind.department)
    section = units.create_unit(session, admin, name="登记注册科", kind=UnitKind.section, parent_id=unit.id)
    chief = units.create_person(session, admin, unit_id=section.id, name="王建国", post="科长", rank=PersonRank.section)
    director = units.create_person(session, admin, unit_id=unit.id, name="李志强", post="副局长",
                                   rank=PersonRank.division)
    session.commit()
    return {"unit": unit, "section": section, "chief": chief, "director": director}


@pytest.fixture
def make_case(session, office, make_record):
    def make(actor=None, *, sources=None, opened_on=OPENED, today=None, kind=CaseKind.efficiency_complaint, **kw):
        actor = actor or office["reviewer"]
        ids = [r.id for r in sources] if sources is not None else [make_record().id]
        case = cases.open_case(session, actor, kind=kind, title=kw.pop("title", "窗口推诿"),
                               source_record_ids=ids, opened_on=opened_on, today=today or opened_on, **kw)
        session.commit()
        return case
    return make


def _walk_to(session, actor, case, state, day=OPENED):
    order = [CaseState.investigating, CaseState.deciding, CaseState.rectifying]
    for step in order[:order.index(state) + 1]:
        cases.transition(session, actor, case, step, today=day)
    session.commit()


def _record_all_gates(session, actor, case, sha):
    for gate in Gate:
        cases.record_gate(session, actor, case, gate=gate, note=f"{gate.value} 已落实", evidence=[sha])
    session.commit()


# -- numbering ------------------------------------------------------------------------------


def test_a_case_is_numbered_by_year_district_and_a_sequence_of_its_own(session, make_case, make_user, tree,
                                                                         make_record):
    first, second = make_case(), make_case()
    street_reviewer = make_user(Role.reviewer, jurisdiction=tree["home_street"])
    on_street = make_case(street_reviewer, sources=[make_record(jurisdiction=tree["home_street"])])
    elsewhere = make_case(make_user(Role.reviewer, jurisdiction=tree["other"]),
                          sources=[make_record(by=make_user(Role.squad_member, jurisdiction=tree["other"]))])
    last_year = make_case(opened_on=date(2025, 12, 30), today=date(2026, 1, 5))
    assert [first.number, second.number] == ["2026-500107-0001", "2026-500107-0002"]
    assert on_street.number == "2026-500107-0003"  # a street's cases are numbered in its district
    assert elsewhere.number == "2026-500103-0001"
    assert last_year.number == "2025-500107-0001"


def test_a_rolled_back_opening_gives_its_number_back(session, office, make_case, make_record):
    make_case()
    source = make_record()
    with pytest.raises(InvalidInput):
        with session.begin_nested():
            cases.open_case(session, office["reviewer"], kind=CaseKind.work_style, title="x",
                            source_record_ids=[source.id], subjects=[{"unit_id": uuid.uuid4()}],
                            opened_on=OPENED, today=OPENED)
    assert make_case().number == "2026-500107-0002"


def test_case_numbers_have_no_gap_and_no_duplicate_when_opened_concurrently(backend, tmp_path):
    from field.accounts import users as accounts, jurisdictions
    from field.core import migrate
    from field.core.db import make_engine, make_session_factory
    from field.core.models.platform import JurisdictionLevel
    from tests.conftest import fresh_database_url

    url = fresh_database_url(backend, tmp_path, "_case_numbers")
    migrate.upgrade(url)  # committed rows and several connections: not the tests' rolled-back one
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    try:
        with factory() as s:
            parent = None
            for code, name, level in (("500000", "重庆市", JurisdictionLevel.province),
                                      ("500100", "重庆市市辖区", JurisdictionLevel.city),
                                      ("500107", "九龙坡区", JurisdictionLevel.district)):
                parent = j = jurisdictions.create_jurisdiction(s, actor=None, code=code, name=name, level=level,
                                                               parent_id=parent.id if parent else None)
            reviewer = accounts.create_user(s, actor=None, username="race-reviewer", password="correct horse battery",
                                            display_name="R", role=Role.reviewer, jurisdiction_id=j.id)
            s.commit()
            reviewer_id, j_id = reviewer.id, j.id
        numbers, errors = [], []
        start = threading.Barrier(6)

        def open_one(n):
            try:
                start.wait()  # before the first query: on SQLite that query takes the write lock
                with factory() as s:
                    actor = s.get(User, reviewer_id)
                    case = cases.open_case(s, actor, kind=CaseKind.work_style, title=f"并发 {n}",
                                           complaint=cases.ComplaintInput(ComplaintChannel.phone, utcnow(), "电话投诉"),
                                           opened_on=OPENED, today=OPENED)
                    s.commit()
                    numbers.append(case.number)
            except Exception as exc:  # surfaced below with the thread's number
                errors.append((n, exc))

        threads = [threading.Thread(target=open_one, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert sorted(numbers) == [f"2026-500107-{n:04d}" for n in range(1, 7)]
        with factory() as s:
            assert custody.verify_chain(s, s.get(custody.CustodyChain, j_id)) is None
    finally:
        engine.dispose()


# -- the clock ------------------------------------------------------------------------------


def test_the_deadline_counts_working_days_across_holidays_and_make_up_days(make_case):
    case = make_case()
    # 28 Sep, 29, 30, 8 Oct, 9, Sat 10 (make-up), 12-16, 19-22: the 15th working day is Thursday 22 October.
    assert case.time_limit_days == 15
    assert case.deadline == case.effective_deadline == date(2026, 10, 22)


def test_a_local_holiday_of_the_office_moves_the_deadline(session, admin, make_case):
    calendar.add_override(session, admin, day=date(2026, 10, 12), working=False, note="本地节假日")
    session.commit()
    assert make_case().deadline == date(2026, 10, 23)


def test_each_kind_has_its_own_limit_and_an_office_may_set_its_own(session, office, make_user, tree, make_case):
    assert make_case(kind=CaseKind.discipline).time_limit_days == 30
    city_admin = make_user(Role.admin, jurisdiction=tree["city"])
    time_limits.set_time_limit(session, city_admin, CaseKind.efficiency_complaint, 20)
    running = make_case()
    time_limits.set_time_limit(session, office["admin"], CaseKind.efficiency_complaint, 10)
    session.commit()
    limits = {t.kind: t for t in time_limits.time_limits(session, office["reviewer"])}
    assert limits[CaseKind.efficiency_complaint].working_days == 10
    assert limits[CaseKind.efficiency_complaint].set_in == office["admin"].jurisdiction_id
    assert make_case().time_limit_days == 10
    assert running.time_limit_days == 20 and running.deadline == date(2026, 10, 29)
    time_limits.set_time_limit(session, office["admin"], CaseKind.efficiency_complaint, None)
    assert make_case().time_limit_days == 20  # the city's again
    with pytest.raises(NotAllowed):
        time_limits.set_time_limit(session, office["reviewer"], CaseKind.discipline, 5)


def test_a_deadline_in_a_year_the_calendar_does_not_know_is_counted_on_weekends_and_marked_provisional(make_case):
    case = make_case(kind=CaseKind.discipline, opened_on=date(2026, 12, 10), today=date(2026, 12, 10))
    # 11, 14-18, 21-25, 28-31 Dec (15), then 2027 on weekends alone: 1, 4-8, 11-15, 18-21 Jan (30).
    assert case.deadline == case.effective_deadline == date(2027, 1, 21)
    assert case.deadline_provisional and case.provisional_fields == ["deadline", "effective_deadline", "overdue"]


def test_a_case_cannot_be_opened_on_a_future_day(make_case):
    with pytest.raises(InvalidInput) as err:
        make_case(opened_on=date(2026, 10, 1), today=OPENED)
    assert err.value.fields[0].field == "opened_on"


def test_overdue_cases_are_running_ones_past_their_effective_deadline(session, office, make_case, add_evidence):
    late, on_time, delayed = make_case(), make_case(), make_case()
    closed = make_case()
    sha = add_evidence(case_view._source_records(session, closed)[0], b"rectified")
    _walk_to(session, office["reviewer"], closed, CaseState.rectifying)
    _record_all_gates(session, office["reviewer"], closed, sha)
    cases.transition(session, office["reviewer"], closed, CaseState.closed, today=date(2026, 10, 26))
    cases.record_delay_notice(session, office["reviewer"], delayed, reason="需调取市级数据", new_deadline=date(2026, 11, 6),
                              today=date(2026, 10, 20))
    session.commit()

    def overdue(day):
        stmt = cases.cases_query(office["reviewer"], overdue=True, today=day)
        return {c.id for c in session.execute(stmt).scalars()}

    assert overdue(date(2026, 10, 22)) == set()  # the deadline day itself is still in time
    assert overdue(date(2026, 10, 23)) == {late.id, on_time.id}
    assert overdue(date(2026, 11, 9)) == {late.id, on_time.id, delayed.id}
    assert late.overdue_on(date(2026, 10, 23)) and not closed.overdue_on(date(2026, 11, 9))
    assert closed.ended_late and closed.handling_working_days == 17


def test_delay_notices_are_all_kept_and_the_latest_new_date_counts(session, office, make_case, make_user):
    case = make_case()
    first = cases.record_delay_notice(session, office["reviewer"], case, reason="涉及多个部门",
                                      new_deadline=date(2026, 11, 5), today=date(2026, 10, 20))
    second = cases.record_delay_notice(session, office["admin"], case, reason="当事人出差",
                                       new_deadline=date(2026, 11, 19), today=date(2026, 11, 6))
    session.commit()
    assert [(n.previous_deadline, n.new_deadline, n.late) for n in case.delay_notices] == [
        (date(2026, 10, 22), date(2026, 11, 5), False), (date(2026, 11, 5), date(2026, 11, 19), True)]
    assert case.deadline == date(2026, 10, 22) and case.effective_deadline == date(2026, 11, 19)
    assert first.handler_id == second.handler_id == office["reviewer"].id  # the handler signs, whoever typed it
    with pytest.raises(InvalidInput) as err:
        cases.record_delay_notice(session, office["reviewer"], case, reason="x", new_deadline=date(2026, 11, 18),
                                  today=date(2026, 11, 6))
    assert err.value.fields[0].field == "new_deadline"
    with pytest.raises(NotAllowed):
        cases.record_delay_notice(session, make_user(Role.reviewer), case, reason="x",
                                  new_deadline=date(2026, 12, 1), today=date(2026, 11, 6))


# -- states and gates -----------------------------------------------------------------------


def test_a_state_cannot_be_skipped_and_the_refusal_names_the_allowed_states(session, office, make_case):
    case = make_case()
    with pytest.raises(InvalidTransition) as err:
        cases.transition(session, office["reviewer"], case, CaseState.deciding)
    assert err.value.extra["allowed"] == ["investigating", "dismissed"]
    with pytest.raises(InvalidTransition) as err:
        cases.transition(session, office["reviewer"], case, CaseState.closed)
    assert err.value.extra["allowed"] == ["investigating", "dismissed"]


def test_closing_a_case_requires_all_four_gates(session, office, make_case, add_evidence):
    case = make_case()
    sha = add_evidence(case_view._source_records(session, case)[0], b"photo of the window")
    _walk_to(session, office["reviewer"], case, CaseState.rectifying)
    cases.record_gate(session, office["reviewer"], case, gate=Gate.facts_established, note="事实清楚", evidence=[sha])
    with pytest.raises(cases.GatesMissing) as err:
        cases.transition(session, office["reviewer"], case, CaseState.closed)
    assert err.value.extra["missing_gates"] == ["problem_corrected", "responsible_dealt_with", "rectification_done"]
    assert err.value.extra["allowed"] == ["dismissed"]
    assert case.state is CaseState.rectifying
    for gate in (Gate.problem_corrected, Gate.responsible_dealt_with, Gate.rectification_done):
        cases.record_gate(session, office["reviewer"], case, gate=gate, note="已落实", evidence=[sha])
    assert cases.allowed_transitions(case) == [CaseState.closed, CaseState.dismissed]
    cases.transition(session, office["reviewer"], case, CaseState.closed, today=date(2026, 10, 16))
    assert case.state is CaseState.closed and case.closed_on == case.ended_on == date(2026, 10, 16)
    assert case.handling_working_days == 11 and case.ended_late is False
    with pytest.raises(InvalidTransition) as err:
        cases.transition(session, office["reviewer"], case, CaseState.dismissed, reason="x")
    assert err.value.extra["allowed"] == []


def test_a_gate_is_recorded_once_and_only_with_evidence_of_the_case(session, office, make_case, add_evidence,
                                                                   make_record):
    case = make_case()
    sha = add_evidence(case_view._source_records(session, case)[0], b"evidence of the case")
    unrelated = add_evidence(make_record(), b"evidence of another record")
    with pytest.raises(InvalidInput) as err:
        cases.record_gate(session, office["reviewer"], case, gate=Gate.facts_established, note="事实清楚",
                          evidence=[sha, unrelated])
    assert err.value.fields[0].field == "evidence.1"
    with pytest.raises(InvalidInput) as err:
        cases.record_gate(session, office["reviewer"], case, gate=Gate.facts_established, note="事实清楚", evidence=[])
    assert err.value.fields[0].field == "evidence"
    gate = cases.record_gate(session, office["reviewer"], case, gate=Gate.facts_established, note="事实清楚",
                             evidence=[sha])
    assert (gate.recorded_by_id, gate.evidence) == (office["reviewer"].id, [sha])
    with pytest.raises(Conflict):
        cases.record_gate(session, office["reviewer"], case, gate=Gate.facts_established, note="again", evidence=[sha])


def test_evidence_attached_to_the_case_itself_by_the_office_supports_a_gate(session, office, make_case):
    from field.attachments import links
    from field.core.models.evidence import Blob

    case = make_case()
    data = b"rectification report, scanned"
    blob = Blob(sha256=sha_of(data), size=len(data), media_kind="photo", mime="image/jpeg", ext="jpg",
                jurisdiction_id=case.jurisdiction_id, has_exif=False, facts={}, derivatives_state="none")
    session.add(blob)
    session.flush()
    links.attach(session, blob=blob, record_id=case.id, uploader=office["reviewer"], device_id=None)
    gate = cases.record_gate(session, office["reviewer"], case, gate=Gate.rectification_done, note="整改报告",
                             evidence=[blob.sha256])
    item = next(i for i in case_view.case_evidence(session, case) if i.sha256 == blob.sha256)
    assert gate.evidence == [blob.sha256] and item.on_case and item.arrived and item.record_ids == []


def test_dismissing_needs_a_reason_and_ends_the_case_from_any_open_state(session, office, make_case):
    case = make_case()
    cases.transition(session, office["reviewer"], case, CaseState.investigating)
    with pytest.raises(InvalidInput) as err:
        cases.transition(session, office["reviewer"], case, CaseState.dismissed, reason="  ")
    assert err.value.fields[0].field == "reason"
    cases.transition(session, office["reviewer"], case, CaseState.dismissed, reason="经核查不属实",
                     today=date(2026, 9, 30))
    assert case.state is CaseState.dismissed and case.dismissed_reason == "经核查不属实"
    assert case.ended_on == date(2026, 9, 30) and case.closed_on is None and case.handling_working_days == 3
    with pytest.raises(Conflict):
        cases.update_case(session, office["reviewer"], case, {"title": "改标题"})


# -- subjects, outcomes ---------------------------------------------------------------------


def test_a_disposition_keeps_the_persons_rank_and_unit_as_they_were_when_decided(session, office, admin, make_case,
                                                                                 directory):
    case = make_case(subjects=[{"person_id": directory["chief"].id}])
    _walk_to(session, office["reviewer"], case, CaseState.deciding)
    talk = parties.record_disposition(session, office["reviewer"], case, kind=DispositionKind.admonishment_talk,
                                    person_id=directory["chief"].id, decided_on=date(2026, 10, 9),
                                    authority="区纪委监委", today=date(2026, 10, 9))
    session.commit()
    units.update_person(session, admin, directory["chief"], {"rank": PersonRank.division, "unit_id": directory["unit"].id})
    session.commit()
    session.expire_all()
    talk = session.get(Disposition, talk.id)
    assert (talk.rank_at_decision, talk.unit_id) == (PersonRank.section, directory["section"].id)


def test_a_disciplinary_sanction_takes_a_grade_of_its_own_system(session, office, make_case, directory):
    case = make_case(subjects=[{"person_id": directory["chief"].id}, {"unit_id": directory["unit"].id}])
    _walk_to(session, office["reviewer"], case, CaseState.deciding)

    def decide(**kw):
        return parties.record_disposition(session, office["reviewer"], case, decided_on=date(2026, 10, 9),
                                        authority="区监委", today=date(2026, 10, 9), **kw)

    sanction = dict(kind=DispositionKind.disciplinary_sanction, person_id=directory["chief"].id)
    for bad, field_name in ((dict(), "sanction_system"), (dict(sanction_system="party", grade="demerit"), "grade"),
                            (dict(sanction_system="administrative", grade="serious_warning"), "grade")):
        with pytest.raises(InvalidInput) as err:
            decide(**sanction, **bad)
        assert err.value.fields[0].field == field_name
    demerit = decide(**sanction, sanction_system="administrative", grade="demerit")
    probation = decide(**sanction, sanction_system="party", grade="party_probation")
    assert (demerit.grade.value, probation.grade.value) == ("demerit", "party_probation")
    with pytest.raises(InvalidInput) as err:
        decide(kind=DispositionKind.public_criticism, person_id=directory["chief"].id, grade="warning")
    assert err.value.fields[0].field == "grade"
    card = decide(kind=DispositionKind.yellow_card, unit_id=directory["unit"].id)
    assert card.person_id is None and card.rank_at_decision is None


def test_a_disposition_is_about_a_subject_of_the_case_and_comes_once_deciding(session, office, make_case, directory):
    case = make_case(subjects=[{"unit_id": directory["unit"].id}])
    args = dict(decided_on=date(2026, 10, 9), authority="区效能办", today=date(2026, 10, 9))
    with pytest.raises(Conflict):
        parties.record_disposition(session, office["reviewer"], case, kind=DispositionKind.yellow_card,
                                 unit_id=directory["unit"].id, **args)
    _walk_to(session, office["reviewer"], case, CaseState.deciding)
    with pytest.raises(InvalidInput) as err:
        parties.record_disposition(session, office["reviewer"], case, kind=DispositionKind.public_criticism,
                                 person_id=directory["chief"].id, **args)
    assert err.value.fields[0].field == "person_id"
    with pytest.raises(InvalidInput) as err:
        parties.record_disposition(session, office["reviewer"], case, kind=DispositionKind.listed_supervision,
                                 person_id=directory["director"].id, **args)
    assert err.value.fields[0].field == "unit_id"
    parties.record_disposition(session, office["reviewer"], case, kind=DispositionKind.listed_supervision,
                             unit_id=directory["unit"].id, **args)
    with pytest.raises(Conflict):
        parties.remove_subject(session, office["reviewer"], case, case.subjects[0].id)


def test_subjects_and_sources_come_from_the_callers_scope(session, office, make_case, make_record, make_user, tree):
    other_admin = make_user(Role.admin, jurisdiction=tree["other"])
    foreign_unit = units.create_unit(session, other_admin, name="渝中区某局", kind=UnitKind.department)
    foreign_person = units.create_person(session, other_admin, unit_id=foreign_unit.id, name="赵六")
    foreign_record = make_record(by=make_user(Role.squad_member, jurisdiction=tree["other"]))
    with pytest.raises(InvalidInput) as err:
        make_case(sources=[make_record(), foreign_record])
    assert err.value.fields[0].field == "source_record_ids.1"
    with pytest.raises(InvalidInput) as err:
        make_case(subjects=[{"person_id": foreign_person.id}])
    assert err.value.fields[0].field == "subjects.0.person_id"
    case = make_case()
    with pytest.raises(InvalidInput) as err:
        parties.add_subject(session, office["reviewer"], case, unit_id=foreign_unit.id)
    assert err.value.fields[0].field == "unit_id"
    with pytest.raises(InvalidInput) as err:
        cases.add_source(session, office["reviewer"], case, foreign_record.id)
    assert err.value.fields[0].field == "record_id"
    with pytest.raises(InvalidInput) as err:
        make_case(handler_id=make_user(Role.inspector).id)
    assert err.value.fields[0].field == "handler_id"


def test_a_case_needs_a_record_or_a_complaint(session, office):
    with pytest.raises(InvalidInput) as err:
        cases.open_case(session, office["reviewer"], kind=CaseKind.work_style, title="空", opened_on=OPENED,
                        today=OPENED)
    assert err.value.fields[0].field == "source_record_ids"


def test_cases_do_not_exist_for_anyone_outside_the_office(session, make_user, make_case, tree):
    case = make_case()
    for role in (Role.inspector, Role.squad_member, Role.liaison, Role.leader):
        user = make_user(role)
        with pytest.raises(NotFound):
            cases.get_case(session, user, case.id)
        with pytest.raises(NotFound):
            cases.cases_query(user)
    with pytest.raises(NotFound):
        cases.get_case(session, make_user(Role.reviewer, jurisdiction=tree["other"]), case.id)


# -- confidentiality ------------------------------------------------------------------------


@pytest.fixture
def monitor(session, admin, make_user):
    squad = squads.create_squad(session, admin, name="第一暗访小分队", code_prefix="JLPC")
    member = squads.enlist(session, admin, squad, real_name="张卫东", phone="13812345678",
                           user_id=make_user(Role.squad_member).id)
    session.commit()
    return member


def _decided_case(session, office, make_case, **kw):
    case = make_case(**kw)
    _walk_to(session, office["reviewer"], case, CaseState.deciding)
    return case


@pytest.mark.parametrize("text", [
    "经查，张卫东反映的问题属实。",
    "暗访员 张 卫 东 发现窗口人员脱岗。",
    "联系电话 138-1234-5678。",
    "联系电话１３８１２３４５６７８。",  # full-width digits, as typed with a Chinese input method
])
def test_a_notice_that_names_a_monitor_is_refused_without_saying_who(session, office, make_case, monitor, text):
    case = _decided_case(session, office, make_case)
    with pytest.raises(InvalidInput) as err:
        notices.issue_notice(session, office["reviewer"], case, text=text, issued_on=date(2026, 10, 9),
                           today=date(2026, 10, 9))
    assert err.value.fields[0].field == "text"
    assert "张卫东" not in err.value.detail and "13812345678" not in err.value.detail


def test_a_notice_that_names_a_complainant_of_the_district_is_refused(session, office, make_case, make_record):
    make_case(sources=[], complaint=cases.ComplaintInput(ComplaintChannel.letter, utcnow(), "来信反映收费问题",
                                                         complainant_name="陈美玲", complainant_contact="023-6878 1234"))
    case = _decided_case(session, office, make_case)
    for text in ("经核实，陈美玲反映属实。", "回访电话02368781234。"):
        with pytest.raises(InvalidInput):
            notices.issue_notice(session, office["reviewer"], case, text=text, issued_on=date(2026, 10, 9),
                               today=date(2026, 10, 9))
    notice = notices.issue_notice(session, office["reviewer"], case,
                                text="区市场监管局登记窗口推诿扯皮，给予通报批评。", issued_on=date(2026, 10, 9),
                                today=date(2026, 10, 9))
    assert notice.text.startswith("区市场监管局")


def test_the_complainant_is_shown_only_to_an_admin_and_every_unmasking_is_logged(session, office, make_case):
    case = make_case(sources=[], complaint=cases.ComplaintInput(
        ComplaintChannel.phone, utcnow() - timedelta(hours=2), "电话投诉窗口推诿", complainant_name="陈美玲",
        complainant_contact="13900001111"))
    assert complainants.has_complainant_contact(session, case)
    with pytest.raises(NotAllowed):
        complainants.unmask_complainant(session, office["reviewer"], case, reason="核实")
    contact = complainants.unmask_complainant(session, office["admin"], case, reason="回访投诉人")
    assert (contact.name, contact.contact) == ("陈美玲", "13900001111")
    entries = case_view.timeline(session, office["admin"], case)
    assert [e.kind for e in entries] == ["case.opened", "case.complainant_unmasked"]
    assert entries[1].actor_id == office["admin"].id and entries[1].data == {"reason": "回访投诉人"}
    assert "陈美玲" not in repr([e.data for e in entries]) and "13900001111" not in repr([e.data for e in entries])


# -- evidence and timeline ------------------------------------------------------------------


def test_the_case_lists_each_piece_of_its_sources_evidence_once_with_custody_and_flags(session, make_case,
                                                                                       make_record, add_evidence):
    shared, late = sha_of(b"same photo"), sha_of(b"never uploaded")
    first = make_record(declared=[shared, late])
    second = make_record(declared=[shared])
    add_evidence(first, b"same photo")
    add_evidence(second, b"same photo")
    case = make_case(sources=[first, second])
    items = {i.sha256: i for i in case_view.case_evidence(session, case)}
    assert list(items) == [shared, late]
    assert items[shared].record_ids == [first.id, second.id] and items[shared].arrived
    assert "same_photo_elsewhere" in items[shared].flags
    assert items[shared].custody["events"] == {"evidence.received": 1, "evidence.attached": 2}
    assert items[shared].custody["entries"] == 3 and items[shared].custody["first_at"].tzinfo is not None
    assert not items[late].arrived and items[late].custody["entries"] == 0


def test_the_timeline_holds_every_change_of_the_case_in_order(session, office, make_case, directory, add_evidence,
                                                              make_record):
    case = make_case(subjects=[{"unit_id": directory["unit"].id}])
    sha = add_evidence(case_view._source_records(session, case)[0], b"photo")
    cases.add_source(session, office["reviewer"], case, make_record().id)
    parties.add_subject(session, office["reviewer"], case, person_id=directory["chief"].id)
    cases.update_case(session, office["reviewer"], case, {"handler_id": office["admin"].id})
    cases.record_delay_notice(session, office["admin"], case, reason="延期", new_deadline=date(2026, 11, 5),
                              today=date(2026, 10, 20))
    _walk_to(session, office["reviewer"], case, CaseState.deciding)
    parties.record_disposition(session, office["reviewer"], case, kind=DispositionKind.admonishment_talk,
                             person_id=directory["chief"].id, decided_on=date(2026, 10, 9), authority="区纪委",
                             today=date(2026, 10, 9))
    notices.issue_notice(session, office["reviewer"], case, text="通报", issued_on=date(2026, 10, 9),
                       today=date(2026, 10, 9))
    cases.record_gate(session, office["reviewer"], case, gate=Gate.facts_established, note="查清", evidence=[sha])
    session.commit()
    kinds = [e.kind for e in case_view.timeline(session, office["reviewer"], case)]
    assert kinds == ["case.opened", "case.source_added", "case.subject_added", "case.updated", "case.delay_notice",
                     "case.state_changed", "case.state_changed", "case.disposition_recorded", "case.notice_issued",
                     "case.gate_recorded"]
    chain = session.get(custody.CustodyChain, case.jurisdiction_id)
    assert custody.verify_chain(session, chain) is None


# -- figures --------------------------------------------------------------------------------


def test_the_office_figures_are_sums_the_database_can_make(session, office, make_case, directory, add_evidence):
    """Opened and closed per month, handling days, dispositions by rank: one GROUP BY each."""
    from field.cases.models import Case

    closed = make_case(subjects=[{"person_id": directory["chief"].id}, {"person_id": directory["director"].id}])
    make_case(opened_on=date(2026, 10, 9), today=date(2026, 10, 9))
    sha = add_evidence(case_view._source_records(session, closed)[0], b"photo")
    _walk_to(session, office["reviewer"], closed, CaseState.deciding)
    for person, kind in ((directory["chief"], DispositionKind.admonishment_talk),
                         (directory["director"], DispositionKind.public_criticism),
                         (directory["chief"], DispositionKind.loss_of_award_eligibility)):
        parties.record_disposition(session, office["reviewer"], closed, kind=kind, person_id=person.id,
                                 decided_on=date(2026, 10, 9), authority="区纪委", today=date(2026, 10, 9))
    cases.transition(session, office["reviewer"], closed, CaseState.rectifying)
    _record_all_gates(session, office["reviewer"], closed, sha)
    cases.transition(session, office["reviewer"], closed, CaseState.closed, today=date(2026, 10, 16))
    session.commit()

    month = func.substr(func.cast(Case.opened_on, String), 1, 7)
    opened = dict(session.execute(select(month, func.count()).group_by(month)).all())
    assert opened == {"2026-09": 1, "2026-10": 1}
    assert session.execute(select(func.count(), func.avg(Case.handling_working_days))
                           .where(Case.closed_on.is_not(None))).one() == (1, 11)
    people_by_rank = dict(session.execute(
        select(Disposition.rank_at_decision, func.count(func.distinct(Disposition.person_id)))
        .group_by(Disposition.rank_at_decision)).all())
    assert people_by_rank == {PersonRank.section: 1, PersonRank.division: 1}
