"""Who may do what with accounts and jurisdictions (field/core/policy.py says how tables are read)."""

from field.core.policy import ADMINS, Policy

POLICY = Policy({
    "users.manage": ADMINS,          # list, create, read, change, revoke another's tokens, enroll a device
    "jurisdictions.change": ADMINS,  # add, rename, redraw
})
