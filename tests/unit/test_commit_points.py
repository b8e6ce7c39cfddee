"""Views do not commit: the request's wrapper does (api/db.py), and the lease points say why they must."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: The wrapper: its commits are the request's one commit (and the documented ends before a body).
WRAPPER = ROOT / "api" / "db.py"
_COMMIT = re.compile(r"\bcommit\(\)")


def _commit_calls():
    for package in ("api", "web"):
        for path in sorted((ROOT / package).rglob("*.py")):
            lines = path.read_text(encoding="utf-8").splitlines()
            for number, line in enumerate(lines, 1):
                code = line.split("#", 1)[0]
                if _COMMIT.search(code) and not code.lstrip().startswith(("def ", '"""')):
                    yield path, number, lines


def test_only_the_wrapper_and_documented_lease_points_commit():
    undocumented = []
    for path, number, lines in _commit_calls():
        if path == WRAPPER:
            continue
        # A lease point says so on its line or in the comment just above it.
        context = "\n".join(lines[max(0, number - 4):number]).lower()
        if "lease point" not in context:
            undocumented.append(f"{path.relative_to(ROOT)}:{number}: {lines[number - 1].strip()}")
    assert not undocumented, "commit() outside the request's wrapper (api/db.py), not a documented lease point:\n" + \
        "\n".join(undocumented)


def test_the_lease_points_are_the_tus_and_derivation_leases():
    files = {path.relative_to(ROOT).as_posix() for path, _n, _l in _commit_calls() if path != WRAPPER}
    assert files == {"api/uploads.py", "api/evidence.py"}, files
