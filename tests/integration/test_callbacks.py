"""Callback sampling at domain level: import, reproducible draws, assignment, calls, findings from calls."""

import uuid

import pytest
from sqlalchemy import func, select

from field.custody import chain as custody
from field.visits import callbacks, findings, visits
from field.directory import squads
from field.core.errors import Conflict, InvalidInput, NotFound
from field.core.models.platform import Role
from field.visits.models import ServiceCase, TaskMethod, TaskState
from tests.visits_fixtures import (  # noqa: F401
    CSV_HEADER,
    assigned_sample,
    at,
    cases_csv,
    finding_values,
    receipt_for,
    world,
)


def _cases(session, batch):
    return session.execute(select(ServiceCase).where(ServiceCase.batch_id == batch.id)
                           .order_by(ServiceCase.row)).scalars().all()


# -- import ------------------------------------------------------------------------------------


def test_an_import_keeps_the_good_rows_and_reports_each_bad_one_with_its_row(session, world):
    raw = ("\ufeff" + CSV_HEADER +
           "A-001,区规划自然资源局/不动产登记中心,不动产转移登记,2026-04-01,王女士,13900000001\n"
           "A-002,三号窗口,抵押登记,2026/4/2,,13900000002\n"
           "A-003,某个不在名录的单位,户籍迁移,2026年4月3日,张先生,13900000003\n"
           ",区规划自然资源局,x,2026-04-04,x,13900000004\n"
           "A-005,区规划自然资源局,x,四月五日,x,13900000005\n"
           "A-001,区规划自然资源局,x,2026-04-06,x,13900000006\n"
           "A-007,区规划自然资源局,x,2026-04-07,x,\n").encode()
    batch, created = callbacks.import_batch(session, world.reviewer, raw, name="四月办件")
    assert created and batch.case_count == 3
    assert [(r["row"], r["reason"].split(":")[0]) for r in batch.rejected] == [
        (5, "case_no"), (6, "completed_on"), (7, "case_no"), (8, "applicant_contact")]
    assert "repeats row 2" in batch.rejected[2]["reason"]
    cases = _cases(session, batch)
    assert [c.unit_id for c in cases] == [world.section.id, world.window.id, None]
    assert cases[2].unit_name == "某个不在名录的单位" and cases[1].applicant_name is None
    assert str(cases[1].completed_on) == "2026-04-02" and str(cases[2].completed_on) == "2026-04-03"
    assert [e.kind for e in custody.history(session, "callback_batch", batch.id)] == ["callback_batch.imported"]


def test_the_same_file_again_is_the_same_batch_and_adds_nothing(session, world):
    first, created = callbacks.import_batch(session, world.reviewer, cases_csv(5))
    again, created_again = callbacks.import_batch(session, world.admin, cases_csv(5))
    assert created and not created_again and again.id == first.id
    assert session.execute(select(func.count()).select_from(ServiceCase)).scalar() == 5


def test_a_case_already_imported_in_another_file_is_refused_not_duplicated(session, world):
    callbacks.import_batch(session, world.reviewer, cases_csv(5), name="一")
    second, _ = callbacks.import_batch(session, world.reviewer, cases_csv(5, start=4), name="二")
    assert second.case_count == 3
    assert [r["case_no"] for r in second.rejected] == ["JLP2026-00004", "JLP2026-00005"]
    assert "already imported, in batch '一'" in second.rejected[0]["reason"]


def test_a_file_from_excel_on_a_chinese_windows_is_read_as_gb18030(session, world):
    raw = (CSV_HEADER + "B-1,区规划自然资源局,不动产登记,2026-04-01,刘女士,13900000001\n").encode("gb18030")
    batch, _ = callbacks.import_batch(session, world.reviewer, raw)
    assert _cases(session, batch)[0].applicant_name == "刘女士"


@pytest.mark.parametrize("raw", [
    b"case_no,unit,service\nA,B,C\n",
    b"case_no,unit,service,completed_on,applicant_contact,colour\n",
    b"\xff\xfe\x00garbage\xff",
])
def test_a_file_without_the_documented_header_is_refused_whole(session, world, raw):
    with pytest.raises(InvalidInput) as err:
        callbacks.import_batch(session, world.reviewer, raw)
    assert err.value.fields[0].field == "_body"
    assert session.execute(select(func.count()).select_from(ServiceCase)).scalar() == 0


def test_only_office_staff_import_cases(session, world, make_user):
    from field.core.errors import NotAllowed

    with pytest.raises(NotAllowed):
        callbacks.import_batch(session, world.alice.user, cases_csv(1))
    with pytest.raises(NotFound):
        callbacks.import_batch(session, make_user(Role.inspector), cases_csv(1))


# -- samples -----------------------------------------------------------------------------------


def test_the_same_seed_on_the_same_batch_draws_the_same_cases(session, world):
    batch, _ = callbacks.import_batch(session, world.reviewer, cases_csv(40))
    one = callbacks.draw_sample(session, world.reviewer, batch, size=8, seed=20260512)
    two = callbacks.draw_sample(session, world.admin, batch, percent=callbacks.Decimal("20"), seed=20260512)
    other = callbacks.draw_sample(session, world.reviewer, batch, size=8, seed=20260513)
    drawn = callbacks.drawn_case_nos(session, one)
    assert drawn == callbacks.drawn_case_nos(session, two) and len(drawn) == 8
    assert drawn != callbacks.drawn_case_nos(session, other)
    # An auditor re-draws from what is stored: the batch's cases and the seed.
    population = sorted(c.case_no for c in _cases(session, batch))
    assert [population[i] for i in callbacks.draw(population, one.seed, one.size)] == drawn
    assert one.population == 40 and one.population_sha256 == callbacks.population_digest(population)
    entry = custody.history(session, "callback_sample", one.id)[0]
    assert entry.data["seed"] == 20260512 and entry.data["case_nos"] == drawn


def test_without_a_seed_one_is_drawn_and_kept(session, world):
    batch, _ = callbacks.import_batch(session, world.reviewer, cases_csv(10))
    sample = callbacks.draw_sample(session, world.reviewer, batch, size=3)
    assert 0 <= sample.seed < callbacks.SEED_LIMIT and sample.requested_size == 3
    again = callbacks.draw_sample(session, world.reviewer, batch, size=3, seed=sample.seed)
    assert callbacks.drawn_case_nos(session, again) == callbacks.drawn_case_nos(session, sample)


def test_a_sample_is_assigned_to_one_squad_at_a_time(session, world):
    batch, sample, task = assigned_sample(session, world)
    assert task.method is TaskMethod.callback and task.sample_id == sample.id
    with pytest.raises(Conflict) as err:
        visits.create_task(session, world.reviewer, squad_id=world.other_squad.id, method=TaskMethod.callback,
                           target={"sample_id": sample.id}, theme="x", window_start=at(11), window_end=at(12))
    assert err.value.fields[0].field == "target.sample_id"
    visits.update_task(session, world.reviewer, task, {"state": TaskState.cancelled})
    moved = visits.create_task(session, world.reviewer, squad_id=world.other_squad.id, method=TaskMethod.callback,
                               target={"sample_id": sample.id}, theme="x", window_start=at(11), window_end=at(12))
    assert moved.squad_id == world.other_squad.id


# -- who sees the cases, and the calls ---------------------------------------------------------


def test_the_assigned_squad_sees_its_cases_with_contacts_and_nobody_else_does(session, world, make_user):
    _, sample, task = assigned_sample(session, world)
    cases = session.execute(callbacks.task_cases_query(task)).scalars().all()
    assert len(cases) == 4 and all(c.applicant_contact.startswith("139") for c in cases)
    visible = select(func.count()).select_from(ServiceCase)
    assert session.execute(visible.where(callbacks.visible_cases(world.alice.user))).scalar() == 4
    assert session.execute(visible.where(callbacks.visible_cases(world.reviewer))).scalar() == 12
    for user in (world.carol.user, make_user(Role.inspector), make_user(Role.liaison), make_user(Role.leader)):
        assert session.execute(visible.where(callbacks.visible_cases(user))).scalar() == 0
    with pytest.raises(NotFound):
        visits.get_task(session, world.carol.user, task.id)


def _call(session, user, case, **overrides):
    values = {"id": uuid.uuid4(), "device_time": at(13, 15, 30), "case_id": case.id, "called_at": at(13, 15, 20),
              "reached": True, "satisfied": False, "problem": "多次被要求补交同一份材料。", "declared_attachments": []}
    values.update(overrides)
    return callbacks.record_callback(session, receipt_for(user), values)


def test_a_call_is_recorded_once_under_the_assignment_and_counted_on_its_case(session, world):
    _, sample, task = assigned_sample(session, world)
    case = session.execute(callbacks.sample_cases_query(sample.id)).scalars().first()
    missed = _call(session, world.alice.user, case, reached=False, satisfied=None, problem=None,
                   called_at=at(13, 10)).record
    reached = _call(session, world.bob.user, case, id=uuid.UUID(int=5))
    repeat = _call(session, world.bob.user, case, id=uuid.UUID(int=5))
    assert reached.created and not repeat.created and repeat.record.id == reached.record.id
    assert (missed.task_id, missed.squad_id, missed.unit_id) == (task.id, world.squad.id, world.section.id)
    outcome = callbacks.outcomes(session, [case.id])[case.id]
    assert outcome == {"calls": 2, "last_called_at": at(13, 15, 20), "reached": True, "satisfied": False}


def test_an_applicant_who_was_not_reached_is_not_said_to_be_satisfied(session, world):
    _, sample, _ = assigned_sample(session, world)
    case = session.execute(callbacks.sample_cases_query(sample.id)).scalars().first()
    with pytest.raises(InvalidInput) as err:
        _call(session, world.alice.user, case, reached=False, satisfied=True)
    assert err.value.fields[0].field == "satisfied"


def test_a_monitor_calls_only_cases_assigned_to_their_squad(session, world):
    _, sample, _ = assigned_sample(session, world)
    drawn = {c.id for c in session.execute(callbacks.sample_cases_query(sample.id)).scalars()}
    undrawn = session.execute(select(ServiceCase).where(ServiceCase.id.not_in(drawn))).scalars().first()
    drawn_case = session.get(ServiceCase, next(iter(drawn)))
    for user, case in ((world.alice.user, undrawn), (world.carol.user, drawn_case)):
        with pytest.raises(InvalidInput) as err:
            _call(session, user, case)
        assert err.value.fields[0].field == "case_id"
    # Office staff may call any case of their scope, assigned or not.
    assert _call(session, world.reviewer, undrawn).record.task_id is None


def test_a_monitor_who_left_the_squad_no_longer_sees_its_cases(session, world):
    assigned_sample(session, world)
    squads.discharge(session, world.admin, world.bob.member)
    assert session.execute(select(func.count()).select_from(ServiceCase)
                           .where(callbacks.visible_cases(world.bob.user))).scalar() == 0


def test_a_problem_heard_on_a_call_becomes_a_finding_linked_to_it(session, world):
    _, sample, _ = assigned_sample(session, world)
    case = session.execute(callbacks.sample_cases_query(sample.id)).scalars().first()
    call = _call(session, world.alice.user, case).record
    values = {k: v for k, v in finding_values(world, category="harassing").items()
              if k not in ("unit_id", "visit_id")}
    made = findings.record_finding_from_callback(session, receipt_for(world.reviewer), call, values)
    again = findings.record_finding_from_callback(session, receipt_for(world.reviewer), call, values)
    finding = made.record
    assert made.created and not again.created
    assert (finding.callback_id, finding.unit_id, finding.squad_id) == (call.id, world.section.id, world.squad.id)
    assert [e.kind for e in custody.history(session, "callback", call.id)][-1] == "callback.finding_made"


def test_a_call_about_a_case_with_an_unknown_unit_needs_the_unit_for_its_finding(session, world):
    raw = (CSV_HEADER + "C-1,不在名录的单位,x,2026-04-01,x,13900000001\n").encode()
    batch, _ = callbacks.import_batch(session, world.reviewer, raw)
    case = _cases(session, batch)[0]
    call = _call(session, world.reviewer, case).record
    values = {k: v for k, v in finding_values(world).items() if k not in ("unit_id", "visit_id")}
    with pytest.raises(InvalidInput) as err:
        findings.record_finding_from_callback(session, receipt_for(world.reviewer), call, values)
    assert err.value.fields[0].field == "unit_id"
    values["unit_id"] = world.bureau.id
    assert findings.record_finding_from_callback(session, receipt_for(world.reviewer), call,
                                                 values).record.unit_id == world.bureau.id
