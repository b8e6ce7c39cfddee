"""Public mobile pages for citizens and enterprises, no sign-in: the base layout, a landing page, complaints.

Complaints (issue 14) and evaluations (issue 15) add their pages here, on public/layout.html;
their forms take the pre-session CSRF token (web/csrf.py) like the console's sign-in.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from .. import pages

blp = Blueprint("public", __name__, template_folder="templates")


@blp.get("/")
def landing():
    return render_template("public/landing.html")


@blp.errorhandler(Exception)
def _error(exc):
    return pages.error_page(exc, layout="public/layout.html")


from . import evaluations  # noqa: E402,F401  (the rater's page registers its routes on this blueprint)
from . import complaints  # noqa: E402,F401  (its routes are the blueprint's)
