"""Issue 8's racing PATCHes with a small count: two devices PATCH one upload at one offset at once.

Served by gunicorn with several worker processes, so only the upload's lease in the database
(and the store's refusal of a second write at one offset) keeps the two apart.
"""

from pathlib import Path

import pytest

from stress import racing_patch
from stress.served import drop_database, gunicorn
from stress.world import build
from tests.conftest import fresh_database_url
from tests.evidence_fixtures import corpus_photo


@pytest.mark.parametrize("lease_s, rounds", [(None, 16), (0.003, 10)], ids=["lease", "lapsing-lease"])
def test_two_clients_racing_on_one_offset_never_interleave_and_the_winner_s_bytes_are_kept(
        backend, tmp_path, lease_s, rounds):
    """With the app's lease, and with one so short that it lapses mid-chunk (the store alone then
    keeps the writers apart, and the second request waits for the first's row: that once
    deadlocked on PostgreSQL, see tests/integration/test_upload_lease_contention.py)."""
    corpus_photo(racing_patch.PHOTO)  # fails, naming where it looked, without the corpus
    url = fresh_database_url(backend, tmp_path, "_race")
    evidence = str(tmp_path / "evidence")
    world = build(url, evidence)
    try:
        config = {"UPLOAD_LOCK_SECONDS": lease_s} if lease_s else None
        with gunicorn(url, evidence, Path(tmp_path), workers=3, config=config) as served:
            result = racing_patch.run(world, served.base_url, evidence, rounds=rounds)
            errors = served.server_errors()
    finally:
        world.close()
        drop_database(url)
    counts = result["counts"]
    assert result["failures"] == [] and errors == []
    assert counts["204 winners"] == rounds
    assert counts["423 losers"] + counts["409 losers"] + counts["losers whose answer was lost"] == rounds
    assert counts["interleaved"] == counts["hash mismatches"] == counts["offset inconsistencies"] == 0
    assert counts["races on the last chunk"] > 0  # the plan (seeded) races completion too
