"""Language and time on pages: zh-CN first, English second (flask-babel); dates in the office's time zone."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, request
from flask_babel import Babel, get_locale

#: The user's choice, set by the language switch (web/pages.py); it beats Accept-Language.
LANG_COOKIE = "fw_lang"
#: Language tag (cookie, Accept-Language, <html lang>) → catalogue locale. The first is the default.
LANGUAGES = {"zh-CN": "zh_Hans_CN", "en": "en"}
DEFAULT_LANGUAGE = "zh-CN"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def select_locale() -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return LANGUAGES[chosen]
    # werkzeug falls back from zh-TW or en-GB to the primary tag; anything else gets Chinese.
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"], default=DEFAULT_LANGUAGE)
    return LANGUAGES["en"] if best == "en" else LANGUAGES[DEFAULT_LANGUAGE]


def current_language() -> str:
    """The page's language tag, for ``<html lang>`` and the switch."""
    locale = str(get_locale())
    return next((tag for tag, name in LANGUAGES.items() if name == locale), DEFAULT_LANGUAGE)


def init_i18n(app: Flask) -> None:
    app.config["BABEL_DEFAULT_LOCALE"] = LANGUAGES[DEFAULT_LANGUAGE]
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["OFFICE_TIME_ZONE"]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(current_language=current_language, languages=list(LANGUAGES))
