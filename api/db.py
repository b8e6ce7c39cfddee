"""The request's unit of work: one session, committed once by the wrapper, rolled back on any error.

The path of a request (docs/architecture.md, "The path of a request"):

1. The before-request hooks (the office clock, the JSON guard, the Idempotency-Key claim) and
   the view run in one transaction, begun by the first statement (usually the token's read).
   Views and the domain flush; they never commit.
2. When the view returns, its answer is made a response, the answer hooks write into the same
   transaction (the idempotency store records the answer under the key: api/idempotency_store.py)
   and the wrapper commits: the one commit of the request. A failing flush or commit is an
   error like any other (below): 409 for a constraint, 503 for a lost database.
3. Anything raised on the way (a hook, the view, making the response, an answer hook, the
   commit) rolls the whole transaction back. The error handlers make the problem answer; the
   answer hooks record it (a refusal's answer, replayed to a repeat) and the wrapper commits
   that alone. So a request commits at most once: its work and answer, or its refusal's answer.
4. After-request hooks shape the response (headers, gzip); the teardown closes the session and
   rolls back whatever is left (the reads of a streamed body: ``streamed``).

The exceptions, each documented where it happens:

- ``keep_work()``: the request's work stands although it ends in an error: a read of a damaged
  original is a 409 *and* the quarantine and its custody entry are kept.
- ``end_before_body()``: a view that reads a large body itself (multipart, tus) ends the
  credentials' transaction before reading it, so no transaction (on SQLite: the write lock) is
  held while a phone sends megabytes.
- ``commit()``: the lease points of tus uploads and derivation, which must be visible to other
  requests before slow work outside any transaction (api/uploads.py, api/evidence.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

from flask import Flask, Response, current_app, g, stream_with_context
from flask.signals import request_started
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

import field.all_models  # noqa: F401  (a session may load any kind of record)
from field.core.db import make_engine, make_session_factory
from field.custody import chain as custody

log = logging.getLogger("fieldwatch.db")

#: app.extensions key: the answer hooks, ``hook(response, work_stands)``, run before the commit.
_ANSWER_HOOKS = "UOW_ANSWER_HOOKS"
#: session.info: the session's transaction has written (a flush, or an INSERT, UPDATE or DELETE).
_WROTE = "uow_wrote"
#: g: the request's work stands although it ends in an error (``keep_work``).
_KEEP = "uow_keep_work"


class UnitOfWorkFlask(Flask):
    """Flask whose request dispatch is one unit of work (the module's docstring says how)."""

    def full_dispatch_request(self) -> Response:
        self._got_first_request = True
        try:
            request_started.send(self, _async_wrapper=self.ensure_sync)
            rv = self.preprocess_request()
            if rv is None:
                rv = self.dispatch_request()
            response = self.make_response(rv)
            _finish(response, work_stands=True)
        except Exception as exc:  # noqa: BLE001  (every error ends the unit of work; the handlers answer)
            response = self._refused(exc)
        return self.finalize_request(response)

    def _refused(self, exc: Exception) -> Response:
        work_stands = bool(g.pop(_KEEP, False)) and "db_session" in g
        if work_stands:
            try:
                g.db_session.commit()
            except SQLAlchemyError as failed:  # the kept work could not be stored: answer that instead
                _rollback(g.db_session)
                exc, work_stands = failed, False
        elif "db_session" in g:
            _rollback(g.db_session)
        response = self.make_response(self.handle_user_exception(exc))
        try:
            _finish(response, work_stands=work_stands)
        except Exception:  # noqa: BLE001  (the refusal is answered whatever its record's fate)
            # The answer stands without its record: a repeat runs again (the key is not kept).
            _rollback(g.db_session)
            log.exception("the answer to a refused request could not be stored")
        return response


def _rollback(session: Session) -> None:
    """Roll back; a connection lost meanwhile is the error being answered already, not a new one."""
    try:
        session.rollback()
    except SQLAlchemyError:
        log.warning("rollback failed (the connection is gone)", exc_info=True)


def _finish(response: Response, *, work_stands: bool) -> None:
    """The answer hooks, then the one commit: of a request that wrote, for one that only read
    ends its transaction with a rollback, as before (nothing to do if it never used the database)."""
    if "db_session" not in g:
        return
    for hook in current_app.extensions.get(_ANSWER_HOOKS, ()):
        hook(response, work_stands)
    session = g.db_session
    if (session.info.pop(_WROTE, False) or session.new or session.dirty or session.deleted
            or custody.has_pending(session)):
        session.commit()
    else:
        session.rollback()


def _flushed(session: Session, _context) -> None:
    session.info[_WROTE] = True


def _ended(session: Session, transaction) -> None:
    if transaction.parent is None:  # the session's transaction, committed or rolled back; not a savepoint
        session.info.pop(_WROTE, None)


def _executed(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


def on_answer(app: Flask, hook: Callable[[Response, bool], None]) -> None:
    """Run ``hook(response, work_stands)`` in the request's transaction, before its commit.

    ``work_stands`` is False when the request's work was rolled back (a refusal): the hook
    writes what it records in the transaction that then commits alone.
    """
    app.extensions.setdefault(_ANSWER_HOOKS, []).append(hook)


def keep_work() -> None:
    """The work done so far stands although the request goes on to raise an error.

    For a refusal that is itself a fact to keep: a damaged original is quarantined, and its
    read logged, and the answer is 409. The wrapper commits instead of rolling back.
    """
    g.setdefault(_KEEP, True)


def end_before_body() -> None:
    """End the transaction that read the credentials, before a view reads a large body itself.

    The one commit of a request that is not the wrapper's, besides the lease points: a
    multipart or tus body may take minutes to arrive, and the transaction that checked the
    token (on SQLite, ``BEGIN IMMEDIATE``: the write lock) would be held all along.
    """
    if "db_session" in g:
        g.db_session.commit()


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
            # What the wrapper did not commit (a streamed body's reads, a failure) is rolled back.
            session.rollback()
            session.close()


def db() -> Session:
    if "db_session" not in g:
        session = current_app.extensions["SESSION_FACTORY"]()
        # On this session, not on every Session: whether the request has anything to commit.
        event.listen(session, "after_flush", _flushed)
        event.listen(session, "do_orm_execute", _executed)
        event.listen(session, "after_transaction_end", _ended)
        g.db_session = session
    return g.db_session


def commit() -> None:
    """A lease point: commit now, before work done outside any transaction.

    Only the tus upload and derivation leases call it (api/uploads.py, api/evidence.py): the
    lease must be visible to other requests before the bytes are read or decoded. Every other
    commit is the wrapper's (``UnitOfWorkFlask``).
    """
    db().commit()


def streamed(chunks: Iterable) -> Iterator:
    """A response body read from the request's session, which ends with the body.

    The wrapper has committed the request's work before the first byte leaves (an export's
    custody entry is on record then). Flask has already torn the request down (and closed the
    session) when a server reads a streamed body; the chunks reopen the session, so their
    read-only transaction is rolled back and closed here, or it would outlive the request (on
    SQLite a held lock that stops every writer).
    """
    session = db()

    def body():
        try:
            yield from chunks
        finally:
            session.rollback()
            session.close()

    return stream_with_context(body())
