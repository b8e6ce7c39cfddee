"""Who may do what with complaints (field/core/policy.py): the office, the hotline's operators, the units' handlers."""

from __future__ import annotations

from field.core.models.platform import Role
from field.core.policy import Policy

OFFICE = (Role.admin, Role.reviewer)
#: Who sees complaints at all: the office and its operators in their scope, handlers their unit's.
READERS = (Role.admin, Role.reviewer, Role.operator, Role.handler)

POLICY = Policy({
    "record_call": (Role.admin, Role.reviewer, Role.operator),
    "read": READERS,
    "triage": OFFICE,
    "dispatch": OFFICE,
    "respond": (Role.handler,),
    "answer": (Role.handler,),
    "call_back": (Role.admin, Role.reviewer, Role.operator),
    "escalate": OFFICE,
    "watch": OFFICE,
    "set_limits": (Role.admin,),
    "assign_handler": (Role.admin,),
    "read_limits": (Role.admin, Role.reviewer, Role.operator),
})
