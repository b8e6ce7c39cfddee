"""Who may do what with any field record (field/core/policy.py says how tables are read); each kind's own
rules are its registration's ``roles`` (field/records/kinds.py) and its verbs'."""

from field.core.policy import OFFICE, Policy

POLICY = Policy({
    "review": OFFICE,   # the queue and the decisions
})
