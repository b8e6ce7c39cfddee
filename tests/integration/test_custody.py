"""The custody log: append-only, hash-chained per jurisdiction, and checked by a walk."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from field.custody import chain as custody
from field.custody.models import CustodyEntry
from field.custody.models import DROP_APPEND_ONLY_DDL


def _log(session, jurisdiction, n, **kw):
    """``n`` entries, linked as the transaction's commit links them."""
    entries = [custody.record(session, jurisdiction_id=jurisdiction.id, kind="record.created",
                              subject_type="finding", subject_id=f"f-{i}", data={"i": i, **kw})
               for i in range(n)]
    custody.link_pending(session)
    return entries


def test_entries_chain_from_genesis_without_gaps(session, tree):
    entries = _log(session, tree["home"], 3)
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == custody.GENESIS
    assert entries[1].prev_hash == entries[0].hash and entries[2].prev_hash == entries[1].hash


def test_each_jurisdiction_has_its_own_chain(session, tree):
    a = _log(session, tree["home"], 2)
    b = _log(session, tree["other"], 1)
    assert [e.seq for e in a] == [1, 2] and b[0].seq == 1 and b[0].prev_hash == custody.GENESIS


def test_an_intact_log_verifies(session, tree):
    _log(session, tree["home"], 5)
    _log(session, tree["other"], 2)
    chains, breaks = custody.verify_all_chains(session)
    assert chains == 2 and breaks == []


def test_the_database_refuses_to_update_or_delete_log_entries(session, tree):
    _log(session, tree["home"], 1)
    for statement in ("UPDATE custody_entries SET kind = 'forged'", "DELETE FROM custody_entries"):
        with pytest.raises(DBAPIError, match="append-only"):
            with session.begin_nested():
                session.execute(text(statement))


def _disable_guard(session):
    """What someone with direct database access could do; verify must still notice."""
    for statement in DROP_APPEND_ONLY_DDL[session.get_bind().dialect.name]:
        session.execute(text(statement))


def test_an_edited_entry_is_named_by_verify(session, tree):
    _log(session, tree["home"], 4)
    _disable_guard(session)
    session.execute(text("UPDATE custody_entries SET data = :d WHERE seq = 2"), {"d": '{"i": 99}'})
    session.expire_all()
    _, breaks = custody.verify_all_chains(session)
    assert [(b.seq, b.reason) for b in breaks] == [(2, "its content no longer matches its hash")]


def test_a_deleted_entry_is_named_by_verify(session, tree):
    _log(session, tree["home"], 4)
    _disable_guard(session)
    session.execute(text("DELETE FROM custody_entries WHERE seq = 3"))
    session.expire_all()
    _, breaks = custody.verify_all_chains(session)
    assert breaks[0].seq == 3 and "missing" in breaks[0].reason


def test_a_deleted_last_entry_is_noticed_by_the_chain_head(session, tree):
    _log(session, tree["home"], 3)
    _disable_guard(session)
    session.execute(text("DELETE FROM custody_entries WHERE seq = 3"))
    session.expire_all()
    _, breaks = custody.verify_all_chains(session)
    assert breaks and breaks[0].seq == 3


def test_history_lists_one_subjects_entries_in_order(session, tree):
    for kind in ("record.created", "record.reviewed"):
        custody.record(session, jurisdiction_id=tree["home"].id, kind=kind,
                       subject_type="case", subject_id="c-1")
    custody.record(session, jurisdiction_id=tree["home"].id, kind="record.created",
                   subject_type="case", subject_id="c-2")
    assert [e.kind for e in custody.history(session, "case", "c-1")] == ["record.created", "record.reviewed"]


def test_times_and_ids_in_data_are_stored_as_they_were_hashed(session, tree):
    import uuid
    from datetime import datetime, timezone

    e = custody.record(session, jurisdiction_id=tree["home"].id, kind="x", subject_type="y", subject_id="z",
                       data={"at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "id": uuid.UUID(int=7)})
    custody.link_pending(session)
    session.expire_all()
    stored = session.get(CustodyEntry, (tree["home"].id, e.seq))
    assert custody.entry_hash(stored) == stored.hash
