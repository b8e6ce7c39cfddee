"""Issue 8's harness 2 with a small count: parallel repeats of one key or one record UUID create once."""

from stress import same_key
from stress.world import build
from tests.conftest import fresh_database_url


def test_parallel_repeats_of_one_key_and_of_one_record_create_exactly_once(backend, tmp_path):
    world = build(fresh_database_url(backend, tmp_path, "_samekey"), str(tmp_path / "evidence"))
    try:
        result = same_key.run(world, rounds=3, parallel=12)
    finally:
        world.close()
    assert result["failures"] == []
    assert not [s for s in result["statuses"] if s.endswith((":500", ":502", ":503"))]
