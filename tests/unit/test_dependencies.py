"""Locked dependency versions are at or above every known fix (security/advisories.toml)."""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[_canonical(name)] = Version(version.split(";")[0].strip())
    return pins


def _bundled() -> dict[str, Version]:
    """The C libraries inside wheels, as this environment runs them."""
    import pillow_heif
    import pysqlite3.dbapi2 as sqlite

    return {"libheif": Version(pillow_heif.libheif_version()), "sqlite": Version(sqlite.sqlite_version)}


ADVISORIES = tomllib.loads((ROOT / "security" / "advisories.toml").read_text())["advisory"]


def test_every_project_dependency_is_pinned_in_the_lock_file():
    import tomllib as toml

    project = toml.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["test"]
    names = {_canonical(re.split(r"[<>=!~\[; ]", spec, 1)[0]) for spec in wanted}
    missing = names - set(_locked())
    assert not missing, f"not in requirements.lock: {sorted(missing)} (run `make lock`)"


@pytest.mark.parametrize("advisory", ADVISORIES, ids=lambda a: f"{a['package']}:{a['id']}")
def test_no_locked_or_bundled_version_is_below_a_known_fix(advisory):
    versions = {**_locked(), **_bundled()}
    package = _canonical(advisory["package"])
    assert package in versions, f"{package} is neither locked nor bundled"
    assert versions[package] >= Version(advisory["fixed"]), (
        f"{package} {versions[package]} is affected by {advisory['id']} ({advisory['summary']}); "
        f"fixed in {advisory['fixed']}")


def test_the_advisory_table_names_only_real_packages():
    known = set(_locked()) | set(_bundled())
    unknown = {_canonical(a["package"]) for a in ADVISORIES} - known
    assert not unknown, f"advisories for packages we do not use: {unknown}"
