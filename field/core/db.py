"""Engines and sessions for both databases: SQLite + SpatiaLite (embedded) and PostgreSQL + PostGIS."""

from __future__ import annotations

import ctypes.util
import os
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

#: Where Debian, Ubuntu, Fedora and Homebrew put SpatiaLite; the first one found is loaded.
_SPATIALITE_CANDIDATES = (
    "mod_spatialite",
    "/usr/lib/x86_64-linux-gnu/mod_spatialite.so",
    "/usr/lib/aarch64-linux-gnu/mod_spatialite.so",
    "/usr/lib64/mod_spatialite.so",
    "/opt/homebrew/lib/mod_spatialite.dylib",
    "/usr/local/lib/mod_spatialite.dylib",
)


class SpatiaLiteMissing(RuntimeError):
    """mod_spatialite could not be loaded: the embedded database cannot hold geometry."""


def is_sqlite(engine_or_url) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(str(engine_or_url))
    return url.get_backend_name() == "sqlite"


def _load_spatialite(dbapi_connection) -> None:
    dbapi_connection.enable_load_extension(True)
    last_error = None
    configured = os.environ.get("SPATIALITE_LIBRARY_PATH")
    for candidate in ((configured,) if configured else ()) + _SPATIALITE_CANDIDATES:
        try:
            dbapi_connection.load_extension(candidate)
            break
        except Exception as exc:  # pysqlite raises OperationalError; keep trying the next place
            last_error = exc
    else:
        raise SpatiaLiteMissing(
            "mod_spatialite is not installed (Debian/Ubuntu: apt-get install libsqlite3-mod-spatialite): "
            f"{last_error}"
        )
    dbapi_connection.enable_load_extension(False)


def _sqlite_engine(url: str, *, echo: bool = False) -> Engine:
    import pysqlite3.dbapi2 as pysqlite  # the stdlib sqlite3 of many Pythons cannot load extensions

    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    in_memory = not parsed.database or parsed.database == ":memory:"
    engine = create_engine(
        url,
        module=pysqlite,
        echo=echo,
        # A file database keeps a pool: opening a connection loads SpatiaLite, about 5 ms, a
        # cost every request paid when each checkout opened its own (an empty sync delta:
        # 12.8 ms p95). The pool hands a connection to one thread at a time, so threads (dev
        # server, tests of concurrency) never share one. An in-memory database is one per
        # connection whatever the pool, so it opens one per checkout.
        **({"poolclass": NullPool} if in_memory else {"pool_size": 5, "max_overflow": 10}),
        connect_args={"timeout": 30, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide when transactions begin (pysqlite's
        # own handling breaks SAVEPOINT and begins lazily before DML only).
        dbapi_connection.isolation_level = None
        _load_spatialite(dbapi_connection)
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA busy_timeout = 30000")
        if parsed.database and parsed.database != ":memory:":
            cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # IMMEDIATE takes the write lock up front, so a read-then-write transaction
        # waits for a concurrent writer instead of failing with SQLITE_BUSY.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


#: Seconds a new PostgreSQL connection may take (TCP, TLS, authentication) before it fails.
DEFAULT_CONNECT_TIMEOUT_S = 5


def make_engine(url: str, *, echo: bool = False, pool_size: int = 5,
                connect_timeout_s: int = DEFAULT_CONNECT_TIMEOUT_S) -> Engine:
    """An engine for ``url``; SQLite URLs get SpatiaLite loaded on every connection."""
    if is_sqlite(url):
        return _sqlite_engine(url, echo=echo)
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    # Without a connect timeout, a database host that drops packets (not one that refuses)
    # holds every request for the kernel's SYN retries, two minutes, instead of a quick 503.
    # A URL's own ?connect_timeout= wins.
    connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": max(1, int(connect_timeout_s))}
    # No parallel query plans: a request's page is a few rows found through an index, and
    # starting parallel workers for it costs more than it saves (a boundary search at 1M
    # findings: 90 ms with two workers, 14 ms without); on a shared server they also take
    # the cores other requests are waiting for. A URL's own ?options= wins.
    if "options" not in parsed.query:
        connect_args["options"] = "-c max_parallel_workers_per_gather=0"
    engine = create_engine(parsed, echo=echo, pool_size=pool_size, max_overflow=10, connect_args=connect_args)
    _ping_idle_connections(engine)
    return engine


#: A pooled connection unused for longer than this is pinged before it is handed out.
PING_IDLE_AFTER_S = 1.0


def _ping_idle_connections(engine: Engine) -> None:
    """Replace a pooled connection the server dropped while it sat idle, before a request meets it.

    ``pool_pre_ping`` would ping on every checkout: a round trip on each of a request's
    transactions. A connection handed back less than ``PING_IDLE_AFTER_S`` ago is used
    without one: a server that went away since fails its first statement, which SQLAlchemy
    reports as a disconnect (the request answers 503) and which discards every pooled
    connection older than that moment, so the next requests connect anew.
    """
    dialect = engine.dialect

    @event.listens_for(engine.pool, "checkin")
    def _idle_from(dbapi_connection, record):
        if record is not None:
            record.info["idle_from"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy):
        idle_from = record.info.pop("idle_from", None)
        if idle_from is None or time.monotonic() - idle_from < PING_IDLE_AFTER_S:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as err:
            if dialect.is_disconnect(err, dbapi_connection, None):
                # The pool reconnects this checkout, and drops the connections as old as this one.
                raise InvalidatePoolError(f"idle connection lost: {err}") from err
            raise


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def init_spatial_metadata(engine: Engine) -> None:
    """Prepare a new SpatiaLite file (spatial_ref_sys and friends); PostGIS needs the extension."""
    with engine.begin() as conn:
        if is_sqlite(engine):
            has_meta = conn.execute(
                text("SELECT count(*) FROM sqlite_master WHERE name = 'spatial_ref_sys'")
            ).scalar()
            if not has_meta:
                # The WGS84-only mode takes milliseconds instead of seconds: we store EPSG:4326 only.
                conn.execute(text("SELECT InitSpatialMetaData('WGS84')"))
        else:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))


def spatialite_available() -> bool:
    return ctypes.util.find_library("spatialite") is not None or any(
        Path(p).exists() for p in _SPATIALITE_CANDIDATES if p.startswith("/")
    )
