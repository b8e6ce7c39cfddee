"""Bearer tokens on every request (who you are; what you may do is the domain's), and the failed-login rate limits."""

from __future__ import annotations

from functools import wraps

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from field.accounts.users import user_for_token
from field.core.errors import AuthenticationFailed
from field.core.models.platform import User

from .db import db

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)

BEARER_SCHEME = {"bearerAuth": []}


def _token_from_header() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_user(*, continue_transaction: bool = False) -> User:
    """The authenticated caller; 401 (problem body) when there is none or the token is dead.

    ``continue_transaction``: the caller writes next in the transaction that read the token
    (the Idempotency-Key, then the request's work), and the last-used touch commits with them.
    """
    if "user" not in g:
        token = _token_from_header()
        if token is None:
            raise AuthenticationFailed("Send a bearer token: Authorization: Bearer <token>.")
        session = db()
        user, device = user_for_token(session, token)
        # Commit the last-used touch now, before the view: a read request never commits. A read
        # without a touch goes on in the same transaction: a commit and a checkout spared. A write
        # request ends the token's transaction before its view, which may read a large body first:
        # the transaction would hold SQLite's write lock (taken at BEGIN) or a pooled connection
        # all along. Unless the caller writes at once in it (continue_transaction).
        if not continue_transaction and (session.dirty or request.method not in ("GET", "HEAD", "OPTIONS")):
            session.commit()
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
