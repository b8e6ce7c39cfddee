"""Device enrollment by QR code: an admin makes a one-time code for an account, a phone exchanges it.

The code is shown once (inside a QR code, with the server's address: docs/console.md
"Device enrollment") and stored only as its SHA-256, as device tokens are. It expires in
minutes (``ttl``), is spent by the first exchange (an UPDATE guarded by ``used_at IS NULL``,
so two phones racing with one code get one token between them), and gives the phone an
ordinary device token: revoking that device (console or API) ends it on the next request.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from field.core.errors import AuthenticationFailed, InvalidInput
from field.core.models.base import utcnow
from field.core.models.platform import User

from .models import EnrollmentCode
from .policy import POLICY
from .users import IssuedToken, _token_hash, issue_token

CODE_PREFIX = "fwe_"
#: How long a code may wait for its phone, at most (the admin may choose less).
MAX_TTL = timedelta(minutes=30)


@dataclass(frozen=True)
class IssuedCode:
    code: str  #: shown once (in the QR code), never stored
    row: EnrollmentCode


def create_code(session: Session, actor: User, user: User, ttl: timedelta) -> IssuedCode:
    """A new one-time code for ``user`` (already fetched in the admin's scope)."""
    POLICY.require(actor, "users.manage")
    if user.disabled:
        raise InvalidInput("user", "This account is disabled; enable it before enrolling a device.")
    if not timedelta(minutes=1) <= ttl <= MAX_TTL:
        raise InvalidInput("ttl", f"Between 1 and {int(MAX_TTL.total_seconds() // 60)} minutes.")
    code = CODE_PREFIX + secrets.token_urlsafe(18)
    now = utcnow()
    row = EnrollmentCode(user_id=user.id, user=user, created_by_id=actor.id, code_hash=_token_hash(code),
                         created_at=now, expires_at=now + ttl)
    session.add(row)
    session.flush()
    return IssuedCode(code, row)


def redeem(session: Session, code: str, device_name: str, token_ttl: timedelta) -> IssuedToken:
    """Exchange a code for a device token of its account; AuthenticationFailed if unknown, spent or expired."""
    refused = AuthenticationFailed("This enrollment code is not valid (unknown, used or expired).")
    row = session.execute(
        select(EnrollmentCode).where(EnrollmentCode.code_hash == _token_hash(code))
    ).scalar_one_or_none()
    now = utcnow()
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise refused
    if row.user.disabled:
        raise AuthenticationFailed("This account is disabled.")
    spent = session.execute(
        update(EnrollmentCode).where(EnrollmentCode.id == row.id, EnrollmentCode.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if spent != 1:
        raise refused
    issued = issue_token(session, row.user, device_name, token_ttl)
    row.used_at, row.device_id = now, issued.device.id
    session.flush()
    return issued


def qr_payload(server_url: str, code: str, expires_at) -> str:
    """What the QR code holds (docs/console.md "Device enrollment"): compact JSON, keys sorted.

    ``{"code": "fwe_…", "expires_at": "2026-12-05T04:10:00Z", "fieldwatch": "enroll", "server": "https://…/", "v": 1}``
    """
    import json

    when = expires_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    server = server_url if server_url.endswith("/") else server_url + "/"
    return json.dumps({"fieldwatch": "enroll", "v": 1, "server": server, "code": code, "expires_at": when},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def open_codes(session: Session, user: User) -> list[EnrollmentCode]:
    """Codes of ``user`` still waiting for a phone (for the admin's page)."""
    return list(session.execute(
        select(EnrollmentCode).where(EnrollmentCode.user_id == user.id, EnrollmentCode.used_at.is_(None),
                                     EnrollmentCode.expires_at > utcnow())
        .order_by(EnrollmentCode.created_at)
    ).scalars())


def withdraw(session: Session, actor: User, row: EnrollmentCode) -> None:
    """An admin cancels a code before a phone used it (a QR code shown to the wrong person)."""
    POLICY.require(actor, "users.manage")
    if row.used_at is None:
        row.expires_at = utcnow()
    session.flush()
