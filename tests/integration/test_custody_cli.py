"""The custody commands on a database of their own: verify reads malformed rows without crashing."""

from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, literal_column, select, text, update
from sqlalchemy.exc import DBAPIError

from api.cli import main
from evidence import custody
from field import migrate
from field.db import make_engine, make_session_factory
from field.models import CustodyChain, CustodyEntry, utcnow
from tests.conftest import fresh_database_url


@pytest.fixture
def cli(backend, tmp_path, monkeypatch):
    url = fresh_database_url(backend, tmp_path, "_custody")
    migrate.upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("EVIDENCE_DIR", str(tmp_path / "evidence"))
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, [str(a) for a in args])
    run.url = url
    run.engine = make_engine(url)
    assert run("seed-demo").exit_code == 0
    yield run
    run.engine.dispose()


def jurisdiction_id(engine, code: str) -> uuid.UUID:
    with engine.connect() as conn:
        value = conn.execute(text("SELECT id FROM jurisdictions WHERE code = :c"), {"c": code}).scalar()
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def append(engine, code: str, n: int) -> None:
    jid = jurisdiction_id(engine, code)
    with make_session_factory(engine)() as session:
        for i in range(n):
            custody.record(session, jurisdiction_id=jid, kind="record.created",
                           subject_type="finding", subject_id=f"f-{i}", data={"i": i})
        session.commit()


def append_raw(engine, code: str, **raw_sql) -> int:
    """Append an entry with INSERT, some columns given as raw SQL the ORM would never write; moves the head.

    The append-only triggers refuse UPDATE and DELETE, not INSERT: this is what a buggy writer or
    someone with database access can leave behind.
    """
    jid = jurisdiction_id(engine, code)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":  # as the sqlite3 shell would: no foreign-key checks
            conn.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
        conn.begin()
        seq, prev = conn.execute(select(CustodyChain.head_seq, CustodyChain.head_hash)
                                 .where(CustodyChain.jurisdiction_id == jid)).one()
        values = {"jurisdiction_id": jid, "seq": seq + 1, "occurred_at": utcnow(), "kind": "record.created",
                  "subject_type": "finding", "subject_id": "raw", "actor_id": None, "device_id": None,
                  "data": {}, "prev_hash": prev, "hash": "f" * 64}
        values.update({name: literal_column(sql) for name, sql in raw_sql.items()})
        conn.execute(insert(CustodyEntry.__table__).values(**values))
        conn.execute(update(CustodyChain).where(CustodyChain.jurisdiction_id == jid)
                     .values(head_seq=seq + 1, head_hash="f" * 64))
        conn.commit()
        if engine.dialect.name == "sqlite":
            conn.connection.driver_connection.execute("PRAGMA foreign_keys = ON")
    return seq + 1


#: Malformed columns as raw SQL, per database: PostgreSQL's own types refuse most of them on insert.
DEEP_JSON = "'" + "[" * 3000 + "]" * 3000 + "'"
MALFORMED = {
    "an empty device id": ("sqlite", {"device_id": "''"}, "device_id"),
    "an actor that is not a UUID": ("sqlite", {"actor_id": "'not-a-uuid'"}, "actor_id"),
    "data that is not JSON": ("sqlite", {"data": "'{\"i\": '"}, "data"),
    "a time that is not a time": ("sqlite", {"occurred_at": "'not a time'"}, "occurred_at"),
    "data nested 3,000 deep": (None, {"data": DEEP_JSON}, "data"),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_verify_reports_a_malformed_entry_as_broken_goes_on_and_exits_1(cli, case):
    dialect, raw, column = MALFORMED[case]
    append(cli.engine, "500107", 2)
    if dialect is not None and cli.engine.dialect.name != dialect:
        with pytest.raises(DBAPIError):  # PostgreSQL's types refuse the row: nothing to read back
            append_raw(cli.engine, "500107", **raw)
        return
    bad_seq = append_raw(cli.engine, "500107", **raw)
    append(cli.engine, "500107001", 2)
    other = jurisdiction_id(cli.engine, "500107001")
    with cli.engine.begin() as conn:  # the other chain is broken too: verify must get there
        conn.execute(update(CustodyChain).where(CustodyChain.jurisdiction_id == other).values(head_hash="0" * 64))
    result = cli("verify")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 1, result.output
    assert "custody chains checked: 2" in result.output
    assert f"BROKEN chain of jurisdiction 500107 at entry {bad_seq}: the entry cannot be read ({column}:" \
        in result.output
    assert "BROKEN chain of jurisdiction 500107001 at entry" in result.output
    assert "originals checked: 0" in result.output
