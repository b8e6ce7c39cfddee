"""What every page shares: the security headers, HTML error pages, static files and the language switch."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import HTTPException

from api.errors import CATALOGUE, DOMAIN_ERRORS

from . import csrf
from .i18n import LANG_COOKIE, LANGUAGES

log = logging.getLogger(__name__)

blp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/assets")

#: The blueprints whose answers are pages (and their assets): they get the headers below.
PAGE_BLUEPRINTS = frozenset({"web", "console", "public"})
#: Pages for citizens: no referrer at all leaves them (a tracking number may be in a path later).
PUBLIC_BLUEPRINTS = frozenset({"public"})


def content_security_policy(config) -> str:
    """No inline script or style, nothing from another origin but the evidence store's signed URLs."""
    # data: for images only: the enrollment QR code is drawn into the page (its code is never stored, so
    # no route could serve it later); a data: image cannot run script.
    images = ["'self'", "data:"]
    if config["EVIDENCE_STORAGE"] == "s3" and config["S3_ENDPOINT_URL"]:
        parts = urlsplit(config["S3_ENDPOINT_URL"])
        images.append(f"{parts.scheme}://{parts.netloc}")
    if config.get("MAP_TILE_URL"):
        from .console.maps import tile_origin

        images.append(tile_origin(config["MAP_TILE_URL"]))
    tiles = urlsplit(config.get("PUBLIC_MAP_TILES") or "")
    if tiles.scheme in ("http", "https") and tiles.netloc:  # the public page's map (web/public/complaints.py)
        images.append(f"{tiles.scheme}://{tiles.netloc}")
    return "; ".join([
        "default-src 'none'", "script-src 'self'", "style-src 'self'", f"img-src {' '.join(images)}",
        "connect-src 'self'", "font-src 'self'", "form-action 'self'", "base-uri 'none'",
        "frame-ancestors 'none'",
    ])


def _headers(response):
    if request.blueprint not in PAGE_BLUEPRINTS:
        return response
    headers = response.headers
    # Evidence bytes keep the API's stricter "default-src 'none'; sandbox" (api/evidence.py).
    headers.setdefault("Content-Security-Policy", current_app.extensions["WEB_CSP"])
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer" if request.blueprint in PUBLIC_BLUEPRINTS else "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.blueprint == "console":
        headers["Cache-Control"] = "no-store"  # office data stays out of shared and back-button caches
    headers.add("Vary", "Cookie")
    new_secret = g.pop("csrf_new_pre_secret", None)
    if new_secret:
        response.set_cookie(csrf.PRE_COOKIE, new_secret, path="/", httponly=True, secure=request.is_secure,
                            samesite="Strict")
    return response


#: A page's form is a few fields and a comment; nothing bigger is read.
MAX_FORM_BYTES = 64 * 1024


#: Forms that carry a file, by endpoint: their own bound (the directory's import: a district's enterprises).
FILE_FORM_BYTES = {"console.directory_import": 16 * 1024 * 1024}


def _bound_form_bodies():
    if request.blueprint in PAGE_BLUEPRINTS:
        request.max_content_length = FILE_FORM_BYTES.get(request.endpoint, MAX_FORM_BYTES)


def init_pages(app: Flask) -> None:
    app.extensions["WEB_CSP"] = content_security_policy(app.config)
    # The API's JSON-only body guard (api/bodies.py) leaves these to us.
    app.extensions["FORM_BLUEPRINTS"] = PAGE_BLUEPRINTS
    app.before_request(_bound_form_bodies)
    app.after_request(_headers)
    app.jinja_env.globals.update(csrf_field=csrf.FIELD, csrf_token=csrf_token, pre_csrf_token=pre_csrf_token)


def csrf_token() -> str:
    """The token of the forms on this page: the session's when signed in, else the pre-session one."""
    secret = g.get("console_token")
    return csrf.token_for(secret) if secret else pre_csrf_token()


def pre_csrf_token() -> str:
    return csrf.token_for(csrf.pre_secret())


def local_path(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site (no scheme, no host, no //), else ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else default


# -- error pages ---------------------------------------------------------------------------------


def status_of(exc: Exception) -> int:
    """The status the API would answer (api/errors.py's one table), for a page."""
    if isinstance(exc, HTTPException):
        return exc.code or 500
    for cls in type(exc).__mro__:
        if cls in DOMAIN_ERRORS:
            return getattr(exc, "status", None) or CATALOGUE[DOMAIN_ERRORS[cls]].status
    return 500


_TITLES = {
    400: lambda: _("The request was refused"),
    403: lambda: _("Not allowed"),
    404: lambda: _("Not found"),
    409: lambda: _("This cannot be done now"),
    429: lambda: _("Too many attempts"),
    503: lambda: _("Temporarily unavailable"),
}


def error_page(exc: Exception, *, layout: str = "web/base.html"):
    if isinstance(exc, RateLimitExceeded):
        detail = (_("Too many requests from this connection. Wait a while and try again.")
                  if request.blueprint in PUBLIC_BLUEPRINTS else
                  _("Too many failed sign-in attempts. Wait a minute and try again."))
        return render_template("web/error.html", layout=layout, status=429, title=_TITLES[429](), detail=detail), 429
    if isinstance(exc, csrf.CsrfRefused):
        log.info("CSRF refused on %s %s: %s", request.method, request.path, exc)
        return render_template("web/error.html", layout=layout, status=400, title=_TITLES[400](),
                               detail=_("The form had expired or did not come from this site. "
                                        "Go back, reload the page and try again.")), 400
    status = status_of(exc)
    if status >= 500:
        log.exception("error on page %s %s", request.method, request.path, exc_info=exc)
    title = _TITLES.get(status, lambda: _("Something went wrong"))()
    detail = {404: _("There is nothing here, or it is not in your area."),
              403: _("Your account may not do this.")}.get(status)
    if detail is None:
        detail = _("Try again in a moment.") if status >= 500 else getattr(exc, "detail", None) or title
    return render_template("web/error.html", layout=layout, status=status, title=title, detail=detail), status


blp.register_error_handler(Exception, error_page)


# -- the language switch -------------------------------------------------------------------------


@blp.route("/lang", methods=["POST"])
def set_language():
    csrf.require(csrf.pre_secret())
    chosen = request.form.get("lang")
    back = redirect(local_path(request.form.get("next"), "/"), code=303)
    if chosen in LANGUAGES:
        back.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, path="/", httponly=True,
                        secure=request.is_secure, samesite="Lax")
    return back
