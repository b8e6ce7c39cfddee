"""One unit of work per request (api/db.py): the wrapper commits once after the view, rolls back on any error."""

from sqlalchemy import event

from field.core.errors import InvalidInput, NotFound
from field.core.models.platform import User


def _statements(app, client, *args, **kwargs):
    """Send a request; the SQL statement kinds it sent (under the test's transaction a commit is a RELEASE)."""
    seen = []

    def count(conn, cursor, statement, *rest):
        seen.append(statement.lstrip().upper().split(" ", 1)[0])

    connection = app.extensions["SESSION_FACTORY"].kw["bind"]
    event.listen(connection, "before_cursor_execute", count)
    try:
        response = client.open(*args, **kwargs)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    return response, seen


def _rename_route(app, admin, path, then=None):
    from api.db import db

    @app.route(path, methods=["POST"], endpoint=path)
    def rename():
        db().get(User, admin.id).display_name = f"renamed by {path}"
        db().flush()
        if then is not None:
            then()
        return {"ok": True}, 201


def _name(session_factory, admin):
    with session_factory() as s:
        return s.get(User, admin.id, populate_existing=True).display_name


def test_a_view_that_returns_is_committed_once_by_the_wrapper(app, client, admin, login, session_factory):
    _rename_route(app, admin, "/uow/returns")
    headers = login(admin)
    response, statements = _statements(app, client, "/uow/returns", method="POST", headers=headers, json={})
    assert response.status_code == 201
    # One transaction (a savepoint under the test's), released once: the token, the write, the commit.
    assert statements.count("SAVEPOINT") == 1 and statements.count("RELEASE") == 1, statements
    assert _name(session_factory, admin) == "renamed by /uow/returns"


def test_a_refusal_rolls_back_what_the_view_wrote(app, client, admin, login, session_factory):
    def refuse():
        raise InvalidInput("display_name", "Refused after the write.")

    _rename_route(app, admin, "/uow/refuses", then=refuse)
    response = client.post("/uow/refuses", headers=login(admin), json={})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert _name(session_factory, admin) != "renamed by /uow/refuses"


def test_an_error_after_the_view_rolls_back_its_work(app, client, admin, login, session_factory):
    from api.db import on_answer

    def fail_on_this_path(response, work_stands):
        from flask import request

        if request.path == "/uow/fails-after" and work_stands:
            raise RuntimeError("an answer hook failed after the view returned")

    on_answer(app, fail_on_this_path)
    _rename_route(app, admin, "/uow/fails-after")
    response = client.post("/uow/fails-after", headers=login(admin), json={})
    assert response.status_code == 500 and response.mimetype == "application/problem+json"
    assert _name(session_factory, admin) != "renamed by /uow/fails-after"


def test_a_failing_commit_is_answered_like_any_error(app, client, admin, login, make_user, session_factory):
    from api.db import db

    other = make_user(username="uow.taken")

    @app.route("/uow/duplicate", methods=["POST"])
    def duplicate():
        # Not flushed by the view: the unique username fails at the wrapper's commit.
        db().get(User, admin.id).username = other.username
        return {"ok": True}, 201

    response = client.post("/uow/duplicate", headers=login(admin), json={})
    assert response.status_code == 409 and response.get_json()["type"] == "/problems/conflict"
    assert _name(session_factory, admin) == admin.display_name


def test_kept_work_stands_with_the_refusal(app, client, admin, login, session_factory):
    from api.db import keep_work

    def refuse_but_keep():
        keep_work()
        raise NotFound("thing")

    _rename_route(app, admin, "/uow/keeps", then=refuse_but_keep)
    response = client.post("/uow/keeps", headers=login(admin), json={})
    assert response.status_code == 404
    assert _name(session_factory, admin) == "renamed by /uow/keeps"


def test_a_request_that_only_reads_commits_nothing(app, client, admin, login):
    headers = login(admin)
    client.get("/api/v1/me", headers=headers)  # the token's last-used touch is written by this first request
    response, statements = _statements(app, client, "/api/v1/me", headers=headers)
    assert response.status_code == 200
    assert "RELEASE" not in statements and "INSERT" not in statements and "UPDATE" not in statements, statements
