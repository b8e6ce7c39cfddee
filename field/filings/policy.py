"""Who may do what with filings, measures and inspection records (field/core/policy.py says how tables are read).

The record kinds' role gates are their registrations' ``roles`` (filings.py, inspections.py, with
``READERS``); the verbs check the rest themselves (``_require_reader``, ``_require_unit``, the
office for decisions and the unfiled list, admins for inspectors' units).
"""

from field.core.models.platform import Role
from field.core.policy import OFFICE, Policy

#: Who may read inspection objects: office staff (their scope) and inspectors (their unit's).
READERS = (Role.admin, Role.reviewer, Role.inspector)

POLICY = Policy({
    "decide": OFFICE,   # a compulsory measure's approval: checked before the request is looked for
})
