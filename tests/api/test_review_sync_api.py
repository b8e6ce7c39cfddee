"""A phone learns the review state and comments of its own records through the sync feed."""

import uuid

from field.records import lifecycle as records
from field.core.models.records import FieldRecord, ReviewState
from field.core.models.platform import Role
from field.core.models.base import utcnow


def _changes(client, headers, cursor=None):
    resp = client.get("/api/v1/sync", headers=headers, query_string={"cursor": cursor} if cursor else {})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _submit(session, user):
    record = records.submit(session, FieldRecord, uuid.uuid4(), {"n": 1}, records.Receipt(user, None, None),
                            lambda: FieldRecord(jurisdiction_id=user.jurisdiction_id, device_time=utcnow())).record
    session.commit()
    return record


def test_a_review_and_its_comment_reach_the_submitters_phone(client, session, make_user, login):
    submitter, reviewer = make_user(Role.squad_member), make_user(Role.reviewer)
    headers = login(submitter)
    cursor = _changes(client, headers)["cursor"]
    record = _submit(session, submitter)
    records.review(session, reviewer, record, ReviewState.needs_info, "Which window was it?")
    session.commit()
    feed = _changes(client, headers, cursor)
    reviews = [c for c in feed["changes"] if c["entity"] == "record_review"]
    assert [c["id"] for c in reviews] == [str(record.id)]
    data = reviews[0]["data"]
    assert data["review_state"] == "needs_info"
    assert [c["body"] for c in data["comments"]] == ["Which window was it?"]


def test_nobody_else_in_the_field_receives_another_users_review(client, session, make_user, login):
    submitter, other, reviewer = make_user(Role.squad_member), make_user(Role.squad_member), make_user(Role.reviewer)
    headers = login(other)
    cursor = _changes(client, headers)["cursor"]
    record = _submit(session, submitter)
    records.review(session, reviewer, record, ReviewState.accepted, None)
    session.commit()
    feed = _changes(client, headers, cursor)
    assert not [c for c in feed["changes"] if c["entity"] == "record_review"]
