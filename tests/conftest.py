"""Fixtures: each database test runs on SpatiaLite, and on PostGIS when TEST_DATABASE_URL is set.

Isolation: the schema is built once per database by the Alembic migrations; each test
runs inside an outer transaction that is rolled back, the app's commits becoming
savepoints (SQLAlchemy's ``join_transaction_mode="create_savepoint"``).
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Table, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from field.accounts import users as accounts, jurisdictions
from field.core import migrate
from field.core.db import make_engine
from field.core.models.base import Base
from field.core.models.platform import JurisdictionLevel, Role
from tests import corpus

pytest_plugins = ["tests.evidence_fixtures"]

ROOT = Path(__file__).resolve().parent.parent
#: The real photo corpus: ../shared/data/photos beside the checkout, or FIELDWATCH_PHOTOS (tests/corpus.py).
PHOTOS = corpus.PHOTOS
PASSWORD = "correct horse battery"


def pytest_report_header(config):
    return f"photo corpus: {PHOTOS} (set {corpus.ENV} to read it from elsewhere)"


def pytest_sessionstart(session):
    """No run without the photo corpus: its tests used to skip one by one and the run still
    passed, so a checkout without ../shared/data/photos tested no photo at all unnoticed."""
    reason = corpus.missing()
    if reason:
        pytest.exit(reason, returncode=pytest.ExitCode.USAGE_ERROR)


def _backends() -> list[str]:
    return ["spatialite"] + (["postgis"] if os.environ.get("TEST_DATABASE_URL") else [])


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def fresh_database_url(backend: str, tmp_dir: Path, suffix: str = "") -> str:
    """An empty database of this worker's own on ``backend``."""
    if backend == "spatialite":
        return f"sqlite:///{tmp_dir / f'test{suffix}.db'}"
    return _postgis_url(suffix)


@contextmanager
def own_database(backend: str, tmp_dir: Path, suffix: str):
    """A migrated database of the test's own, committed for real (not the shared connection's
    savepoints): two connections see each other's commits and locks. Its engine; dropped after."""
    from stress.served import drop_database

    url = fresh_database_url(backend, tmp_dir, suffix)
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        drop_database(url)


def _postgis_url(suffix: str = "") -> str:
    """A database of this worker's own, made afresh from TEST_DATABASE_URL's server."""
    base = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg")
    name = f"{base.database}_{_worker()}{suffix}"
    admin = make_engine(base.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing():
    """argon2id with minimal cost: the suite makes thousands of accounts, and the cost
    parameters are not what the tests are about (test_accounts checks the scheme)."""
    from argon2 import PasswordHasher

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield


@pytest.fixture(scope="session", autouse=True)
def _custody_key_outside_the_repository(tmp_path_factory):
    """The signing key and checkpoint files default to var/ of the checkout: tests keep theirs apart
    (seed-demo makes the key when it is missing)."""
    keys = tmp_path_factory.mktemp("custody")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CUSTODY_SIGNING_KEY", str(keys / "custody-signing-key.pem"))
        patch.setenv("CUSTODY_CHECKPOINT_DIR", str(keys / "checkpoints"))
        yield


@pytest.fixture(scope="session", params=_backends())
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def db_url(backend, tmp_path_factory) -> str:
    """The tests' database: the migrations, then ``create_all`` for models whose migration is
    still to be written (tests/integration/test_migrations.py fails until it is)."""
    url = fresh_database_url(backend, tmp_path_factory.mktemp("db"))
    migrate.upgrade(url)
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return url


#: Every table's indexes as the models declare them, taken before any create_all.
_DECLARED_INDEXES = {table: set(table.indexes) for table in Base.metadata.tables.values()}


@event.listens_for(Table, "after_create")
def _keep_declared_indexes(table, connection, **kw):
    # GeoAlchemy2's SQLite DDL takes the spatial Index objects out of the metadata for good,
    # so a later PostGIS create_all in the same process (any test's) would build no GiST index.
    table.indexes |= _DECLARED_INDEXES.get(table, set())


@pytest.fixture(scope="session")
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine):
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def session_factory(connection):
    return sessionmaker(bind=connection, expire_on_commit=False,
                        join_transaction_mode="create_savepoint")


@pytest.fixture
def session(session_factory):
    with session_factory() as s:
        yield s


@pytest.fixture
def app(db_url, session_factory, tmp_path):
    from api import create_app

    app = create_app({"DATABASE_URL": db_url, "EVIDENCE_DIR": str(tmp_path / "evidence"),
                      "SECRET_KEY": "test"}, session_factory=session_factory)
    app.testing = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


# -- factories: fixtures returning callables ---------------------------------------------------


@pytest.fixture
def tree(session):
    """Two districts under one city: Jiulongpo (home) and Yuzhong (elsewhere), each with a street."""
    def add(code, name, level, parent=None):
        return jurisdictions.create_jurisdiction(session, actor=None, code=code, name=name,
                                                 level=level, parent_id=parent.id if parent else None)

    province = add("500000", "重庆市", JurisdictionLevel.province)
    city = add("500100", "重庆市市辖区", JurisdictionLevel.city, province)
    home = add("500107", "九龙坡区", JurisdictionLevel.district, city)
    other = add("500103", "渝中区", JurisdictionLevel.district, city)
    home_street = add("500107001", "杨家坪街道", JurisdictionLevel.street, home)
    other_street = add("500103001", "七星岗街道", JurisdictionLevel.street, other)
    session.commit()
    return {"province": province, "city": city, "home": home, "other": other,
            "home_street": home_street, "other_street": other_street}


@pytest.fixture
def make_user(session, tree):
    def make(role=Role.inspector, jurisdiction=None, username=None, password=PASSWORD, **kw):
        user = accounts.create_user(
            session, actor=None, username=username or f"{role.value}-{uuid.uuid4().hex[:8]}",
            password=password, display_name=kw.pop("display_name", f"Test {role.value}"),
            role=role, jurisdiction_id=(jurisdiction or tree["home"]).id)
        session.commit()
        return user
    return make


@pytest.fixture
def login(client):
    """Log a user in through the API; returns the Authorization header."""
    def do(user, password=PASSWORD, device="test phone"):
        resp = client.post("/api/v1/auth/login",
                           json={"username": user.username, "password": password, "device_name": device})
        assert resp.status_code == 201, resp.get_json()
        return {"Authorization": f"Bearer {resp.get_json()['token']}"}
    return do


@pytest.fixture
def admin(make_user):
    return make_user(Role.admin)


@pytest.fixture
def admin_headers(admin, login):
    return login(admin)


def pytest_terminal_summary(terminalreporter):
    """Say how many tests ran on each database, so CI's log shows both were used."""
    counts: dict[str, int] = {}
    for outcome in ("passed", "failed", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") != "call":
                continue
            for name in ("spatialite", "postgis"):
                if f"[{name}" in report.nodeid or f"-{name}" in report.nodeid:
                    counts[f"{name} {outcome}"] = counts.get(f"{name} {outcome}", 0) + 1
    if counts:
        terminalreporter.write_line("database tests: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
