"""Who may do what in the reports area beyond its record kinds (field/core/policy.py says how tables are read);
the kinds' own role gates are their registrations' ``roles`` (reports.py, leader_visits.py)."""

from field.core.models.platform import Role
from field.core.policy import OFFICE, Policy

POLICY = Policy({
    "compliance": OFFICE + (Role.leader,),
})
