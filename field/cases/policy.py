"""Who may do what with the cases' calendar (field/core/policy.py says how tables are read).

The cases' own office check is field/cases/rules.py ``require_office``, run once where a case is
looked up or made; this table holds the rules that are not about one case.
"""

from field.core.policy import ADMINS, Policy

POLICY = Policy({
    "calendar.declare": ADMINS,  # declare a year's schedule (recomputes provisional deadlines)
})
