"""Bearer tokens on every request (who you are; what you may do is the domain's), and the failed-login rate limits."""

from __future__ import annotations

from functools import wraps

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from field.accounts.users import user_for_token
from field.core.errors import AuthenticationFailed
from field.core.models.platform import User

from .bodies import view_reads_own_body
from .db import db, end_before_body

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)

BEARER_SCHEME = {"bearerAuth": []}


def _token_from_header() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_user() -> User:
    """The authenticated caller; 401 (problem body) when there is none or the token is dead.

    The token's read and its last-used touch are part of the request's one transaction
    (api/db.py), with the Idempotency-Key and the work. A view that reads a large body itself
    (multipart, tus: ``reads_own_body``) has that transaction end here, before the body.
    """
    if "user" not in g:
        token = _token_from_header()
        if token is None:
            raise AuthenticationFailed("Send a bearer token: Authorization: Bearer <token>.")
        user, device = user_for_token(db(), token)
        if request.method not in ("GET", "HEAD", "OPTIONS") and view_reads_own_body(current_app):
            end_before_body()
        g.user, g.device = user, device
    return g.user


def current_device():
    current_user()
    return g.device


def authenticated():
    """View decorator: a valid token (401 otherwise). Who may do what is the domain's: every package's
    verbs and lookups check their own policy table (field/core/policy.py), so any operation may answer 403."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            current_user()
            return view(*args, **kwargs)

        doc = getattr(wrapper, "_apidoc", {})
        manual = doc.setdefault("manual_doc", {})
        manual["security"] = [BEARER_SCHEME]
        responses = manual.setdefault("responses", {})
        responses["401"] = "UNAUTHORIZED"
        responses["403"] = "FORBIDDEN"
        wrapper._apidoc = doc
        return wrapper

    return decorate


def login_failed(response) -> bool:
    """Only failed attempts count against the login limits."""
    return response.status_code == 401


def account_key() -> str:
    # The API's JSON body, or the console's sign-in form: one budget per account for both doors.
    body = (request.get_json(silent=True) if request.is_json else request.form) or {}
    username = body.get("username") if isinstance(body, dict) else None
    return f"login-account:{str(username).strip().lower()}" if username else "login-account:-"


def enroll_limits():
    """POST /auth/enroll spends the login budget of the address: a code is guessed like a password."""

    def per_address():
        return current_app.config["LOGIN_LIMIT_PER_ADDRESS"]

    return limiter.shared_limit(per_address, "login-address", key_func=get_remote_address,
                                deduct_when=login_failed)


def init_auth(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    limiter.init_app(app)


def login_limits():
    """The two limits on POST /auth/login, read from configuration at request time."""

    def per_account():
        return current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]

    def per_address():
        return current_app.config["LOGIN_LIMIT_PER_ADDRESS"]

    # Shared limits: every view so decorated (the API's login, the console's sign-in) spends
    # one budget per account and one per address, not a budget per door.
    def decorate(view):
        view = limiter.shared_limit(per_account, "login-account", key_func=account_key,
                                    deduct_when=login_failed)(view)
        view = limiter.shared_limit(per_address, "login-address", key_func=get_remote_address,
                                    deduct_when=login_failed)(view)
        return view

    return decorate


def before_reading(blp, rule) -> None:
    """Run the domain's ``rule(user)`` for every request to ``blp`` before the request is read.

    For areas whose very existence is kept from outsiders (undercover work, cases): an outsider
    gets the domain's answer (404, no such resource) whatever they send, never a 422 about a body
    that only an insider could have got right. The rule is the domain's (field/visits/visits.py
    ``require_undercover_role``, field/cases/rules.py ``require_office``); the API only decides when
    it runs. An unauthenticated request is left to the view (401).
    """

    @blp.before_request
    def _domain_rule_first():
        try:
            user = current_user()
        except AuthenticationFailed:
            return None
        rule(user)
        return None
