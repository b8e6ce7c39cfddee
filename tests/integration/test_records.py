"""Offline-safe submission and review, for any kind of record (a test-only kind here)."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from field.custody import chain as custody
from field.records import lifecycle as records
from field.core.errors import Conflict, InvalidInput, InvalidTransition, NotAllowed, NotFound
from field.core.models.records import FieldRecord, RecordVersion, ReviewState
from field.core.models.platform import Role
from field.core.models.base import utcnow


class Note(FieldRecord):
    """A record kind with no table of its own, for testing the envelope alone."""

    __mapper_args__ = {"polymorphic_identity": "test_note"}


def _receipt(user, sent_at=None):
    return records.Receipt(user=user, device_id=None, device_sent_at=sent_at)


def _submit(session, user, record_id, body, sent_at=None):
    def build():
        return Note(jurisdiction_id=user.jurisdiction_id,
                    device_time=datetime.fromisoformat(body["device_time"]), category_code=body.get("category"))
    return records.submit(session, Note, record_id, body, _receipt(user, sent_at), build)


BODY = {"device_time": "2026-05-01T09:30:00+08:00", "category": "rude_service"}


def test_a_record_is_created_once_however_often_it_is_sent(session, make_user):
    user, rid = make_user(Role.squad_member), uuid.uuid4()
    first = _submit(session, user, rid, BODY)
    again = _submit(session, user, rid, dict(reversed(list(BODY.items()))))  # key order does not matter
    assert first.created and not again.created and again.record.id == rid
    assert session.execute(select(func.count()).select_from(FieldRecord).where(FieldRecord.id == rid)).scalar() == 1


def test_the_same_id_with_another_body_is_a_conflict_that_changes_nothing(session, make_user):
    user, rid = make_user(Role.squad_member), uuid.uuid4()
    _submit(session, user, rid, BODY)
    with pytest.raises(Conflict) as err:
        _submit(session, user, rid, {**BODY, "category": "delays"})
    assert err.value.fields[0].field == "id"
    session.expire_all()
    assert session.get(FieldRecord, rid).category_code == "rude_service"


def test_someone_elses_id_is_a_conflict_not_a_leak(session, make_user):
    alice, bob, rid = make_user(Role.squad_member), make_user(Role.squad_member), uuid.uuid4()
    _submit(session, alice, rid, BODY)
    with pytest.raises(Conflict):
        _submit(session, bob, rid, BODY)


def test_both_clocks_are_kept_and_a_far_off_device_clock_is_flagged_not_refused(session, make_user):
    user = make_user(Role.squad_member)
    fine = _submit(session, user, uuid.uuid4(), BODY, sent_at=utcnow() - timedelta(seconds=20)).record
    off = _submit(session, user, uuid.uuid4(), {**BODY, "n": 2}, sent_at=utcnow() - timedelta(hours=3)).record
    assert fine.device_time == datetime(2026, 5, 1, 1, 30, tzinfo=timezone.utc)
    assert fine.received_at.tzinfo is not None and not fine.flag_clock_skew
    assert off.flag_clock_skew and off.clock_skew_s == pytest.approx(3 * 3600, abs=60)


def test_creation_writes_the_first_version_and_a_custody_entry(session, make_user):
    user, rid = make_user(Role.squad_member), uuid.uuid4()
    record = _submit(session, user, rid, BODY).record
    assert [v.version for v in records.versions(session, record)] == [1]
    assert [e.kind for e in custody.history(session, "test_note", rid)] == ["record.created"]


def test_review_moves_through_the_allowed_states_and_refuses_the_rest(session, make_user):
    user, reviewer = make_user(Role.squad_member), make_user(Role.reviewer)
    record = _submit(session, user, uuid.uuid4(), BODY).record
    records.review(session, reviewer, record, ReviewState.in_review, None)
    records.review(session, reviewer, record, ReviewState.accepted, "Clear photos.")
    with pytest.raises(InvalidTransition) as err:
        records.review(session, reviewer, record, ReviewState.rejected, "changed my mind")
    assert err.value.extra["allowed"] == []
    assert [(c.state_from, c.state_to) for c in records.comments(session, record)] == [
        (ReviewState.submitted, ReviewState.in_review), (ReviewState.in_review, ReviewState.accepted)]


def test_asking_for_more_information_needs_a_reason(session, make_user):
    user, reviewer = make_user(Role.squad_member), make_user(Role.reviewer)
    record = _submit(session, user, uuid.uuid4(), BODY).record
    with pytest.raises(InvalidInput) as err:
        records.review(session, reviewer, record, ReviewState.needs_info, "  ")
    assert err.value.fields[0].field == "comment"


def test_only_office_staff_review(session, make_user):
    user = make_user(Role.squad_member)
    record = _submit(session, user, uuid.uuid4(), BODY).record
    with pytest.raises(NotAllowed):
        records.review(session, make_user(Role.inspector), record, ReviewState.accepted, None)


def test_an_amendment_keeps_every_version_and_goes_back_to_submitted(session, make_user):
    user, reviewer = make_user(Role.squad_member), make_user(Role.reviewer)
    record = _submit(session, user, uuid.uuid4(), BODY).record
    records.review(session, reviewer, record, ReviewState.needs_info, "Which window was it?")
    amended = {**BODY, "category": "delays", "window": "3"}

    def apply():
        record.category_code = "delays"

    records.amend(session, user, record, amended, apply, "Window 3.")
    records.amend(session, user, record, amended, apply, "Window 3.")  # the phone sent it twice
    assert record.version == 2 and record.review_state is ReviewState.submitted
    assert [v.body.get("window") for v in records.versions(session, record)] == [None, "3"]
    assert session.execute(select(func.count()).select_from(RecordVersion)
                           .where(RecordVersion.record_id == record.id)).scalar() == 2


def test_amending_is_only_for_records_that_need_more_information(session, make_user):
    user = make_user(Role.squad_member)
    record = _submit(session, user, uuid.uuid4(), BODY).record
    with pytest.raises(InvalidTransition):
        records.amend(session, user, record, {**BODY, "x": 1}, lambda: None)


def test_a_submitter_sees_their_own_records_only_and_office_staff_their_scope(session, make_user, tree):
    alice, bob = make_user(Role.squad_member), make_user(Role.squad_member)
    rid = _submit(session, alice, uuid.uuid4(), BODY).record.id
    assert records.get_record(session, alice, rid).id == rid
    with pytest.raises(NotFound):
        records.get_record(session, bob, rid)
    assert records.get_record(session, make_user(Role.reviewer), rid).id == rid
    with pytest.raises(NotFound):
        records.get_record(session, make_user(Role.reviewer, jurisdiction=tree["other"]), rid)


def test_the_queue_is_oldest_first_in_scope_and_filterable(session, make_user, tree):
    user = make_user(Role.squad_member)
    elsewhere = make_user(Role.squad_member, jurisdiction=tree["other"])
    ids = [_submit(session, user, uuid.uuid4(), {**BODY, "n": i}).record.id for i in range(3)]
    _submit(session, elsewhere, uuid.uuid4(), BODY)
    late = _submit(session, user, uuid.uuid4(), {**BODY, "category": "delays"}).record
    reviewer = make_user(Role.reviewer)
    stmt = records.review_queue(session, reviewer).order_by(FieldRecord.received_at, FieldRecord.id)
    queued = [r.id for r in session.execute(stmt).scalars()]
    assert queued[:3] == ids and queued[3] == late.id and len(queued) == 4
    only_delays = session.execute(records.review_queue(session, reviewer, category="delays")).scalars().all()
    assert [r.id for r in only_delays] == [late.id]
