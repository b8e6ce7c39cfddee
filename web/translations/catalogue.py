"""Build the .po/.mo catalogues from the extracted template (messages.pot): ``make translations``.

The Chinese texts are kept in zh_Hans_CN/LC_MESSAGES/messages.po and edited there; this
script merges newly extracted strings into each catalogue (keeping what is translated)
and compiles the .mo files, which are committed so that a fresh clone needs no build step.
tests/unit/test_web_catalogues.py fails when a string of the templates has no Chinese text
or a .mo is not the compilation of its .po.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent
LOCALES = ("zh_Hans_CN", "en")


def po_path(locale: str) -> Path:
    return HERE / locale / "LC_MESSAGES" / "messages.po"


def compiled(po: Path) -> bytes:
    with po.open("rb") as f:
        catalog = read_po(f)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def update(template: Path) -> None:
    with template.open("rb") as f:
        pot = read_po(f)
    for locale in LOCALES:
        path = po_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as f:
                catalog = read_po(f, locale=locale)
        else:
            catalog = Catalog(locale=locale, project="fieldwatch")
        catalog.update(pot, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with path.open("wb") as f:
            write_po(f, catalog, omit_header=True, no_location=True, sort_output=True, width=120)
        path.with_suffix(".mo").write_bytes(compiled(path))


if __name__ == "__main__":
    update(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "messages.pot")
