"""CSRF: a synchronizer token derived from the console session's own secret, or from a pre-session cookie.

The token is HMAC-SHA256(secret, purpose). Signed in, the secret is the session's opaque
token (the cookie the browser holds and the script cannot read): the CSRF token dies with
the session row, and no server key is needed, so every gunicorn worker agrees without a
shared SECRET_KEY. Before sign-in (the sign-in form, the language switch, later the public
forms) the secret is a random pre-session cookie. Why not Flask-WTF: docs/console.md.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from flask import g, request

#: The form field (or X-CSRF-Token header, for htmx) carrying the token.
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
#: Random secret of a browser that is not signed in; HttpOnly, SameSite=Strict.
PRE_COOKIE = "fw_pre"
_PURPOSE = b"fieldwatch csrf v1"


class CsrfRefused(Exception):
    """A state-changing request without the right token, or from another site."""


def _derive(secret: str) -> str:
    return hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).hexdigest()


def pre_secret() -> str:
    """The browser's pre-session secret; a new one is made (and set by ``pages``) if it has none."""
    if "csrf_pre_secret" not in g:
        current = request.cookies.get(PRE_COOKIE, "")
        if len(current) < 32:
            current = secrets.token_urlsafe(32)
            g.csrf_new_pre_secret = current
        g.csrf_pre_secret = current
    return g.csrf_pre_secret


def token_for(secret: str) -> str:
    return _derive(secret)


def require(secret: str | None) -> None:
    """Refuse the request unless it carries the token of ``secret`` and comes from this site."""
    origin = request.headers.get("Origin")
    if origin and origin != "null" and _origin(origin) != _origin(request.host_url):
        raise CsrfRefused(f"cross-site request from {origin}")
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise CsrfRefused("cross-site request")
    sent = request.form.get(FIELD) or request.headers.get(HEADER) or ""
    if not secret or not hmac.compare_digest(sent.encode(), _derive(secret).encode()):
        raise CsrfRefused("missing or wrong CSRF token")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()
