"""Custody entries are linked in their transaction's final step, not when they are made.

What holds: a savepoint rolled back takes its entries with it; a rolled-back transaction moves
no head; a transaction that has appended but not committed holds no lock, so another writer of
the same district commits past it; many entries of one transaction take the head once.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select, text

from field.accounts import jurisdictions
from field.core.db import make_session_factory
from field.core.models.platform import JurisdictionLevel
from field.custody import chain as custody
from field.custody.models import CustodyChain, CustodyEntry
from tests.conftest import own_database


def _add(session, jurisdiction, subject: str):
    return custody.record(session, jurisdiction_id=jurisdiction.id, kind="record.created",
                          subject_type="finding", subject_id=subject)


def _subjects(session, jurisdiction) -> list[str]:
    return list(session.execute(select(CustodyEntry.subject_id).where(
        CustodyEntry.jurisdiction_id == jurisdiction.id).order_by(CustodyEntry.seq)).scalars())


def test_a_savepoint_rolled_back_takes_its_entries_and_only_them(session, tree):
    home = tree["home"]
    _add(session, home, "before")
    with pytest.raises(ValueError):
        with session.begin_nested():
            _add(session, home, "inner-dropped")
            with session.begin_nested():
                _add(session, home, "innermost-dropped")
            raise ValueError
    with session.begin_nested():
        _add(session, home, "inner-kept")
    _add(session, home, "after")
    session.commit()
    assert _subjects(session, home) == ["before", "inner-kept", "after"]
    assert custody.verify_all_chains(session) == (1, [])


def test_a_rolled_back_transaction_moves_no_head_and_leaves_nothing_pending(session, tree):
    home = tree["home"]
    _add(session, home, "kept")
    session.commit()
    _add(session, home, "dropped")
    assert custody.has_pending(session)
    session.rollback()
    assert not custody.has_pending(session)
    session.commit()
    assert _subjects(session, home) == ["kept"]
    assert session.get(CustodyChain, home.id).head_seq == 1


def test_the_entries_of_one_transaction_take_each_head_once(session, tree, engine):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()).upper())

    _add(session, tree["home"], "start")
    _add(session, tree["other"], "start")
    session.commit()  # both chains exist: what follows is the steady state
    for i in range(50):
        _add(session, tree["home"], f"h-{i}")
    _add(session, tree["other"], "o-0")
    event.listen(engine, "before_cursor_execute", count)
    try:
        session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    head_locks = [s for s in statements if s.startswith("SELECT CUSTODY_CHAINS.HEAD_SEQ")]
    appends = [s for s in statements if s.startswith("INSERT INTO CUSTODY_ENTRIES")]
    assert len(head_locks) == 2 and len(appends) == 1, statements
    assert len(_subjects(session, tree["home"])) == 51 and custody.verify_all_chains(session) == (2, [])


@pytest.fixture
def committed(backend, tmp_path):
    """A database of its own, committed for real: two writers on two connections."""
    if backend != "postgis":
        pytest.skip("row locks between two connections are PostgreSQL's; SQLite serialises writers whole")
    with own_database(backend, tmp_path, "_link") as engine:
        yield make_session_factory(engine)


def test_a_writer_that_has_appended_but_not_committed_blocks_no_other_writer(committed):
    factory = committed
    with factory() as setup:
        district = jurisdictions.create_jurisdiction(setup, actor=None, code="500000", name="重庆市",
                                                     level=JurisdictionLevel.province)
        _add(setup, district, "first")
        setup.commit()
    slow, quick = factory(), factory()
    try:
        slow.execute(text("SET lock_timeout = '2s'"))
        quick.execute(text("SET lock_timeout = '2s'"))
        _add(slow, district, "slow")
        slow.flush()
        _add(quick, district, "quick")
        quick.commit()  # would wait on the head (and time out) if the slow writer held it
        slow.commit()
    finally:
        slow.close()
        quick.close()
    with factory() as check:
        assert _subjects(check, district) == ["first", "quick", "slow"]
        assert check.scalar(select(func.count()).select_from(CustodyEntry)) == 3
        assert custody.verify_all_chains(check) == (1, [])
