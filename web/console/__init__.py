"""The office console under /console/: sign-in, the review queue, a record (docs/console.md)."""

from __future__ import annotations

from flask import Blueprint, g, redirect, request, url_for
from flask_limiter.errors import RateLimitExceeded

from .. import csrf, pages, session
from . import labels
from .nav import NAV

blp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates")

#: Reachable without a session (their POST is checked against the pre-session CSRF secret).
OPEN_ENDPOINTS = frozenset({"console.sign_in_form", "console.sign_in"})


@blp.before_request
def _gate():
    if request.endpoint in OPEN_ENDPOINTS:
        if request.method == "POST":
            csrf.require(csrf.pre_secret())
        return None
    try:
        session.current()
    except session.NotSignedIn as ended:
        here = request.path + (f"?{request.query_string.decode()}" if request.query_string else "")
        return redirect(url_for("console.sign_in_form", next=here if request.method == "GET" else None,
                                ended=None if ended.reason == "none" else ended.reason), code=303)
    if request.method not in ("GET", "HEAD"):
        csrf.require(g.console_token)
    return None


@blp.context_processor
def _context():
    return {"user": g.get("console_user"), "nav": NAV, "label": labels.label, "labels": labels}


def _error(exc):
    return pages.error_page(exc, layout="console/layout.html")


# Flask looks up handlers by status code before class: the app's 429 handler (problem+json) would
# win over a blueprint's Exception handler, so the sign-in limit gets its own registration.
blp.register_error_handler(RateLimitExceeded, _error)
blp.register_error_handler(Exception, _error)


from . import calendar_page, cases, directory_page, figures_page, map_page, people, views  # noqa: E402,F401  (routes register on blp)
