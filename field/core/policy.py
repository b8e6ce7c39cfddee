"""Who may do what: one table per package, checked by the package's own verbs and lookups.

The API only authenticates (api/auth.py ``authenticated``); a role rule lives in the domain, in
the ``POLICY`` of the package it governs (``field/<package>/policy.py``), and is checked where
the package acts: first thing in a verb that makes something, in a list's query function, and in
the lookup that fetches an object to change (``action=``), before the object is looked for, so
that a role that may never do it gets the same 403 for any id, existing, foreign or covert.
Object rules (scope, circles, covert things) stay in the lookups' predicates (field/core/scope.py).
"""

from __future__ import annotations

from field.core.errors import NotAllowed
from field.core.models.platform import Role, User

ADMINS = (Role.admin,)
OFFICE = (Role.admin, Role.reviewer)


class Policy:
    """A package's table: action → the roles that may do it. Actions not in it are open to every role."""

    def __init__(self, table: dict[str, tuple[Role, ...]]):
        self.table = dict(table)

    def allows(self, user: User, action: str) -> bool:
        roles = self.table.get(action)
        return roles is None or user.role in roles

    def require(self, user: User | None, action: str | None) -> None:
        """403 unless ``user``'s role may do ``action`` (no user: the command line, which may do anything)."""
        if user is None or action is None or self.allows(user, action):
            return
        roles = self.table[action]
        raise NotAllowed(f"This needs the role {' or '.join(r.value for r in roles)}.")
