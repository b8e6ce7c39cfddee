"""Leader visits on the database: only the point's leader, within its active span, flagged when far, scoped."""

import uuid
from datetime import date, datetime

import pytest

from field.reports import leader_visits
from field.records import lifecycle as records
from field.core.locations import GivenLocation
from field.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from field.core.models.records import ReviewState
from field.core.models.platform import Role
from tests.reports_fixtures import (  # noqa: F401 (fixtures)
    SITE,
    enterprise,
    leader,
    liaison,
    make_enterprise,
    make_point,
    make_unit,
    point,
    reviewer,
    send_visit,
    set_point,
)

#: About 1.1 km north of the site.
AWAY = (SITE[0], SITE[1] + 0.01)


def test_the_points_leader_logs_a_visit_on_site_with_its_distance(session, leader, point):
    visit = send_visit(session, leader, point, notes=" 了解用工困难 ").record
    assert (visit.point_id, visit.enterprise_id, visit.jurisdiction_id) == (
        point.id, point.enterprise_id, point.jurisdiction_id)
    assert visit.kind == "leader_visit" and visit.notes == "了解用工困难"
    assert visit.distance_m == pytest.approx(0, abs=0.01) and not visit.flag_far_from_target
    assert visit.visited_at == datetime.fromisoformat("2026-05-06T09:30:00+08:00")


def test_a_visit_far_from_the_enterprise_is_flagged_unless_its_accuracy_could_explain_it(session, leader, point):
    far = send_visit(session, leader, point, at=AWAY, accuracy_m=20).record
    vague = send_visit(session, leader, point, at=AWAY, accuracy_m=900).record
    assert far.flag_far_from_target and far.distance_m == pytest.approx(1112, rel=0.01)
    assert not vague.flag_far_from_target
    assert send_visit(session, leader, point, at=AWAY, far_m=2000).record.flag_far_from_target is False


def test_an_enterprise_without_a_location_gives_no_distance_and_no_flag(session, leader, make_enterprise,
                                                                        make_point):
    unplaced = make_point(make_enterprise("无坐标企业"), leader=leader)
    visit = send_visit(session, leader, unplaced, at=AWAY).record
    assert visit.distance_m is None and not visit.flag_far_from_target


def test_only_the_points_own_leader_logs_visits_to_it(session, point, make_user, liaison):
    with pytest.raises(InvalidInput) as err:
        send_visit(session, make_user(Role.leader), point)
    assert err.value.fields[0].field == "point_id"
    with pytest.raises(NotAllowed):
        send_visit(session, liaison, point)


def test_a_visit_outside_the_points_active_span_or_in_the_future_is_refused(session, leader, point, set_point):
    set_point(point, active_from=date(2026, 1, 1), active_to=date(2026, 6, 30))
    for when in ("2025-12-31T23:59:00+08:00", "2026-07-01T00:00:00+08:00", "2999-01-01T00:00:00+08:00"):
        with pytest.raises(InvalidInput) as err:
            send_visit(session, leader, point, visited_at=datetime.fromisoformat(when))
        assert err.value.fields[0].field == "visited_at"
    # The span is in China time: 16:30 UTC on 31 Dec is already 1 Jan in the office.
    assert send_visit(session, leader, point, visited_at=datetime.fromisoformat("2025-12-31T16:30:00+00:00")).created


def test_a_visit_is_stored_once_and_another_body_under_its_id_is_a_conflict(session, leader, point):
    vid = uuid.uuid4()
    assert send_visit(session, leader, point, vid).created
    assert not send_visit(session, leader, point, vid).created
    with pytest.raises(Conflict):
        send_visit(session, leader, point, vid, notes="另一条")


def test_visits_are_seen_by_the_office_and_the_points_leader_only(session, leader, point, reviewer, make_user,
                                                                  liaison, tree):
    visit = send_visit(session, leader, point).record
    assert leader_visits.get_visit(session, reviewer, visit.id).id == visit.id
    assert leader_visits.get_visit(session, leader, visit.id).id == visit.id
    for viewer in (make_user(Role.leader), liaison, make_user(Role.inspector),
                   make_user(Role.reviewer, jurisdiction=tree["other"])):
        with pytest.raises(NotFound):
            leader_visits.get_visit(session, viewer, visit.id)


def test_a_new_leader_sees_their_predecessors_visits_to_the_point(session, leader, point, make_user, set_point):
    visit = send_visit(session, leader, point).record
    successor = make_user(Role.leader)
    set_point(point, leader_id=successor.id)
    assert leader_visits.get_visit(session, successor, visit.id).id == visit.id
    assert leader_visits.get_visit(session, leader, visit.id).id == visit.id  # they logged it


def test_an_amendment_is_checked_again_and_recomputes_the_distance(session, leader, point, reviewer):
    visit = send_visit(session, leader, point, at=AWAY).record
    records.review(session, reviewer, visit, ReviewState.needs_info, "位置不对")
    leader_visits.amend_visit(session, leader, visit, note="补正", point_id=point.id,
                              device_time=visit.device_time, visited_at=visit.visited_at,
                              location=GivenLocation(*SITE))
    assert visit.version == 2 and not visit.flag_far_from_target and visit.distance_m < 1
