"""The request's database session: opened on first use, committed by the view, rolled back otherwise."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from flask import Flask, current_app, g, stream_with_context
from sqlalchemy.orm import Session

import field.all_models  # noqa: F401  (a session may load any kind of record)
from field.core.db import make_engine, make_session_factory


def init_db(app: Flask) -> None:
    if "SESSION_FACTORY" not in app.extensions:
        engine = make_engine(app.config["DATABASE_URL"],
                             connect_timeout_s=app.config["DATABASE_CONNECT_TIMEOUT_S"])
        app.extensions["ENGINE"] = engine
        app.extensions["SESSION_FACTORY"] = make_session_factory(engine)

    @app.teardown_appcontext
    def _close(exc):
        session = g.pop("db_session", None)
        if session is not None:
            # Anything not committed by the view (an error, a read) is rolled back here.
            session.rollback()
            session.close()


def db() -> Session:
    if "db_session" not in g:
        g.db_session = current_app.extensions["SESSION_FACTORY"]()
    return g.db_session


def commit() -> None:
    """The one commit point of a write request: called by the view after its domain call."""
    db().commit()


def streamed(chunks: Iterable) -> Iterator:
    """A response body read from the request's session, which ends with the body.

    Flask has already torn the request down (and closed the session) when a server reads a
    streamed body; the chunks reopen the session, so it is rolled back and closed here, or its
    transaction would outlive the request (on SQLite a held lock that stops every writer).
    """
    session = db()

    def body():
        try:
            yield from chunks
        finally:
            session.rollback()
            session.close()

    return stream_with_context(body())

