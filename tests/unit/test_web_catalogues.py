"""The pages' catalogues: every string of web/ has its Chinese text, and each committed .mo is its .po compiled."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from web.translations.catalogue import LOCALES, po_path

WEB = Path(__file__).resolve().parents[2] / "web"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _extracted() -> set[str]:
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(WEB), method_map=method_map, keywords=KEYWORDS, options_map={"**/templates/**.html": {}}):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_string_of_the_pages_has_a_chinese_text():
    with po_path("zh_Hans_CN").open("rb") as f:
        catalog = read_po(f)
    translated = {m.id for m in catalog if m.id and m.string}
    strings = _extracted()
    assert len(strings) > 100
    assert sorted(strings - translated) == [], "run `make translations` and fill in the Chinese"


def _messages(catalog) -> dict[str, str]:
    return {m.id: m.string for m in catalog if m.id and m.string}


@pytest.mark.parametrize("locale", LOCALES)
def test_the_committed_mo_file_holds_exactly_the_po_texts(locale):
    with po_path(locale).open("rb") as f:
        po = _messages(read_po(f))
    with po_path(locale).with_suffix(".mo").open("rb") as f:
        mo = _messages(read_mo(f))
    assert mo == po, "run `make translations` (web/translations/catalogue.py compiles the .po)"


def test_every_flag_the_domain_raises_is_said_in_chinese_with_its_figures():
    """web/console/labels.flag_detail: the evidence flags' details, from their data, in the reader's language."""
    from flask import Flask
    from flask_babel import Babel, force_locale

    from web.console.labels import flag_detail

    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).resolve().parents[2] / "web" / "translations")
    Babel(app)
    cases = {
        "no_exif": ({}, "EXIF"),
        "trailing_data": ({"bytes": 12345, "looks_like": "zip"}, "12,345"),
        "gps_far_from_record": ({"distance_m": 8148733.2, "allowed_m": 215.0}, "8,148,733"),
        "captured_outside_window": ({}, "时间段"),
        "same_photo_elsewhere": ({"count": 3}, "3"),
        "similar_photo_elsewhere": ({"count": 2}, "2"),
    }
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        for code, (data, figure) in cases.items():
            said = flag_detail(code, "English detail", data)
            assert figure in said and said != "English detail", (code, said)
            assert any("\u4e00" <= ch <= "\u9fff" for ch in said), (code, said)
        assert flag_detail("some_new_flag", "English detail", {}) == "English detail"
