"""The change log under the feed: written at commit in commit order, read past a cursor without gaps."""

import threading
import time
import uuid

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from field.core import sync
from field.core.models.platform import Role
from field.core.models.changes import Change


def test_changes_are_written_when_the_transaction_commits_and_forgotten_when_it_rolls_back(session, tree):
    jurisdiction = tree["home"].id
    before = session.execute(select(Change.seq)).all()
    sync.record(session, "unit", uuid.uuid4(), jurisdiction)
    assert session.execute(select(Change.seq)).all() == before
    session.rollback()
    session.commit()
    assert session.execute(select(Change.seq)).all() == before
    kept = uuid.uuid4()
    sync.record(session, "unit", kept, [jurisdiction, jurisdiction, None])
    session.commit()
    rows = session.execute(select(Change.entity_id, Change.jurisdiction_id)).all()
    assert rows[len(before):] == [(kept, jurisdiction)]


def test_an_unknown_audience_kind_is_a_programming_error(session, tree):
    with pytest.raises(ValueError):
        sync.record(session, "unit", uuid.uuid4(), tree["home"].id, sync.Audience("nobody", uuid.uuid4()))


def test_a_user_gets_only_entries_of_their_scope_and_audience(session, tree, make_user):
    inspector = make_user(Role.inspector)
    reviewer = make_user(Role.reviewer)
    everyone, for_inspector, for_someone_else, elsewhere = (uuid.uuid4() for _ in range(4))
    sync.record(session, "test", everyone, tree["home_street"].id)
    sync.record(session, "test", for_inspector, tree["home"].id, sync.Audience("user", inspector.id))
    sync.record(session, "test", for_someone_else, tree["home"].id, sync.Audience("user", uuid.uuid4()))
    sync.record(session, "test", elsewhere, tree["other"].id)
    session.commit()
    sync.register_feed("test", lambda s, u, ids: {i: object() for i in ids})
    try:
        seen = {e.id for e in sync.changes_since(session, inspector, None).changes}
        office = {e.id for e in sync.changes_since(session, reviewer, None).changes}
    finally:
        del sync.FEEDS["test"]
    assert seen == {everyone, for_inspector}
    assert office == {everyone, for_inspector, for_someone_else}


def _wait_until_waiting_for_a_lock(engine, pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    with Session(engine) as observer:
        while time.monotonic() < deadline:
            waiting = observer.execute(text(
                "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}).scalar()
            observer.rollback()
            if waiting:
                return
            time.sleep(0.01)
    raise AssertionError(f"backend {pid} never waited for the writers' lock")


def test_on_postgresql_a_change_committed_first_never_hides_one_still_in_flight(engine, backend):
    """Writer A writes its entry and stays open; writer B, begun later, commits first.

    With a plain sequence cursor, a reader between B's commit and A's would see B's entry,
    move its cursor past A's (lower) number, and never see A's change. Here B waits for A at
    its commit, so entries become visible in number order.
    """
    if backend != "postgis":
        pytest.skip("SQLite serialises every transaction (BEGIN IMMEDIATE): nothing runs in between")
    marker = f"race-{uuid.uuid4().hex[:8]}"
    jurisdiction = uuid.uuid4()

    def visible() -> list[int]:
        with Session(engine) as reader:
            return list(reader.execute(select(Change.seq).where(Change.entity == marker)
                                       .order_by(Change.seq)).scalars())

    a, b = Session(engine), Session(engine)
    committed = []
    try:
        sync.record(a, marker, uuid.uuid4(), jurisdiction)
        sync.write_pending(a)  # A holds the writers' lock with its entry written, uncommitted
        sync.record(b, marker, uuid.uuid4(), jurisdiction)
        b_pid = b.execute(text("SELECT pg_backend_pid()")).scalar_one()
        b_thread = threading.Thread(target=lambda: (b.commit(), committed.append("b")))
        b_thread.start()
        _wait_until_waiting_for_a_lock(engine, b_pid)
        assert committed == [] and visible() == []
        a.commit()
        committed.append("a")
        b_thread.join(10)
        assert committed == ["a", "b"]
        first, second = visible()
        assert first < second
    finally:
        a.close()
        b.close()
        with Session(engine) as cleanup:
            cleanup.execute(delete(Change).where(Change.entity == marker))
            cleanup.commit()
