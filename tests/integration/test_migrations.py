"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from field import migrate
from field.models import Base
from field.migrate import include_object


def _diff(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object,
                                                          "compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_models_and_migrations_agree(engine):
    # The session's database was built by the migrations (conftest); nothing may differ.
    assert _diff(engine) == []


def test_migrations_go_down_to_nothing_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    migrate.upgrade(url)
    from field.db import make_engine

    engine = make_engine(url)
    try:
        assert _diff(engine) == []
    finally:
        engine.dispose()
