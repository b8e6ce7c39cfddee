"""The custody commands on a database of their own: verify reads malformed rows without crashing."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, insert, literal_column, select, text, update
from sqlalchemy.exc import DBAPIError

from cli import main
from field.custody import chain as custody
from field.core import migrate
from field.core.db import make_engine, make_session_factory
from field.custody.models import CustodyChain, CustodyCheckpoint, CustodyEntry
from field.core.models.base import utcnow
from field.custody.models import DROP_APPEND_ONLY_DDL, DROP_CHECKPOINTS_APPEND_ONLY_DDL
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


# -- checkpoints ---------------------------------------------------------------------------------------


def drop_guards(engine) -> None:
    """What someone with the database's superuser can do: the append-only triggers go first."""
    with engine.begin() as conn:
        for statement in (DROP_APPEND_ONLY_DDL[engine.dialect.name]
                          + DROP_CHECKPOINTS_APPEND_ONLY_DDL[engine.dialect.name]):
            conn.execute(text(statement))


def truncate(engine, code: str, keep: int) -> None:
    """Remove a chain's entries after ``keep`` and wind its head back to entry ``keep``: a shorter log
    that links up perfectly."""
    jid = jurisdiction_id(engine, code)
    with engine.begin() as conn:
        conn.execute(delete(CustodyEntry).where(CustodyEntry.jurisdiction_id == jid, CustodyEntry.seq > keep))
        kept = conn.execute(select(CustodyEntry.hash).where(CustodyEntry.jurisdiction_id == jid,
                                                            CustodyEntry.seq == keep)).scalar_one()
        conn.execute(update(CustodyChain).where(CustodyChain.jurisdiction_id == jid)
                     .values(head_seq=keep, head_hash=kept))


def test_a_log_wound_back_passes_plain_verify_and_is_caught_by_its_checkpoint(cli, tmp_path):
    append(cli.engine, "500107", 5)
    append(cli.engine, "500107001", 2)
    signed = cli("checkpoint", "--out", tmp_path / "checkpoint.txt")
    assert signed.exit_code == 0, signed.output
    assert "of 2 chains" in signed.output
    note = (tmp_path / "checkpoint.txt").read_text(encoding="utf-8")
    assert "\n500107 5 " in note and "\n500107001 2 " in note and "\n\n\u2014 fieldwatch.local/custody " in note

    drop_guards(cli.engine)
    truncate(cli.engine, "500107", keep=3)
    with cli.engine.begin() as conn:
        conn.execute(delete(CustodyCheckpoint))  # the stored copy goes too: only the file remains
    plain = cli("verify")
    assert plain.exit_code == 0, plain.output  # the hole: a shorter log that links up verifies
    assert "custody log intact" in plain.output

    checked = cli("verify", "--checkpoint", tmp_path / "checkpoint.txt")
    assert checked.exit_code == 1, checked.output
    assert (f"BROKEN chain of jurisdiction 500107 (checkpoint {tmp_path / 'checkpoint.txt'}) at entry 4: "
            "the log ends at entry 3, but the checkpoint of") in checked.output
    assert "entries were removed and the head wound back" in checked.output
    assert "jurisdiction 500107001" not in checked.output  # the other chain still extends it


def test_a_wound_back_log_grown_past_the_checkpoint_is_caught_by_the_changed_hash(cli, tmp_path):
    append(cli.engine, "500107", 4)
    assert cli("checkpoint", "--out", tmp_path / "c.txt").exit_code == 0
    drop_guards(cli.engine)
    truncate(cli.engine, "500107", keep=2)
    append(cli.engine, "500107", 3)  # entries 3, 4, 5 written anew
    with cli.engine.begin() as conn:
        conn.execute(delete(CustodyCheckpoint))
    assert cli("verify").exit_code == 0
    checked = cli("verify", "--checkpoint", tmp_path / "c.txt")
    assert checked.exit_code == 1
    assert "BROKEN chain of jurisdiction 500107" in checked.output and "at entry 4: its hash is now" in checked.output


def test_plain_verify_checks_the_log_against_the_newest_stored_checkpoint(cli, tmp_path):
    append(cli.engine, "500107", 4)
    assert cli("checkpoint", "--out", tmp_path / "c.txt").exit_code == 0
    assert "newest stored checkpoint" in cli("verify").output
    drop_guards(cli.engine)
    truncate(cli.engine, "500107", keep=2)
    result = cli("verify")
    assert result.exit_code == 1
    assert "BROKEN chain of jurisdiction 500107 (newest stored checkpoint) at entry 3" in result.output


def test_an_edited_checkpoint_file_fails_its_signature(cli, tmp_path):
    append(cli.engine, "500107", 3)
    assert cli("checkpoint", "--out", tmp_path / "c.txt").exit_code == 0
    note = (tmp_path / "c.txt").read_text(encoding="utf-8")
    (tmp_path / "forged.txt").write_text(note.replace("\n500107 3 ", "\n500107 2 "), encoding="utf-8")
    result = cli("verify", "--checkpoint", tmp_path / "forged.txt")
    assert result.exit_code == 1
    assert "BROKEN checkpoint" in result.output and "does not verify: the text was changed" in result.output


def test_checkpoint_refuses_to_sign_without_a_key_and_says_how_to_make_one(cli, tmp_path, monkeypatch):
    append(cli.engine, "500107", 1)
    monkeypatch.setenv("CUSTODY_SIGNING_KEY", str(tmp_path / "absent.pem"))
    result = cli("checkpoint")
    assert result.exit_code == 1
    assert "absent.pem, which does not exist" in result.output
    assert "openssl genpkey -algorithm ed25519" in result.output
    monkeypatch.setenv("CUSTODY_SIGNING_KEY", "")
    assert "CUSTODY_SIGNING_KEY is not set" in cli("checkpoint").output


def test_checkpoint_refuses_to_sign_a_broken_log(cli, tmp_path):
    append(cli.engine, "500107", 3)
    assert cli("checkpoint", "--out", tmp_path / "first.txt").exit_code == 0
    append(cli.engine, "500107", 2)
    drop_guards(cli.engine)
    with cli.engine.begin() as conn:
        conn.execute(update(CustodyEntry).where(CustodyEntry.seq == 5).values(subject_id="forged"))
    result = cli("checkpoint", "--out", tmp_path / "second.txt")
    assert result.exit_code == 1 and "nothing signed" in result.output
    assert "BROKEN chain of jurisdiction 500107 at entry 5: its content no longer matches its hash" in result.output
    assert not (tmp_path / "second.txt").exists()


def test_seed_demo_made_the_key_and_custody_key_shows_its_public_half(cli, monkeypatch, tmp_path):
    import os

    key = os.environ["CUSTODY_SIGNING_KEY"]
    assert os.stat(key).st_mode & 0o077 == 0  # readable by its owner only
    shown = cli("custody-key")
    assert shown.exit_code == 0 and "-----BEGIN PUBLIC KEY-----" in shown.output
    assert "verifier key (C2SP/sumdb note): fieldwatch.local/custody+" in shown.output
    assert "exists: a signing key is never replaced" in cli("custody-key", "--generate").output
    monkeypatch.setenv("CUSTODY_SIGNING_KEY", str(tmp_path / "new.pem"))
    made = cli("custody-key", "--generate")
    assert made.exit_code == 0 and (tmp_path / "new.pem").is_file()


def documented(marker: str) -> str:
    """The fenced block of docs/custody.md whose first line is ``marker``: the commands a third party is given."""
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "custody.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```\w*\n(.*?)```", doc, re.S)
    found = [block for block in blocks if block.startswith(marker + "\n")]
    assert len(found) == 1, f"docs/custody.md has no block starting {marker!r}"
    return found[0]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not on this machine")
def test_the_documented_openssl_and_python_checks_verify_a_checkpoint_and_refuse_an_edited_one(cli, tmp_path):
    import os

    append(cli.engine, "500107", 3)
    assert cli("checkpoint", "--out", tmp_path / "checkpoint.txt").exit_code == 0
    subprocess.run(["openssl", "pkey", "-in", os.environ["CUSTODY_SIGNING_KEY"], "-pubout",
                    "-out", str(tmp_path / "custody-public.pem")], check=True)
    (tmp_path / "check.sh").write_text(documented("# check-checkpoint.sh"), encoding="utf-8")
    (tmp_path / "check.py").write_text(documented("# check_checkpoint.py"), encoding="utf-8")

    def check():
        shell = subprocess.run(["bash", "-e", "check.sh"], cwd=tmp_path, capture_output=True, text=True)
        python = subprocess.run([sys.executable, "check.py"], cwd=tmp_path, capture_output=True, text=True)
        return shell, python

    shell, python = check()
    assert shell.returncode == 0 and "Signature Verified Successfully" in shell.stdout, shell.stderr
    assert python.returncode == 0 and "signature verified: custody-checkpoint " in python.stdout, python.stderr
    note = (tmp_path / "checkpoint.txt").read_text(encoding="utf-8")
    (tmp_path / "checkpoint.txt").write_text(note.replace("\n500107 3 ", "\n500107 2 "), encoding="utf-8")
    shell, python = check()
    assert shell.returncode != 0 and "Signature Verification Failure" in shell.stdout + shell.stderr
    assert python.returncode != 0 and "InvalidSignature" in python.stderr


def test_checkpoint_signs_the_heads_it_walked_while_entries_keep_arriving(cli, tmp_path):
    """Entries appended between reading the heads and walking the chains are not a break."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if cli.engine.dialect.name == "sqlite":
        pytest.skip("SQLite: the walk holds the database's write lock, so no entry can arrive during it")
    append(cli.engine, "500107", 3)
    arrived = []

    def append_midway(conn, cursor, statement, parameters, context, executemany):
        # The command's first read of entries, on its own engine: two more are committed right then.
        if not arrived and conn.engine is not cli.engine and "FROM custody_entries" in statement:
            arrived.append(True)
            append(cli.engine, "500107", 2)

    event.listen(Engine, "before_cursor_execute", append_midway)
    try:
        signed = cli("checkpoint", "--out", tmp_path / "c.txt")
    finally:
        event.remove(Engine, "before_cursor_execute", append_midway)
    assert arrived and signed.exit_code == 0, signed.output
    assert "\n500107 3 " in (tmp_path / "c.txt").read_text(encoding="utf-8")
    assert cli("verify", "--checkpoint", tmp_path / "c.txt").exit_code == 0


def test_a_third_party_checks_with_the_public_key_alone(cli, tmp_path, monkeypatch):
    import os
    from pathlib import Path

    from field.custody.notes import load_public_key

    append(cli.engine, "500107", 2)
    assert cli("checkpoint", "--out", tmp_path / "c.txt").exit_code == 0
    from cryptography.hazmat.primitives import serialization

    public = load_public_key(Path(os.environ["CUSTODY_SIGNING_KEY"]).read_bytes())

    (tmp_path / "public.pem").write_bytes(public.public_bytes(serialization.Encoding.PEM,
                                                              serialization.PublicFormat.SubjectPublicKeyInfo))
    monkeypatch.setenv("CUSTODY_SIGNING_KEY", "")  # the private key is not there
    refused = cli("verify", "--checkpoint", tmp_path / "c.txt")
    assert refused.exit_code == 1 and "give --public-key, or set CUSTODY_SIGNING_KEY" in refused.output
    checked = cli("verify", "--checkpoint", tmp_path / "c.txt", "--public-key", tmp_path / "public.pem")
    assert checked.exit_code == 0, checked.output
    assert "signed by fieldwatch.local/custody" in checked.output and "the log extends it" in checked.output
