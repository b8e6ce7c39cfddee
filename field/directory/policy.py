"""Who may do what in the directory (field/core/policy.py says how tables are read).

Everyone reads the directory of their scope (covert points and squads only within their circle:
field/directory/monitoring.py, squads.py); only admins change it.
"""

from field.core.policy import ADMINS, Policy

POLICY = Policy({
    "change": ADMINS,          # units, persons, enterprises, monitoring points
    "squads.change": ADMINS,   # squads, their members, unmasking and its log
})
