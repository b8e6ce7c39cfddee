"""The console session: an opaque token in a cookie, which is a server-side DeviceToken row like a phone's.

Every request resolves the cookie through ``field.accounts.user_for_token``, the check
every bearer token gets: sign-out, an admin's revoke, a disabled account and a changed
role, jurisdiction or password end it on the very next request. A session also ends
when unused for ``CONSOLE_IDLE_MINUTES``.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Response, current_app, g, request
from sqlalchemy import inspect

from api.db import db, keep_work
from field.accounts import users as accounts
from field.accounts.users import IssuedToken
from field.core.errors import AuthenticationFailed, NotAllowed
from field.core.models.base import utcnow
from field.core.models.platform import OFFICE_ROLES, DeviceToken, User

COOKIE = "fw_console"
#: What the session row is called in the user's device list (and an admin's).
DEVICE_NAME = "console (browser)"
#: The console's pages and images only: the API never reads this cookie.
COOKIE_PATH = "/console"


class NotSignedIn(Exception):
    """No session, or one that has ended; ``reason`` says which, for the sign-in page."""

    def __init__(self, reason: str = "none"):
        super().__init__(reason)
        self.reason = reason


class NotOfficeStaff(NotAllowed):
    """A correct password of an account the console is not for."""

    def __init__(self, user: User):
        super().__init__(f"The console is for office staff; a {user.role.value} works with the phone app.")
        self.role = user.role


def sign_in(username: str, password: str) -> IssuedToken:
    """Check the password (AuthenticationFailed) and the role (NotOfficeStaff); a new session row."""
    session = db()
    user = accounts.authenticate(session, username, password)
    if user.role not in OFFICE_ROLES:
        raise NotOfficeStaff(user)
    ttl = timedelta(hours=current_app.config["CONSOLE_SESSION_HOURS"])
    return accounts.issue_token(session, user, DEVICE_NAME, ttl)


def current() -> tuple[User, DeviceToken]:
    """The signed-in office user and their session row; NotSignedIn otherwise."""
    if "console_user" in g:
        return g.console_user, g.console_device
    token = request.cookies.get(COOKIE)
    if not token:
        raise NotSignedIn()
    session = db()
    try:
        user, device = accounts.user_for_token(session, token)
    except AuthenticationFailed:
        raise NotSignedIn("ended") from None
    idle = timedelta(minutes=current_app.config["CONSOLE_IDLE_MINUTES"])
    # user_for_token has just touched last_used_at (every 5 minutes): judge by the value before.
    touched = inspect(device).attrs.last_used_at.history.deleted
    last_used = (touched[0] if touched else device.last_used_at) or device.created_at
    if utcnow() - last_used > idle:
        accounts.revoke_token(session, device, "idle")
        keep_work()  # the revocation stands, although the request ends here
        raise NotSignedIn("idle")
    if user.role not in OFFICE_ROLES:  # a role change revokes every token; this is the second lock
        raise NotSignedIn("ended")
    # The last-used touch commits with the request's work (api/db.py), as a bearer token's does.
    # api.auth.current_user() reads these too: the API's helpers work unchanged inside console views.
    g.console_user, g.console_device, g.console_token = user, device, token
    g.user, g.device = user, device
    return user, device


def current_or_none() -> tuple[User, DeviceToken] | tuple[None, None]:
    try:
        return current()
    except NotSignedIn:
        return None, None


def sign_out() -> None:
    _user, device = current()
    accounts.revoke_token(db(), device, "logout")


def set_cookie(response: Response, issued: IssuedToken) -> None:
    max_age = int((issued.device.expires_at - utcnow()).total_seconds())
    response.set_cookie(COOKIE, issued.token, max_age=max_age, path=COOKIE_PATH, httponly=True,
                        secure=request.is_secure, samesite="Lax")


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, secure=request.is_secure, samesite="Lax")
