"""The request's database session: opened on first use, committed by the view, rolled back otherwise."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from field.db import make_engine, make_session_factory


def init_db(app: Flask) -> None:
    if "SESSION_FACTORY" not in app.extensions:
        engine = make_engine(app.config["DATABASE_URL"])
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
