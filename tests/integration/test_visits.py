"""Visit tasks and visits at domain level: targets, who sees which task, the sync feed, offline-safe visits."""

import uuid

import pytest
from sqlalchemy import func, select

from field.custody import chain as custody
from field.core import geo, sync
from field.records import lifecycle as records
from field.visits import visits
from field.core.errors import Conflict, InvalidInput, InvalidTransition, NotAllowed, NotFound
from field.core.locations import GivenLocation
from field.core.models.records import FieldRecord, ReviewState
from field.core.models.platform import Role
from field.visits.models import TaskMethod, TaskState, Visit
from tests.visits_fixtures import at, receipt_for, task_for, visit_values, world  # noqa: F401

# -- tasks -------------------------------------------------------------------------------------


def test_a_task_sends_a_squad_to_a_window_within_a_time_window(session, world):
    task = task_for(session, world)
    assert task.state is TaskState.open and task.method is TaskMethod.in_disguise
    assert task.target_unit.name == "三号窗口" and task.jurisdiction_id == world.squad.jurisdiction_id
    assert [e.kind for e in custody.history(session, "visit_task", task.id)] == ["visit_task.created"]


def test_a_task_may_target_an_enterprise_or_a_free_place_with_a_location(session, world):
    by_enterprise = task_for(session, world, target={"enterprise_id": world.enterprise.id})
    street = task_for(session, world, method=TaskMethod.casual_talk,
                      target={"place_name": "杨家坪步行街", "location": GivenLocation(106.51, 29.50, "gcj02")})
    assert by_enterprise.target_enterprise.name == "重庆某某机械有限公司"
    stored = street.location
    # Stored in WGS-84: the GCJ-02 input is shifted by a few hundred metres in Chongqing.
    assert 200 < stored.distance_m(106.51, 29.50) < 800


@pytest.mark.parametrize("target, method, field", [
    ({}, TaskMethod.casual_talk, "target"),
    ({"unit_id": "window", "enterprise_id": "enterprise"}, TaskMethod.casual_talk, "target"),
    ({"place_name": "某村"}, TaskMethod.casual_talk, "target.location"),
    ({"unit_id": "window"}, TaskMethod.callback, "target.sample_id"),
    ({"unit_id": "window", "location": GivenLocation(106.5, 29.5)}, TaskMethod.casual_talk, "target.location"),
    ({"unit_id": uuid.UUID(int=1)}, TaskMethod.casual_talk, "target.unit_id"),
])
def test_a_task_names_exactly_one_target_that_fits_its_method(session, world, target, method, field):
    ids = {"window": world.window.id, "enterprise": world.enterprise.id}
    target = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in target.items()}
    with pytest.raises(InvalidInput) as err:
        task_for(session, world, method=method, target=target)
    assert err.value.fields[0].field == field


def test_a_task_may_not_target_a_unit_outside_the_squads_district(session, world, tree, make_user):
    from field.directory import squads, units
    from field.directory.models import UnitKind

    province_admin = make_user(Role.admin, jurisdiction=tree["city"])
    elsewhere = units.create_unit(session, province_admin, name="渝中区税务局", kind=UnitKind.department,
                                  jurisdiction_id=tree["other"].id)
    squad = squads.create_squad(session, province_admin, name="九龙坡", code_prefix="JJJ",
                                jurisdiction_id=tree["home"].id)
    with pytest.raises(InvalidInput) as err:
        visits.create_task(session, province_admin, squad_id=squad.id, method=TaskMethod.casual_talk,
                           target={"unit_id": elsewhere.id}, theme="x", window_start=at(1), window_end=at(2))
    assert err.value.fields[0].field == "target.unit_id"


def test_a_window_that_ends_before_it_starts_is_refused(session, world):
    with pytest.raises(InvalidInput) as err:
        task_for(session, world, window_start=at(15), window_end=at(11))
    assert err.value.fields[0].field == "window_end"


def test_only_office_staff_assign_tasks_and_others_are_told_nothing(session, world, make_user):
    with pytest.raises(NotAllowed):
        visits.create_task(session, world.alice.user, squad_id=world.squad.id, method=TaskMethod.casual_talk,
                           target={"unit_id": world.window.id}, theme="x", window_start=at(1), window_end=at(2))
    with pytest.raises(NotFound):
        visits.create_task(session, make_user(Role.inspector), squad_id=world.squad.id, method=TaskMethod.casual_talk,
                           target={"unit_id": world.window.id}, theme="x", window_start=at(1), window_end=at(2))


def test_a_squad_member_sees_their_own_squads_tasks_only(session, world, make_user):
    mine = task_for(session, world)
    theirs = task_for(session, world, squad_id=world.other_squad.id)
    assert visits.get_task(session, world.alice.user, mine.id).id == mine.id
    with pytest.raises(NotFound):
        visits.get_task(session, world.alice.user, theirs.id)
    listed = session.execute(visits.tasks_query(world.alice.user)).scalars().all()
    assert [t.id for t in listed] == [mine.id]
    office = session.execute(visits.tasks_query(world.reviewer)).scalars().all()
    assert {t.id for t in office} == {mine.id, theirs.id}
    for role in (Role.inspector, Role.liaison, Role.leader):
        with pytest.raises(NotFound):
            visits.get_task(session, make_user(role), mine.id)


def test_a_task_moves_open_done_open_and_a_cancelled_one_stays_cancelled(session, world):
    task = task_for(session, world)
    visits.update_task(session, world.reviewer, task, {"state": TaskState.done})
    visits.update_task(session, world.reviewer, task, {"state": TaskState.open, "theme": "复查"})
    visits.update_task(session, world.reviewer, task, {"state": TaskState.cancelled})
    with pytest.raises(InvalidTransition) as err:
        visits.update_task(session, world.reviewer, task, {"state": TaskState.open})
    assert err.value.extra["allowed"] == [] and task.theme == "复查"


def test_the_sync_feed_brings_a_task_to_its_squad_and_to_nobody_else(session, world, make_user):
    task = task_for(session, world)

    def synced(user):
        return [(c.entity, c.id, c.op) for c in sync.changes_since(session, user, None).changes
                if c.entity == "visit_task"]

    assert synced(world.alice.user) == [("visit_task", task.id, "upsert")]
    assert synced(world.reviewer) == [("visit_task", task.id, "upsert")]
    assert synced(world.carol.user) == []
    assert synced(make_user(Role.inspector)) == []


def test_a_monitor_who_leaves_the_squad_gets_tombstones_for_its_tasks(session, world):
    from field.directory import squads

    task = task_for(session, world)
    cursor = sync.changes_since(session, world.bob.user, None).cursor
    squads.discharge(session, world.admin, world.bob.member)
    session.commit()
    changes = [(c.entity, c.id, c.op) for c in sync.changes_since(session, world.bob.user, cursor).changes]
    assert ("visit_task", task.id, "delete") in changes
    with pytest.raises(NotFound):
        visits.get_task(session, world.bob.user, task.id)


# -- visits ------------------------------------------------------------------------------------


def _visit(session, monitor, **overrides):
    return visits.record_visit(session, receipt_for(monitor.user), visit_values(**overrides))


def test_a_visit_records_who_went_by_code_and_always_includes_the_sender(session, world):
    task = task_for(session, world)
    visit = _visit(session, world.alice, task_id=task.id, members=[world.bob.code.lower()],
                   location=GivenLocation(106.5, 29.5, "wgs84", 12.0)).record
    session.commit()
    assert sorted(m.code for m in visit.members) == sorted([world.alice.code, world.bob.code])
    assert visit.squad_id == world.squad.id and visit.task_id == task.id
    assert visit.position.accuracy_m == 12.0 and abs(visit.position.lon - 106.5) < 1e-9


def test_a_visit_sent_again_is_stored_once_and_another_body_under_its_id_is_a_conflict(session, world):
    values = visit_values()
    first = visits.record_visit(session, receipt_for(world.alice.user), values)
    # The same instants written with another offset are the same body.
    again = visits.record_visit(session, receipt_for(world.alice.user),
                                {**values, "started_at": values["started_at"].astimezone(tz=None)})
    assert first.created and not again.created
    assert session.execute(select(func.count()).select_from(FieldRecord)
                           .where(FieldRecord.id == values["id"])).scalar() == 1
    with pytest.raises(Conflict):
        visits.record_visit(session, receipt_for(world.alice.user), {**values, "narrative": "另一段"})


def test_the_same_members_in_another_order_or_case_are_the_same_visit(session, world):
    values = visit_values(members=[world.bob.code, world.alice.code])
    first = visits.record_visit(session, receipt_for(world.alice.user), values)
    again = visits.record_visit(session, receipt_for(world.alice.user),
                                {**values, "members": [world.alice.code.lower(), world.bob.code, world.bob.code]})
    assert first.created and not again.created


@pytest.mark.parametrize("change, field", [
    ({"members": ["JLQ-A01"]}, "members"),
    ({"members": ["NOPE-Z99"]}, "members"),
    ({"ended_at": at(12, 9)}, "ended_at"),
    ({"location": GivenLocation(200.0, 29.5)}, "location.coordinates"),
])
def test_a_visit_names_only_its_own_squads_members_and_a_sensible_time_and_place(session, world, change, field):
    with pytest.raises(InvalidInput) as err:
        _visit(session, world.alice, **change)
    assert err.value.fields[0].field == field


def test_a_visit_may_belong_only_to_a_task_of_the_senders_squad(session, world):
    theirs = task_for(session, world, squad_id=world.other_squad.id)
    with pytest.raises(InvalidInput) as err:
        _visit(session, world.alice, task_id=theirs.id)
    assert err.value.fields[0].field == "task_id"


def test_only_squad_members_in_a_squad_record_visits(session, world, make_user):
    from field.directory import squads

    with pytest.raises(NotAllowed):
        visits.record_visit(session, receipt_for(world.reviewer), visit_values())
    with pytest.raises(NotFound):
        visits.record_visit(session, receipt_for(make_user(Role.inspector)), visit_values())
    values = visit_values()
    visits.record_visit(session, receipt_for(world.bob.user), values)
    squads.discharge(session, world.admin, world.bob.member)
    with pytest.raises(NotAllowed):
        _visit(session, world.bob)
    # A repeat of what was stored before leaving still gets its receipt.
    assert not visits.record_visit(session, receipt_for(world.bob.user), values).created


def test_visits_are_seen_by_their_sender_and_the_office_only(session, world, make_user):
    visit = _visit(session, world.alice).record
    assert visits.get_visit(session, world.reviewer, visit.id).id == visit.id
    for user in (world.bob.user, make_user(Role.inspector)):
        with pytest.raises(NotFound):
            visits.get_visit(session, user, visit.id)
    assert session.execute(visits.visits_query(world.bob.user)).scalars().all() == []


def test_an_amended_visit_is_a_new_version_with_the_new_members(session, world):
    visit = _visit(session, world.alice).record
    records.review(session, world.reviewer, visit, ReviewState.needs_info, "谁一起去的？")
    amended = visit_values(members=[world.bob.code], narrative="与 B 一同前往。", amendment_note="补充同行人")
    visits.amend_visit(session, world.alice.user, visit, amended)
    assert visit.version == 2 and visit.review_state is ReviewState.submitted
    assert sorted(m.code for m in visit.members) == sorted([world.alice.code, world.bob.code])
    assert [v.body["narrative"] for v in records.versions(session, visit)][-1] == "与 B 一同前往。"


def test_a_visit_is_located_in_wgs84_whatever_the_phone_sent(session, world):
    visit = _visit(session, world.alice, location=GivenLocation(106.5, 29.5, "bd09")).record
    session.commit()
    stored = session.execute(select(Visit).where(Visit.id == visit.id)).scalar_one()
    near = session.execute(select(func.count()).select_from(Visit).where(
        geo.within_radius(session, FieldRecord.location, stored.position.lon, stored.position.lat, 1))).scalar()
    assert near == 1 and stored.position.distance_m(106.5, 29.5) > 500


def test_a_visits_photos_are_expected_during_the_visit_give_or_take_an_hour(session, world):
    from datetime import timedelta

    from field.attachments import links

    visit = _visit(session, world.alice).record
    start, end = links.record_window(visit, links.current_thresholds())
    assert (start, end) == (at(12, 8, 40), at(12, 11, 10))
    assert end - start == visit.ended_at - visit.started_at + timedelta(hours=2)
