"""A pooled PostgreSQL connection the server dropped: replaced before use when it sat idle, else one 503 and recovery."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from api import create_app
from field.core import db as field_db

APPLICATION_NAME = "fieldwatch_connection_loss_test"


@pytest.fixture
def served(backend, db_url, engine, tmp_path):
    """An app on its own engine and pool (not the tests' shared transaction), and a way to
    make the server drop every connection of that pool, as a restarted server does."""
    if backend != "postgis":
        pytest.skip("an embedded SQLite file has no server to drop a pooled connection")
    url = make_url(db_url).update_query_dict({"application_name": APPLICATION_NAME})
    app = create_app({"DATABASE_URL": url.render_as_string(hide_password=False), "SECRET_KEY": "test",
                      "EVIDENCE_DIR": str(tmp_path / "evidence")})

    def drop_connections() -> int:
        with engine.connect() as conn:
            dropped = conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name AND datname = current_database()"),
                {"name": APPLICATION_NAME}).scalar_one()
            conn.commit()
        return dropped

    yield app, drop_connections
    app.extensions["ENGINE"].dispose()


def test_an_idle_connection_the_server_dropped_is_replaced_before_a_request_meets_it(served, monkeypatch):
    app, drop_connections = served
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    assert drop_connections() == 1
    monkeypatch.setattr(field_db, "PING_IDLE_AFTER_S", 0.0)  # the pooled connection counts as idle
    assert client.get("/readyz").status_code == 200


def test_a_connection_dropped_between_two_requests_costs_one_503_and_the_pool_recovers(served, monkeypatch):
    app, drop_connections = served
    client = app.test_client()
    token_free = "/api/v1/findings"  # a real view: the token lookup is its first statement
    assert client.get("/readyz").status_code == 200
    assert drop_connections() == 1
    monkeypatch.setattr(field_db, "PING_IDLE_AFTER_S", 3600.0)  # handed out again without a ping
    lost = client.get(token_free, headers={"Authorization": "Bearer fw_whatever"})
    assert lost.status_code == 503 and lost.mimetype == "application/problem+json"
    assert int(lost.headers["Retry-After"]) > 0
    again = client.get(token_free, headers={"Authorization": "Bearer fw_whatever"})
    assert again.status_code == 401  # the database answered: the token is unknown
    assert client.get("/readyz").status_code == 200
