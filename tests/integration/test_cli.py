"""The fieldwatch command: the first admin, the demo seed, verify."""

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from cli import main
from field.core import migrate
from field.core.db import make_engine
from tests.conftest import fresh_database_url


@pytest.fixture
def cli(backend, tmp_path, monkeypatch):
    url = fresh_database_url(backend, tmp_path, "_cli")
    migrate.upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)
    run.url = url
    return run


def test_the_first_admin_is_made_from_the_command_line_and_can_log_in(cli):
    assert cli("add-jurisdiction", "500000", "重庆市", "--level", "province").exit_code == 0
    assert cli("add-jurisdiction", "500100", "重庆市市辖区", "--level", "city", "--parent", "500000").exit_code == 0
    result = cli("create-admin", "wang.admin", "--jurisdiction", "500100", "--password", "a long enough password")
    assert result.exit_code == 0, result.output
    from api import create_app

    app = create_app({"DATABASE_URL": cli.url})
    resp = app.test_client().post("/api/v1/auth/login", json={
        "username": "wang.admin", "password": "a long enough password", "device_name": "pc"})
    app.extensions["ENGINE"].dispose()
    assert resp.status_code == 201 and resp.get_json()["user"]["role"] == "admin"


def test_create_admin_names_a_missing_jurisdiction(cli):
    result = cli("create-admin", "x.admin", "--jurisdiction", "999999", "--password", "a long enough password")
    assert result.exit_code != 0 and "999999" in result.output


def test_seed_demo_prints_credentials_once_and_never_on_a_used_database(cli):
    first = cli("seed-demo")
    assert "username: demo-admin" in first.output and "password: " in first.output
    second = cli("seed-demo")
    assert "no demo data added" in second.output


def test_verify_passes_on_an_intact_log_and_names_a_broken_entry(cli, backend):
    from field.custody import chain as custody
    from field.core.db import make_session_factory
    from field.custody.models import DROP_APPEND_ONLY_DDL

    cli("seed-demo")
    engine = make_engine(cli.url)
    with make_session_factory(engine)() as session:
        jid = session.execute(text("SELECT id FROM jurisdictions WHERE code = '500107'")).scalar()
        import uuid
        jid = jid if isinstance(jid, uuid.UUID) else uuid.UUID(jid)
        for i in range(3):
            custody.record(session, jurisdiction_id=jid, kind="record.created", subject_type="x", subject_id=str(i))
        session.commit()
    ok = cli("verify")
    assert ok.exit_code == 0 and "intact" in ok.output
    with engine.begin() as conn:
        for statement in DROP_APPEND_ONLY_DDL[engine.dialect.name]:
            conn.execute(text(statement))
        conn.execute(text("UPDATE custody_entries SET subject_id = 'forged' WHERE seq = 2"))
    engine.dispose()
    broken = cli("verify")
    assert broken.exit_code == 1 and "at entry 2" in broken.output


def _login(url, username, password):
    from api import create_app

    app = create_app({"DATABASE_URL": url})
    try:
        return app.test_client().post("/api/v1/auth/login", json={
            "username": username, "password": password, "device_name": "pc"})
    finally:
        app.extensions["ENGINE"].dispose()


def _me(url, token):
    from api import create_app

    app = create_app({"DATABASE_URL": url})
    try:
        return app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    finally:
        app.extensions["ENGINE"].dispose()


def test_seed_demo_on_a_used_database_says_how_to_reset_the_demo_admins_password(cli):
    cli("seed-demo")
    again = cli("seed-demo")
    assert again.exit_code == 0
    assert "fieldwatch reset-password demo-admin" in again.output


def test_reset_password_sets_a_new_password_and_revokes_every_token(cli):
    first = cli("seed-demo")
    old = next(line.split(": ", 1)[1] for line in first.output.splitlines() if "password: " in line)
    token = _login(cli.url, "demo-admin", old).get_json()["token"]
    assert _me(cli.url, token).status_code == 200
    result = cli("reset-password", "demo-admin", "--password", "a brand new passphrase")
    assert result.exit_code == 0, result.output
    assert "demo-admin" in result.output and "1 token" in result.output
    assert _me(cli.url, token).status_code == 401
    assert _login(cli.url, "demo-admin", old).status_code == 401
    assert _login(cli.url, "demo-admin", "a brand new passphrase").status_code == 201


def test_reset_password_prompts_twice_and_works_for_any_username(cli):
    cli("add-jurisdiction", "500000", "重庆市", "--level", "province")
    cli("create-admin", "wang.admin", "--jurisdiction", "500000", "--password", "a long enough password")
    result = cli("reset-password", "Wang.Admin", input="another long password\nanother long password\n")
    assert result.exit_code == 0, result.output
    assert _login(cli.url, "wang.admin", "another long password").status_code == 201


def test_reset_password_of_an_unknown_user_exits_1_naming_it(cli):
    cli("seed-demo")
    result = cli("reset-password", "nobody.here", "--password", "a long enough password")
    assert result.exit_code == 1
    assert "nobody.here" in result.output and "no user" in result.output.lower()


def test_reset_password_refuses_a_short_password_and_changes_nothing(cli):
    first = cli("seed-demo")
    old = next(line.split(": ", 1)[1] for line in first.output.splitlines() if "password: " in line)
    result = cli("reset-password", "demo-admin", "--password", "short")
    assert result.exit_code == 1 and "10 characters" in result.output
    assert _login(cli.url, "demo-admin", old).status_code == 201
