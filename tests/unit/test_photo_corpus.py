"""The photo corpus: found beside the repository or through FIELDWATCH_PHOTOS; its absence stops the run, loudly."""

import os
import subprocess
import sys
from pathlib import Path

from tests.corpus import ENV, PHOTOS

ROOT = Path(__file__).resolve().parents[2]
#: A test that reads one corpus file and touches no database.
PHOTO_TEST = "tests/unit/test_evidence_sniff.py::test_a_heif_named_jpg_sniffs_as_heif"


def _pytest(photos: Path, *args: str) -> subprocess.CompletedProcess:
    """A separate pytest run with the corpus looked for at ``photos`` (no xdist, no database)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "TEST_DATABASE_URL"))}
    env[ENV] = str(photos)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist",
                           *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_a_run_without_the_corpus_fails_naming_the_path_and_the_variable(tmp_path):
    # It used to skip every photo test with a line in the -ra summary, and pass: a worktree
    # beside no ../shared ran the suite "green" without a single photo.
    empty = tmp_path / "no-photos-here"
    empty.mkdir()
    run = _pytest(empty, PHOTO_TEST)
    output = run.stdout + run.stderr
    assert run.returncode != 0, output
    assert str(empty) in output and ENV in output
    assert "passed" not in output and "skipped" not in output


def test_the_corpus_is_found_where_fieldwatch_photos_points(tmp_path):
    run = _pytest(PHOTOS, PHOTO_TEST)
    output = run.stdout + run.stderr
    assert run.returncode == 0 and "1 passed" in output, output
    assert f"photo corpus: {PHOTOS}" in output
