"""Who may do what with the custody log's signed checkpoints (field/core/policy.py says how tables are read)."""

from field.core.policy import ADMINS, Policy

POLICY = Policy({
    "checkpoints.read": ADMINS,
})
