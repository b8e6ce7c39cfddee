"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from field.core import migrate
from field.core.db import make_engine
from field.core.migrate import include_object
from field.all_models import Base
from tests.conftest import fresh_database_url


def _diff(url):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_object": include_object,
                                                              "compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_models_and_migrations_agree(backend, tmp_path):
    url = fresh_database_url(backend, tmp_path, "_migrations")
    migrate.upgrade(url)
    assert _diff(url) == []


def test_migrations_go_down_to_nothing_and_up_again(backend, tmp_path):
    url = fresh_database_url(backend, tmp_path, "_roundtrip")
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    migrate.upgrade(url)
    assert _diff(url) == []
