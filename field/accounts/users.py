"""Accounts and device tokens: create users, log in from a phone, revoke at once."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from field.core.pages import keyed
from field.core.errors import AuthenticationFailed, Conflict, FieldProblem, InvalidInput, NotAllowed, NotFound
from field.core.models.platform import DeviceToken, Role, User
from field.core.models.base import utcnow
from field.core.read_models import Beside
from field.core.scope import get_in_scope, get_one, resolve_jurisdiction
from .policy import POLICY

#: argon2id with the library's defaults (RFC 9106 second recommendation).
_hasher = PasswordHasher()
#: Verified against when the username is unknown, so a miss costs as much time as a hit.
_DUMMY_HASH = _hasher.hash("not a password of anyone")

MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "fw_"


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password", f"Must be at least {MIN_PASSWORD_LENGTH} characters.")
    return _hasher.hash(password)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: str  #: shown once, never stored
    device: DeviceToken


def create_user(
    session: Session, *, actor: User | None, username: str, password: str, display_name: str,
    role: Role, jurisdiction_id: uuid.UUID,
) -> User:
    """Create an account; ``actor`` None is the command line (first admin)."""
    if actor is not None and actor.role is not Role.admin:
        raise NotAllowed("Only an admin manages accounts.")
    jurisdiction = resolve_jurisdiction(session, actor, jurisdiction_id)
    username = username.strip().lower()
    if session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict(f"The username {username!r} is taken.",
                       fields=[FieldProblem("username", "Already taken.")])
    user = User(
        username=username, display_name=display_name.strip(), role=Role(role),
        jurisdiction_id=jurisdiction.id, jurisdiction=jurisdiction,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    user = session.execute(
        select(User).where(User.username == username.strip().lower())
    ).scalar_one_or_none()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise AuthenticationFailed("Wrong username or password.") from None
    if user is None:
        raise AuthenticationFailed("Wrong username or password.")
    if user.disabled:
        raise AuthenticationFailed("This account is disabled.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def issue_token(session: Session, user: User, device_name: str, ttl: timedelta) -> IssuedToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    device = DeviceToken(
        user_id=user.id, user=user, device_name=device_name.strip() or "unnamed device",
        token_hash=_token_hash(token), created_at=now, expires_at=now + ttl,
    )
    session.add(device)
    session.flush()
    return IssuedToken(token, device)


def login(session: Session, username: str, password: str, device_name: str, ttl: timedelta) -> IssuedToken:
    return issue_token(session, authenticate(session, username, password), device_name, ttl)


def user_for_token(session: Session, token: str, *, now: datetime | None = None,
                   touch_every: timedelta = timedelta(minutes=5)) -> tuple[User, DeviceToken]:
    """The user behind a bearer token, checked against revocation and expiry on every request."""
    now = now or utcnow()
    device = session.execute(
        select(DeviceToken).where(DeviceToken.token_hash == _token_hash(token))
    ).scalar_one_or_none()
    if device is None or device.revoked_at is not None:
        raise AuthenticationFailed("This token is not valid (unknown or revoked).")
    if device.expires_at <= now:
        raise AuthenticationFailed("This token has expired; log in again.")
    if device.user.disabled:
        raise AuthenticationFailed("This account is disabled.")
    # Write last_used_at only now and then: a write on every read request would serialise them.
    if device.last_used_at is None or now - device.last_used_at > touch_every:
        device.last_used_at = now
    return device.user, device


def revoke_token(session: Session, device: DeviceToken, reason: str) -> None:
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        device.revoked_reason = reason
    session.flush()


def revoke_all_tokens(session: Session, user: User, reason: str) -> int:
    result = session.execute(
        update(DeviceToken)
        .where(DeviceToken.user_id == user.id, DeviceToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount


def reset_password(session: Session, username: str, password: str) -> tuple[User, int]:
    """Set a new password from the command line (any account, no actor) and revoke every token
    of it at once: whoever held the old password may have logged in with it. Returns the user
    and how many tokens were revoked."""
    user = find_user(session, username)
    if user is None:
        raise NotFound("user")
    user.password_hash = hash_password(password)
    user.updated_at = utcnow()
    revoked = revoke_all_tokens(session, user, "password_reset")
    session.flush()
    return user, revoked


def list_devices(session: Session, user: User, *, include_revoked: bool = False) -> list[DeviceToken]:
    stmt = select(DeviceToken).where(DeviceToken.user_id == user.id)
    if not include_revoked:
        stmt = stmt.where(DeviceToken.revoked_at.is_(None), DeviceToken.expires_at > utcnow())
    return list(session.execute(stmt.order_by(DeviceToken.created_at)).scalars())


@dataclass(frozen=True)
class DeviceView(Beside):
    """A device as the caller's list shows it: the token's row, and whether it is the one asking."""

    device: DeviceToken
    current: bool
    __row__ = "device"


def my_devices(session: Session, user: User, current_device_id: uuid.UUID | None) -> list[DeviceView]:
    """The caller's devices with a live token, the one making the request marked."""
    return [DeviceView(d, d.id == current_device_id) for d in list_devices(session, user)]


def live_device_counts(session: Session, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many devices with a live token each of these accounts has (the console's people list)."""
    if not user_ids:
        return {}
    return dict(session.execute(
        select(DeviceToken.user_id, func.count(DeviceToken.id))
        .where(DeviceToken.user_id.in_(user_ids), DeviceToken.revoked_at.is_(None), DeviceToken.expires_at > utcnow())
        .group_by(DeviceToken.user_id)
    ).all())


def get_device(session: Session, user: User, device_id: uuid.UUID) -> DeviceToken:
    return get_one(session, DeviceToken, device_id, "device", DeviceToken.user_id == user.id)


def get_user(session: Session, actor: User, user_id: uuid.UUID, *, action: str | None = None) -> User:
    POLICY.require(actor, action)
    return get_in_scope(session, User, user_id, actor, "user")


def change_user(session: Session, actor: User, user: User, changes: dict) -> User:
    """Apply an admin's changes; a role, jurisdiction or disabled change revokes every token at once."""
    if actor.role is not Role.admin:
        raise NotAllowed("Only an admin manages accounts.")
    reasons = []
    if "display_name" in changes:
        if user.role is Role.squad_member:
            # A monitor is shown by their pseudonymous code; a name typed here would unmask them.
            raise InvalidInput("display_name", "A squad member's display name is their code and cannot be changed.")
        user.display_name = changes["display_name"].strip()
    if "password" in changes:
        user.password_hash = hash_password(changes["password"])
        reasons.append("password_changed")
    if "role" in changes and Role(changes["role"]) is not user.role:
        if user.id == actor.id:
            raise InvalidInput("role", "Admins cannot change their own role.")
        user.role = Role(changes["role"])
        reasons.append("role_changed")
    if "jurisdiction_id" in changes and changes["jurisdiction_id"] != user.jurisdiction_id:
        target = resolve_jurisdiction(session, actor, changes["jurisdiction_id"])
        user.jurisdiction_id, user.jurisdiction = target.id, target
        reasons.append("jurisdiction_changed")
    if "disabled" in changes and changes["disabled"] != user.disabled:
        if user.id == actor.id and changes["disabled"]:
            raise InvalidInput("disabled", "Admins cannot disable themselves.")
        user.disabled = changes["disabled"]
        if user.disabled:
            reasons.append("disabled")
    if reasons:
        revoke_all_tokens(session, user, reasons[-1])
    user.updated_at = utcnow()
    session.flush()
    return user


@keyed(User.created_at, User.id)
def users_query(actor: User, *, role: Role | None = None, include_disabled: bool = True):
    from field.core.scope import in_scope

    if actor.role is not Role.admin:
        raise NotAllowed("Only an admin lists accounts.")
    stmt = select(User).where(in_scope(User.jurisdiction_id, actor))
    if role is not None:
        stmt = stmt.where(User.role == role)
    if not include_disabled:
        stmt = stmt.where(User.disabled.is_(False))
    return stmt


def find_user(session: Session, username: str) -> User | None:
    """The account of this username (as stored: trimmed, lower case), for the command line."""
    return session.execute(select(User).where(User.username == username.strip().lower())).scalar_one_or_none()


def count_users(session: Session) -> int:
    return session.execute(select(func.count(User.id))).scalar_one()
