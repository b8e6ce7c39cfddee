"""Who may do what in evaluations: one table, read by every function of the package (the API only authenticates).

Office staff (admin, reviewer) run the campaigns. An inspector stands for the unit they are
assigned to (field/filings/inspectors.py): they see and answer the bad ratings of that unit and
of the sections and windows below it, never who gave them. Every other role has no evaluations:
to them the area answers like an id that does not exist (404).

A row is ``action: (roles allowed, roles that may see the object but not do this)``; a caller in
neither gets NotFound (the object does not exist for them), one in the second NotAllowed (403).
"""

from __future__ import annotations

from field.core.errors import NotAllowed, NotFound
from field.core.models.platform import Role, User

OFFICE = frozenset({Role.admin, Role.reviewer})
UNIT = frozenset({Role.inspector})

POLICY: dict[str, tuple[frozenset[Role], frozenset[Role]]] = {
    "questionnaire.read": (OFFICE, frozenset()),
    "questionnaire.write": (OFFICE, frozenset()),
    "campaign.read": (OFFICE, frozenset()),
    "campaign.write": (OFFICE, frozenset()),
    "invitation.issue": (OFFICE, frozenset()),
    "invitation.read": (OFFICE, frozenset()),
    "results.read": (OFFICE, frozenset()),
    "rectification.read": (OFFICE | UNIT, frozenset()),
    "rectification.answer": (OFFICE | UNIT, frozenset()),
    "rectification.appeal": (OFFICE | UNIT, frozenset()),
    "rectification.verify": (OFFICE, UNIT),
    "rectification.decide": (OFFICE, UNIT),
    "rectification.escalate": (OFFICE, UNIT),
    #: The rater behind a bad rating, for the callback (回访): an admin of the office, logged in custody,
    #: like every other disclosure of an identity (a monitor's, a complainant's).
    "rater.disclose": (frozenset({Role.admin}), frozenset({Role.reviewer}) | UNIT),
}


def allows(user: User, action: str) -> bool:
    return user.role in POLICY[action][0]


def require(user: User, action: str, what: str = "evaluation") -> None:
    """Let the caller do ``action``, or answer as the table says: 403 to those who see it, else 404."""
    allowed, seeing = POLICY[action]
    if user.role in allowed:
        return
    if user.role in seeing:
        raise NotAllowed("Only the office may do this." if user.role not in OFFICE else "Only an admin may do this.")
    raise NotFound(what)
