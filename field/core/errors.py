"""Domain errors: what went wrong in the rules, knowing nothing of HTTP (api/errors.py maps them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    """One input field and what is wrong with it; ``field`` is a dotted path into the request."""

    field: str
    message: str


class DomainError(Exception):
    """Base of every rule violation; ``detail`` is a sentence for the person using the phone."""

    def __init__(self, detail: str, *, fields: list[FieldProblem] | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        self.fields = fields or []
        #: Extra members for the problem body (e.g. ``allowed`` transitions, ``earliest``).
        self.extra = extra


class NotFound(DomainError):
    """Absent, or outside the caller's scope: the two are indistinguishable on purpose."""

    def __init__(self, what: str):
        super().__init__(f"No such {what}.")
        self.what = what


class NotAllowed(DomainError):
    """The caller's role may not do this (to objects it can see)."""


class AuthenticationFailed(DomainError):
    """Wrong credentials, or a token that is unknown, expired or revoked."""


class Conflict(DomainError):
    """The request contradicts what is stored (a taken name, a reused id with another body)."""


class InvalidInput(DomainError):
    """Input that passes the schema but breaks a domain rule; names the field."""

    def __init__(self, field: str, message: str, **extra):
        super().__init__(message, fields=[FieldProblem(field, message)], **extra)


class InvalidTransition(DomainError):
    """A state change not allowed from the current state; carries the allowed ones."""

    def __init__(self, current: str, wanted: str, allowed: list[str]):
        super().__init__(
            f"Cannot go from {current!r} to {wanted!r}; allowed: {', '.join(allowed) or 'none'}.",
            current=current, wanted=wanted, allowed=allowed,
        )
