"""Vendored front-end files are exactly what web/static/LICENSES records, each library with its licence."""

from __future__ import annotations

import hashlib
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"


def _recorded() -> dict[str, str]:
    lines = (STATIC / "LICENSES").read_text().splitlines()
    return {parts[1]: parts[2] for parts in (line.split() for line in lines) if parts[:1] == ["file"]}


def test_every_vendored_file_is_recorded_with_its_sha256_and_nothing_else_is_there():
    recorded = _recorded()
    present = {str(p.relative_to(STATIC)) for p in (STATIC / "vendor").rglob("*") if p.is_file()}
    assert set(recorded) == present
    for name, digest in recorded.items():
        assert hashlib.sha256((STATIC / name).read_bytes()).hexdigest() == digest, name


def test_every_vendored_library_carries_its_licence_text():
    for library in (STATIC / "vendor").iterdir():
        assert any("licen" in p.name.lower() for p in library.iterdir()), library.name


def test_no_page_or_stylesheet_loads_anything_from_another_origin():
    ours = [p for p in STATIC.parent.rglob("*") if p.suffix in (".html", ".css") and "vendor" not in p.parts]
    assert len(ours) > 10
    for path in ours:
        text = path.read_text()
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, path
