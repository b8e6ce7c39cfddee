"""Pages for people, beside the API: the office console (/console/) and the public mobile pages (docs/console.md).

Only the app factory imports this package. It may import api's infrastructure (the
request's database session, the login limiter, the error table, evidence serving),
schemas/ and field/; the console calls the same domain verbs as the API.
"""

from __future__ import annotations

from flask import Flask

from . import i18n, pages
from .console import blp as console_blp
from .public import blp as public_blp


def init_web(app: Flask) -> None:
    # Every template is escaped, not only the .html ones Flask picks by name.
    app.jinja_env.autoescape = True
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    i18n.init_i18n(app)
    pages.init_pages(app)
    app.register_blueprint(pages.blp)
    app.register_blueprint(console_blp)
    app.register_blueprint(public_blp)
