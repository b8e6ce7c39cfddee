"""fieldwatch seed-taxonomy: the brief's finding categories loaded from the command line, safely repeatable."""

from click.testing import CliRunner
from sqlalchemy import func, select

from cli import main
from field.core import migrate
from field.visits import taxonomy
from field.core.db import make_engine
from field.all_models import Base
from field.visits.models import FindingCategory
from tests.conftest import fresh_database_url


def test_seed_taxonomy_loads_the_categories_once_however_often_it_runs(backend, tmp_path, monkeypatch):
    url = fresh_database_url(backend, tmp_path, "_visits_cli")
    migrate.upgrade(url)
    engine = make_engine(url)
    # The tables' migration is written at integration; until then build them as the test fixture does.
    indexes = {table: set(table.indexes) for table in Base.metadata.tables.values()}
    Base.metadata.create_all(engine)
    for table, saved in indexes.items():
        table.indexes |= saved
    monkeypatch.setenv("DATABASE_URL", url)
    runner = CliRunner()
    first = runner.invoke(main, ["seed-taxonomy"], catch_exceptions=False)
    second = runner.invoke(main, ["seed-taxonomy"], catch_exceptions=False)
    assert f"{len(taxonomy.SEED)} added" in first.output
    assert f"0 added, 0 relabelled, {len(taxonomy.SEED)} unchanged" in second.output
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(FindingCategory)).scalar() == len(taxonomy.SEED)
    engine.dispose()
