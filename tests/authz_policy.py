"""THE authorization policy: for every operation of the OpenAPI and every role, what each kind of object answers.

How to read a row
=================

Six cells per operation, one per role, in this order::

    admin  reviewer  inspector  squad_member  liaison  leader

An operation on one object (an id in its path, or a body naming an object) has a cell of four
symbols, one per relation of the object to the caller (tests/authz_world.py makes them)::

    own      the caller's own circle: their record or upload, their squad's, their point's, their
             unit's; for office staff and for directory objects: an object of the home district
    peer     the same circle, another person's (a squad mate, a co-liaison, a colleague of the unit,
             a case handled by another reviewer)
    sibling  another circle of the home district: the other squad, point, unit (or a street below)
    foreign  the other district

Symbols::

    A   allowed: 2xx or 3xx
    3   403 problem: the role may not do this (a role gate, or a rule the caller can already see)
    4   404 problem, word for word the answer to an id that does not exist
    C   409: refused for the object's state, after the caller was let in (a unit with people in it)
    I   422 naming the field: the body names an object the caller may not use (as if it did not exist)
    .   this relation does not apply to the resource (no such object in the world)

A list (a GET of a collection) has ``L`` and then, per relation, ``+`` (the object is in the
answer) or ``-`` (absent) or ``.``; or just ``3``/``4`` when it is refused. Any other operation
has one symbol.

Two rules hold over the whole table, and tests/api/test_authz_matrix.py proves both on the wire:

- another district's object answers exactly like an id that does not exist (DESIGN: "object ids
  from elsewhere answer 404"; a body naming one: the same 422);
- covert things (``COVERT``: a covert monitoring point, squads and their members, undercover work,
  cases) answer anyone outside their circle exactly like an id that does not exist: 404, never a
  403 that only an existing object would get. A 403 is right for them only where it is the same
  for every id, existing or not: a role gate checked before any lookup (PATCH of a point by a
  liaison), which says nothing about the object.
"""

from __future__ import annotations

from field.core.models.platform import Role
from tests.authz_kinds import contributions

ROLES = (Role.admin, Role.reviewer, Role.inspector, Role.squad_member, Role.liaison, Role.leader)
RELATIONS = ("own", "peer", "sibling", "foreign")
ALLOWED_SYMBOLS = set("A34CI.")


def row(admin, reviewer, inspector, squad_member, liaison, leader) -> dict[Role, str]:
    return dict(zip(ROLES, (admin, reviewer, inspector, squad_member, liaison, leader)))


def everyone(cell: str) -> dict[Role, str]:
    return row(*[cell] * 6)


def admin_only(cell: str, refused: str) -> dict[Role, str]:
    """Admins get ``cell``; every other role the role gate's 403 (``refused``: the same shape of 3s)."""
    return row(cell, *[refused] * 5)


def office(cell: str, others: str) -> dict[Role, str]:
    return row(cell, cell, *[others] * 4)


#: Which objects each list is checked for, by the path parameter that names them.
LISTED = {
    "GET /api/v1/me/devices": "device_id",
    "GET /api/v1/users": "user_id",
    "GET /api/v1/jurisdictions": "jurisdiction_id",
    "GET /api/v1/calendar/overrides": "override_id",
    "GET /api/v1/review-queue": "record_id",
    "GET /api/v1/units": "unit_id",
    "GET /api/v1/persons": "person_id",
    "GET /api/v1/enterprises": "enterprise_id",
    "GET /api/v1/enterprises/export": "enterprise_id",
    "GET /api/v1/monitoring-points": "point_id",
    "GET /api/v1/squads": "squad_id",
    "GET /api/v1/sync": "point_id",
    "GET /api/v1/findings/export.csv": "finding_id",
    "GET /api/v1/findings/export.geojson": "finding_id",
    "GET /api/v1/reports/export.csv": "report_id",
    "GET /api/v1/reports/export.geojson": "report_id",
    "GET /api/v1/inspection-filings": "filing_id",
    "GET /api/v1/compulsory-measures": "measure_id",
    "GET /api/v1/inspection-records": "inspection_id",
    "GET /api/v1/finding-categories": "category_id",
    "GET /api/v1/visit-tasks": "task_id",
    "GET /api/v1/visits": "visit_id",
    "GET /api/v1/findings": "finding_id",
    "GET /api/v1/callback-batches": "batch_id",
    "GET /api/v1/callback-samples": "sample_id",
    "GET /api/v1/callbacks": "callback_id",
    "GET /api/v1/reports": "report_id",
    "GET /api/v1/leader-visits": "leader_visit_id",
    "GET /api/v1/leader-compliance": "point_id",
    "GET /api/v1/cases": "case_id",
    "GET /api/v1/cases/export.csv": "case_number",  # the spreadsheet shows the case's number, not its id
    "GET /api/v1/cases/export.geojson": "case_id",
    "GET /api/v1/questionnaires": "questionnaire_id",
    "GET /api/v1/evaluation-campaigns": "campaign_id",
    "GET /api/v1/rectifications": "rectification_id",
    "GET /api/v1/approval-matters": "matter_id",
    "GET /api/v1/approval-cases": "approval_case_id",
    "GET /api/v1/approval-cases/export.csv": "approval_case_number",  # the spreadsheet shows the source's number
    "GET /api/v1/approval-alerts": "alert_id",
    "GET /api/v1/commitment-letters": "letter_id",
    "GET /api/v1/key-projects": "project_id",
    "GET /api/v1/key-projects/export.geojson": "project_id",
    "GET /api/v1/service-problems": "problem_id",
    "GET /api/v1/service-visits": "service_visit_id",
    "GET /api/v1/service-compliance": "assignment_id",
}

#: Operations without an id in the path whose body names an object of a relation (POST /persons names
#: a unit): tests/authz_world.py's request for them takes the relation.
BODY_NAMES_OBJECT = {
    "POST /api/v1/persons", "POST /api/v1/monitoring-points", "POST /api/v1/visit-tasks", "POST /api/v1/visits",
    "POST /api/v1/callbacks", "POST /api/v1/reports", "POST /api/v1/leader-visits", "POST /api/v1/cases",
    "POST /api/v1/evaluation-campaigns", "POST /api/v1/service-visits",
}

#: Covert things: path parameter → relation → the roles inside the circle. Everyone else must get,
#: for every operation on it, the answer to an id that does not exist.
COVERT = {
    "point_id": {"own": {Role.admin, Role.reviewer, Role.liaison, Role.leader}},  # the covert point
    "squad_id": {"own": {Role.admin, Role.reviewer, Role.squad_member}, "sibling": {Role.admin, Role.reviewer}},
    "task_id": {"own": {Role.admin, Role.reviewer, Role.squad_member}, "sibling": {Role.admin, Role.reviewer}},
    "visit_id": {"own": {Role.admin, Role.reviewer, Role.squad_member}, "peer": {Role.admin, Role.reviewer},
                 "sibling": {Role.admin, Role.reviewer}},
    "finding_id": {"own": {Role.admin, Role.reviewer, Role.squad_member}, "peer": {Role.admin, Role.reviewer},
                   "sibling": {Role.admin, Role.reviewer}},
    "callback_id": {"own": {Role.admin, Role.reviewer, Role.squad_member}, "peer": {Role.admin, Role.reviewer},
                    "sibling": {Role.admin, Role.reviewer}},
    "batch_id": {"own": {Role.admin, Role.reviewer}},
    "sample_id": {"own": {Role.admin, Role.reviewer}, "sibling": {Role.admin, Role.reviewer}},
    "category_id": {"own": {Role.admin, Role.reviewer, Role.squad_member}},
    "case_id": {"own": {Role.admin, Role.reviewer}, "peer": {Role.admin, Role.reviewer}},
    # evaluations: the office's; a bad rating is also its unit's inspectors' (own: the inspector's unit)
    "questionnaire_id": {"own": {Role.admin, Role.reviewer}},
    "campaign_id": {"own": {Role.admin, Role.reviewer}},
    "invitation_id": {"own": {Role.admin, Role.reviewer}},
    "rectification_id": {"own": {Role.admin, Role.reviewer, Role.inspector}, "sibling": {Role.admin, Role.reviewer}},
}

#                                                      admin    reviewer inspector squad    liaison  leader
POLICY: dict[str, dict[Role, str]] = {
    # -- open to anyone ----------------------------------------------------------------------------
    "GET /healthz": everyone("A"),
    "GET /readyz": everyone("A"),
    "GET /problems/{slug}": everyone("A"),
    "POST /api/v1/auth/login": everyone("A"),
    "POST /api/v1/auth/enroll": everyone("A"),

    # -- one's own account and devices -------------------------------------------------------------
    "POST /api/v1/auth/logout": everyone("A"),
    "GET /api/v1/me": everyone("A"),
    "GET /api/v1/me/devices": everyone("L+-.-"),
    "DELETE /api/v1/me/devices/{device_id}": everyone("A4.4"),

    # -- accounts: admins, within their jurisdiction ------------------------------------------------
    "GET /api/v1/users": admin_only("L+++-", "3"),
    "POST /api/v1/users": admin_only("A", "3"),
    "GET /api/v1/users/{user_id}": admin_only("AAA4", "3333"),
    "PATCH /api/v1/users/{user_id}": admin_only("AAA4", "3333"),
    "GET /api/v1/users/{user_id}/devices": admin_only("AAA4", "3333"),
    "DELETE /api/v1/users/{user_id}/devices": admin_only("AAA4", "3333"),

    # -- jurisdictions (sibling: a street of the district): seen by all in scope, changed by admins --
    "GET /api/v1/jurisdictions": everyone("L+.+-"),
    "POST /api/v1/jurisdictions": admin_only("A", "3"),
    "GET /api/v1/jurisdictions/{jurisdiction_id}": everyone("A.A4"),
    "PATCH /api/v1/jurisdictions/{jurisdiction_id}": admin_only("A.A4", "3.33"),

    # -- custody checkpoints: the signed heads of every chain of the deployment, for admins ----------
    "GET /api/v1/custody/checkpoints": admin_only("A", "3"),
    "GET /api/v1/custody/checkpoints/{checkpoint_id}": admin_only("A..4", "3..3"),

    # -- the working calendar ------------------------------------------------------------------------
    "GET /api/v1/calendar/days": everyone("A"),
    "GET /api/v1/calendar/overrides": everyone("L+..-"),
    "POST /api/v1/calendar/overrides": admin_only("A", "3"),
    "DELETE /api/v1/calendar/overrides/{override_id}": admin_only("A..4", "3..3"),
    "GET /api/v1/calendar/years": everyone("A"),
    "POST /api/v1/calendar/years": admin_only("A", "3"),

    # -- review of records (record_id: the caller's kind of record; office: findings) ----------------
    # The generic record endpoints show a record to office staff and to its submitter only.
    "GET /api/v1/review-queue": office("L+++-", "3"),
    "POST /api/v1/records/{record_id}/review": row("AAA4", "AAA4", "3333", "3333", "3333", "3.33"),
    "GET /api/v1/records/{record_id}/comments": row("AAA4", "AAA4", "A444", "A444", "A444", "A.44"),
    "POST /api/v1/records/{record_id}/comments": row("AAA4", "AAA4", "A444", "A444", "A444", "A.44"),
    "GET /api/v1/records/{record_id}/versions": row("AAA4", "AAA4", "A444", "A444", "A444", "A.44"),
    "GET /api/v1/records/{record_id}/attachments": row("AAA4", "AAA4", "A444", "A444", "A444", "A.44"),

    # -- the directory: everyone reads their scope (phones sync it), admins change it ---------------
    # units: own = the inspector's unit, sibling = another department; both have people: 409 to delete.
    "GET /api/v1/units": everyone("L+.+-"),
    "POST /api/v1/units": admin_only("A", "3"),
    "GET /api/v1/units/{unit_id}": everyone("A.A4"),
    "PATCH /api/v1/units/{unit_id}": admin_only("A.A4", "3.33"),
    "DELETE /api/v1/units/{unit_id}": admin_only("C.C4", "3.33"),
    "GET /api/v1/persons": everyone("L+.+-"),
    "POST /api/v1/persons": admin_only("A.AI", "3.33"),
    "GET /api/v1/persons/{person_id}": everyone("A.A4"),
    "PATCH /api/v1/persons/{person_id}": admin_only("A.A4", "3.33"),
    "DELETE /api/v1/persons/{person_id}": admin_only("A.A4", "3.33"),
    # enterprises: own = the covert point's enterprise (it looks ordinary to all), sibling = a plain one.
    "GET /api/v1/enterprises": everyone("L+.+-"),
    "POST /api/v1/enterprises": admin_only("A", "3"),
    "GET /api/v1/enterprises/export": everyone("L+.+-"),
    "GET /api/v1/enterprises/{enterprise_id}": everyone("A.A4"),
    "PATCH /api/v1/enterprises/{enterprise_id}": admin_only("A.A4", "3.33"),
    "DELETE /api/v1/enterprises/{enterprise_id}": admin_only("C.A4", "3.33"),
    # monitoring points: own = the covert point of the liaison and leader, sibling = an open one.
    "GET /api/v1/monitoring-points": row("L+.+-", "L+.+-", "L-.+-", "L-.+-", "L+.--", "L+.--"),
    "POST /api/v1/monitoring-points": admin_only("A..I", "3..3"),
    "GET /api/v1/monitoring-points/{point_id}": row("A.A4", "A.A4", "4.A4", "4.A4", "A.44", "A.44"),
    "PATCH /api/v1/monitoring-points/{point_id}": admin_only("A.A4", "3.33"),
    "DELETE /api/v1/monitoring-points/{point_id}": admin_only("A.A4", "3.33"),
    # squads: own = the monitor's squad. Nobody but the office and its members knows a squad exists.
    "GET /api/v1/squads": row("L+.+-", "L+.+-", "L-.--", "L+.--", "L-.--", "L-.--"),
    "POST /api/v1/squads": admin_only("A", "3"),
    "GET /api/v1/squads/{squad_id}": row("A.A4", "A.A4", "4.44", "A.44", "4.44", "4.44"),
    "PATCH /api/v1/squads/{squad_id}": admin_only("A.A4", "3.33"),
    "DELETE /api/v1/squads/{squad_id}": admin_only("C.C4", "3.33"),
    "GET /api/v1/squads/{squad_id}/members": row("A.A4", "A.A4", "4.44", "A.44", "4.44", "4.44"),
    "POST /api/v1/squads/{squad_id}/members": admin_only("A.A4", "3.33"),
    # a squad and a member (own: the monitor themself, peer: a squad mate, sibling: the other squad's)
    "PATCH /api/v1/squads/{squad_id}/members/{user_id}": admin_only("AAA4", "3333"),
    "DELETE /api/v1/squads/{squad_id}/members/{user_id}": admin_only("AAA4", "3333"),
    "POST /api/v1/squads/{squad_id}/members/{user_id}/unmask": admin_only("AAA4", "3333"),
    "GET /api/v1/squads/{squad_id}/disclosures": admin_only("A.A4", "3.33"),
    "GET /api/v1/directory/counts": everyone("A"),
    # the sync feed, checked for points: the covert rule again
    "GET /api/v1/sync": row("L+.+-", "L+.+-", "L-.+-", "L-.+-", "L+.--", "L+.--"),

    # -- exports of records: office staff ----------------------------------------------------------
    "GET /api/v1/findings/export.csv": office("L+++-", "3"),
    "GET /api/v1/findings/export.geojson": office("L+++-", "3"),
    "GET /api/v1/reports/export.csv": office("L+++-", "3"),
    "GET /api/v1/reports/export.geojson": office("L+++-", "3"),

    # -- inspections: office staff (their scope) and inspectors (their unit's: own and peer) --------
    # user_id: an inspector (own: the caller inspector, peer: a colleague, sibling: another unit's).
    "GET /api/v1/inspectors/{user_id}/unit": admin_only("AAA4", "3333"),
    "PUT /api/v1/inspectors/{user_id}/unit": admin_only("AAA4", "3333"),
    "DELETE /api/v1/inspectors/{user_id}/unit": admin_only("AAA4", "3333"),
    "GET /api/v1/me/inspector-unit": row("4", "4", "A", "4", "4", "4"),
    "GET /api/v1/inspection-filings": row("L+++-", "L+++-", "L++--", "3", "3", "3"),
    "POST /api/v1/inspection-filings": row("3", "3", "A", "3", "3", "3"),
    "GET /api/v1/inspection-filings/{filing_id}": row("AAA4", "AAA4", "AA44", "3333", "3333", "3333"),
    # An amendment is its filer's alone: to anyone else the amendable record does not exist.
    "PUT /api/v1/inspection-filings/{filing_id}": row("4444", "4444", "A444", "3333", "3333", "3333"),
    "GET /api/v1/compulsory-measures": row("L+++-", "L+++-", "L++--", "3", "3", "3"),
    "POST /api/v1/compulsory-measures": row("3", "3", "A", "3", "3", "3"),
    "GET /api/v1/compulsory-measures/{measure_id}": row("AAA4", "AAA4", "AA44", "3333", "3333", "3333"),
    "POST /api/v1/compulsory-measures/{measure_id}/decision": office("AAA4", "3333"),
    "GET /api/v1/inspection-records": row("L+++-", "L+++-", "L++--", "3", "3", "3"),
    "POST /api/v1/inspection-records": row("3", "3", "A", "3", "3", "3"),
    "GET /api/v1/inspection-records/{inspection_id}": row("AAA4", "AAA4", "AA44", "3333", "3333", "3333"),
    "PUT /api/v1/inspection-records/{inspection_id}": row("4444", "4444", "A444", "3333", "3333", "3333"),
    "GET /api/v1/unfiled-inspections": office("A", "3"),

    # -- undercover work: office staff and squad members; to anyone else it does not exist (404) ----
    # categories: own = the home office's own category (seeded ones are shared), foreign = the other's.
    "GET /api/v1/finding-categories": row("L+..-", "L+..-", "4", "L+..-", "4", "4"),
    "POST /api/v1/finding-categories": row("A", "3", "4", "3", "4", "4"),
    "GET /api/v1/finding-categories/{category_id}": row("A..4", "A..4", "4..4", "A..4", "4..4", "4..4"),
    "PATCH /api/v1/finding-categories/{category_id}": row("A..4", "3..4", "4..4", "3..4", "4..4", "4..4"),
    # tasks: own = a task of the monitor's squad, sibling = of the other squad.
    "GET /api/v1/visit-tasks": row("L+.+-", "L+.+-", "4", "L+.--", "4", "4"),
    "POST /api/v1/visit-tasks": row("A.AI", "A.AI", "4.44", "3.33", "4.44", "4.44"),
    "GET /api/v1/visit-tasks/{task_id}": row("A.A4", "A.A4", "4.44", "A.44", "4.44", "4.44"),
    "PATCH /api/v1/visit-tasks/{task_id}": row("A.A4", "A.A4", "4.44", "3.44", "4.44", "4.44"),
    "GET /api/v1/visit-tasks/{task_id}/cases": row("A.A4", "A.A4", "4.44", "A.44", "4.44", "4.44"),
    # visits, findings, callbacks: the monitor's own; a squad mate's is not theirs to see.
    "GET /api/v1/visits": row("L+++-", "L+++-", "4", "L+---", "4", "4"),
    "POST /api/v1/visits": row("3.33", "3.33", "4.44", "A.II", "4.44", "4.44"),
    "GET /api/v1/visits/{visit_id}": row("AAA4", "AAA4", "4444", "A444", "4444", "4444"),
    "PUT /api/v1/visits/{visit_id}": row("4444", "4444", "4444", "A444", "4444", "4444"),
    "GET /api/v1/findings": row("L+++-", "L+++-", "4", "L+---", "4", "4"),
    "POST /api/v1/findings": row("3", "3", "4", "A", "4", "4"),
    # a batch answers 207 to anyone signed in; each item answers inside it as its own POST
    # would (tests/api/test_batches_api.py compares them item by item).
    "POST /api/v1/batches": everyone("A"),
    "GET /api/v1/batches/kinds": everyone("A"),
    "GET /api/v1/findings/{finding_id}": row("AAA4", "AAA4", "4444", "A444", "4444", "4444"),
    "PUT /api/v1/findings/{finding_id}": row("4444", "4444", "4444", "A444", "4444", "4444"),
    # callback sampling: batches and samples are the office's; the assigned squad calls the cases.
    "GET /api/v1/callback-batches": row("L+..-", "L+..-", "4", "3", "4", "4"),
    "POST /api/v1/callback-batches": row("A", "A", "4", "3", "4", "4"),
    "GET /api/v1/callback-batches/{batch_id}": row("A..4", "A..4", "4..4", "4..4", "4..4", "4..4"),
    "GET /api/v1/callback-batches/{batch_id}/cases": row("A..4", "A..4", "4..4", "4..4", "4..4", "4..4"),
    "POST /api/v1/callback-batches/{batch_id}/samples": row("A..4", "A..4", "4..4", "4..4", "4..4", "4..4"),
    "GET /api/v1/callback-samples": row("L+.+-", "L+.+-", "4", "3", "4", "4"),
    "GET /api/v1/callback-samples/{sample_id}": row("A.A4", "A.A4", "4.44", "4.44", "4.44", "4.44"),
    "GET /api/v1/callback-samples/{sample_id}/cases": row("A.A4", "A.A4", "4.44", "4.44", "4.44", "4.44"),
    "GET /api/v1/callbacks": row("L+++-", "L+++-", "4", "L+---", "4", "4"),
    # the body names a case: of the monitor's squad's sample (own, peer), the other squad's, the other district's
    "POST /api/v1/callbacks": row("AAAI", "AAAI", "4444", "AAII", "4444", "4444"),
    "GET /api/v1/callbacks/{callback_id}": row("AAA4", "AAA4", "4444", "A444", "4444", "4444"),
    "PUT /api/v1/callbacks/{callback_id}": row("4444", "4444", "4444", "A444", "4444", "4444"),
    "POST /api/v1/callbacks/{callback_id}/findings": row("AAA4", "AAA4", "4444", "A444", "4444", "4444"),

    # -- contact-point reports: the office, and the point's circle (its liaisons and leader) --------
    "GET /api/v1/reports": row("L+++-", "L+++-", "3", "3", "L++--", "L++--"),
    "POST /api/v1/reports": row("3.33", "3.33", "3.33", "3.33", "A.II", "3.33"),
    "GET /api/v1/reports/{report_id}": row("AAA4", "AAA4", "4444", "4444", "AA44", "AA44"),
    "PUT /api/v1/reports/{report_id}": row("4444", "4444", "4444", "4444", "A444", "4444"),

    # -- leader visits: the office, and each point's leader ----------------------------------------
    "GET /api/v1/leader-visits": row("L+.+-", "L+.+-", "3", "3", "3", "L+.--"),
    "POST /api/v1/leader-visits": row("3.33", "3.33", "3.33", "3.33", "3.33", "A.II"),
    "GET /api/v1/leader-visits/{leader_visit_id}": row("A.A4", "A.A4", "4.44", "4.44", "4.44", "A.44"),
    "PUT /api/v1/leader-visits/{leader_visit_id}": row("4.44", "4.44", "4.44", "4.44", "4.44", "A.44"),
    "GET /api/v1/leader-compliance": row("L+.+-", "L+.+-", "3", "3", "3", "L+.--"),

    # -- accountability cases: office staff; to anyone else cases do not exist ----------------------
    # own: a case the reviewer handles, peer: one another reviewer handles.
    "GET /api/v1/cases": office("L++.-", "4"),
    "POST /api/v1/cases": office("AAAI", "4444"),
    "GET /api/v1/cases/export.csv": office("L++.-", "4"),
    "GET /api/v1/cases/export.geojson": office("L++.-", "4"),
    "GET /api/v1/cases/{case_id}": office("AA.4", "44.4"),
    "PATCH /api/v1/cases/{case_id}": office("AA.4", "44.4"),
    "POST /api/v1/cases/{case_id}/transitions": office("AA.4", "44.4"),
    "POST /api/v1/cases/{case_id}/sources": office("AA.4", "44.4"),
    "POST /api/v1/cases/{case_id}/subjects": office("AA.4", "44.4"),
    "DELETE /api/v1/cases/{case_id}/subjects/{subject_id}": office("AA.4", "44.4"),
    # the delay notice is the handler's (or an admin's)
    "POST /api/v1/cases/{case_id}/delay-notices": row("AA.4", "A3.4", "44.4", "44.4", "44.4", "44.4"),
    "POST /api/v1/cases/{case_id}/gates": office("AA.4", "44.4"),
    "POST /api/v1/cases/{case_id}/dispositions": office("AA.4", "44.4"),
    "POST /api/v1/cases/{case_id}/notices": office("AA.4", "44.4"),
    "GET /api/v1/cases/{case_id}/timeline": office("AA.4", "44.4"),
    "GET /api/v1/cases/{case_id}/evidence": office("AA.4", "44.4"),
    "GET /api/v1/cases/{case_id}/evidence.zip": office("AA.4", "44.4"),
    # who complained: admins only
    "POST /api/v1/cases/{case_id}/complainant": row("AA.4", "33.4", "44.4", "44.4", "44.4", "44.4"),
    "GET /api/v1/case-kinds": office("A", "4"),
    "PUT /api/v1/case-kinds/{kind}": row("A", "3", "4", "4", "4", "4"),
    "DELETE /api/v1/case-kinds/{kind}": row("A", "3", "4", "4", "4", "4"),

    # -- evaluations: the office runs them; the public votes with a code; a unit's inspectors answer its bad
    #    ratings (own: a rating of the inspector's unit, sibling: of another unit) and never learn who gave them
    "GET /api/v1/questionnaires": office("L+..-", "4"),
    "POST /api/v1/questionnaires": office("A", "4"),
    "POST /api/v1/questionnaires/import": office("A", "4"),
    "GET /api/v1/questionnaires/{questionnaire_id}": office("A..4", "4..4"),
    "PUT /api/v1/questionnaires/{questionnaire_id}": office("A..4", "4..4"),
    "GET /api/v1/evaluation-campaigns": office("L+..-", "4"),
    # the body names the units rated
    "POST /api/v1/evaluation-campaigns": office("A.AI", "4.44"),
    "GET /api/v1/evaluation-campaigns/{campaign_id}": office("A..4", "4..4"),
    "POST /api/v1/evaluation-campaigns/{campaign_id}/open": office("A..4", "4..4"),
    "GET /api/v1/evaluation-campaigns/{campaign_id}/invitations": office("A..4", "4..4"),
    "POST /api/v1/evaluation-campaigns/{campaign_id}/invitations": office("A..4", "4..4"),
    "GET /api/v1/evaluation-campaigns/{campaign_id}/results": office("A..4", "4..4"),
    "GET /api/v1/evaluation-invitations/{invitation_id}/qr.svg": office("A..4", "4..4"),
    "POST /api/v1/ballots": everyone("A"),
    "GET /api/v1/rectifications": row("L+.+-", "L+.+-", "L+.--", "4", "4", "4"),
    "GET /api/v1/rectifications/{rectification_id}": row("A.A4", "A.A4", "A.44", "4.44", "4.44", "4.44"),
    "POST /api/v1/rectifications/{rectification_id}/answer": row("A.A4", "A.A4", "A.44", "4.44", "4.44", "4.44"),
    "POST /api/v1/rectifications/{rectification_id}/appeal": row("A.A4", "A.A4", "A.44", "4.44", "4.44", "4.44"),
    "POST /api/v1/rectifications/{rectification_id}/verification": row("A.A4", "A.A4", "3.44", "4.44", "4.44",
                                                                         "4.44"),
    "POST /api/v1/rectifications/{rectification_id}/appeal-decision": row("A.A4", "A.A4", "3.44", "4.44", "4.44",
                                                                           "4.44"),
    "POST /api/v1/rectifications/{rectification_id}/case": row("A.A4", "A.A4", "3.44", "4.44", "4.44", "4.44"),
    # who gave a bad rating: an admin, for the callback (logged); never the rated unit
    "POST /api/v1/rectifications/{rectification_id}/rater": row("A.A4", "3.34", "3.44", "4.44", "4.44", "4.44"),

    # -- evidence: readable through a record the caller may see (sha256: the photo of record_id's record)
    "POST /api/v1/evidence": everyone("A"),
    "GET /api/v1/evidence/limits": everyone("A"),
    "GET /api/v1/evidence/{sha256}": row("AAA4", "AAA4", "A444", "A444", "A444", "A.44"),
    "GET /api/v1/evidence/{sha256}/original": row("AAA4", "AAA4", "A444", "A444", "A444", "A.44"),
    "GET /api/v1/evidence/{sha256}/{name}": row("AAA4", "AAA4", "A444", "A444", "A444", "A.44"),
    # tus uploads: each one is its owner's alone, office staff included (peer: a colleague's)
    "POST /api/v1/uploads": everyone("A"),
    "GET /api/v1/uploads/{upload_id}": everyone("A4.4"),
    "PATCH /api/v1/uploads/{upload_id}": everyone("A4.4"),
    "DELETE /api/v1/uploads/{upload_id}": everyone("A4.4"),

    # -- the office's figures ------------------------------------------------------------------------
    "GET /api/v1/figures": office("A", "4"),

    # -- approvals e-supervision (field/approvals/policy.py): the approval system pushes with an admin
    # account; matters are read by all in scope; cases by the office, and a key project's service
    # secretary (the leader) sees its cases (own: linked to the leader's project, sibling: not linked).
    "POST /api/v1/approvals/events": admin_only("A", "3"),
    "POST /api/v1/approvals/import": admin_only("A", "3"),
    "GET /api/v1/approval-matters": everyone("L+..-"),
    "POST /api/v1/approval-matters": admin_only("A", "3"),
    "GET /api/v1/approval-matters/{matter_id}": everyone("A..4"),
    "PATCH /api/v1/approval-matters/{matter_id}": admin_only("A..4", "3..3"),
    "GET /api/v1/approval-cases": row("L+.+-", "L+.+-", "L-.--", "L-.--", "L-.--", "L+.--"),
    "GET /api/v1/approval-cases/export.csv": row("L+.+-", "L+.+-", "L-.--", "L-.--", "L-.--", "L+.--"),
    "GET /api/v1/approval-cases/{approval_case_id}": row("A.A4", "A.A4", "4.44", "4.44", "4.44", "A.44"),
    "POST /api/v1/approval-cases/{approval_case_id}/notices": office("A.A4", "3.33"),
    "POST /api/v1/approval-notices/{notice_id}/complaint": office("A..4", "3..3"),
    "GET /api/v1/approval-alerts": office("L+..-", "3"),
    "POST /api/v1/approval-alerts/scan": office("A", "3"),
    "POST /api/v1/approval-alerts/{alert_id}/case": office("A..4", "3..3"),
    "GET /api/v1/approval-figures": office("A", "3"),

    # -- unit heads' commitments: the office's (a role gate first; the world's letter is published,
    # so adding an item or publishing again is refused for its state, its item checked as not kept)
    "GET /api/v1/commitment-letters": office("L+..-", "3"),
    "POST /api/v1/commitment-letters": office("A", "3"),
    "GET /api/v1/commitment-letters/{letter_id}": office("A..4", "3..3"),
    "POST /api/v1/commitment-letters/{letter_id}/items": office("C..4", "3..3"),
    "POST /api/v1/commitment-letters/{letter_id}/publication": office("C..4", "3..3"),
    "PUT /api/v1/commitment-letters/{letter_id}/report": office("A..4", "3..3"),
    "POST /api/v1/commitment-items/{item_id}/checks": office("A..4", "3..3"),
    "POST /api/v1/commitment-items/{item_id}/case": office("A..4", "3..3"),
    "GET /api/v1/commitment-figures": office("A", "3"),

    # -- key projects under service (field/service/policy.py): the office in scope; the leader serves the
    # home project as its secretary and sees it and its problems; admins change projects and assignments
    "GET /api/v1/key-projects": row("L+..-", "L+..-", "L-..-", "L-..-", "L-..-", "L+..-"),
    "POST /api/v1/key-projects": admin_only("A", "3"),
    "GET /api/v1/key-projects/export.geojson": row("L+..-", "L+..-", "L-..-", "L-..-", "L-..-", "L+..-"),
    "GET /api/v1/key-projects/{project_id}": row("A..4", "A..4", "4..4", "4..4", "4..4", "A..4"),
    "PATCH /api/v1/key-projects/{project_id}": admin_only("A..4", "3..3"),
    "GET /api/v1/service-assignments": everyone("A"),
    "POST /api/v1/service-assignments": admin_only("A", "3"),
    "POST /api/v1/key-projects/{project_id}/problems": row("A..4", "A..4", "4..4", "4..4", "4..4", "A..4"),
    "GET /api/v1/service-problems": row("L+..-", "L+..-", "L-..-", "L-..-", "L-..-", "L+..-"),
    "GET /api/v1/service-problems/{problem_id}": row("A..4", "A..4", "4..4", "4..4", "4..4", "A..4"),
    "POST /api/v1/service-problems/{problem_id}/progress": row("A..4", "A..4", "4..4", "4..4", "4..4", "A..4"),
    "POST /api/v1/service-problems/{problem_id}/closure": office("A..4", "3..3"),
    "POST /api/v1/service-problems/{problem_id}/case": office("A..4", "3..3"),
    "GET /api/v1/service-figures": office("A", "3"),
    "GET /api/v1/four-ones": everyone("A"),
    "POST /api/v1/four-ones": everyone("A"),
    "GET /api/v1/enterprise-outcomes": office("A", "3"),
    "POST /api/v1/enterprise-outcomes": office("A", "3"),
    # an enterprise's own problem: the office, or the official linked to it (the leader is the home covert
    # point's enterprise's department head); the enterprise is no secret, so a stranger gets the 403
    "POST /api/v1/enterprises/{enterprise_id}/problems": row("A.A4", "A.A4", "3.34", "3.34", "3.34", "A.34"),
    # service visits: logged by the official serving the project named in the body (the leader, the home
    # project's secretary; anyone else names a project not theirs: 422), seen by the office and their official
    "GET /api/v1/service-visits": row("L+..-", "L+..-", "L-..-", "L-..-", "L-..-", "L+..-"),
    "POST /api/v1/service-visits": row("I..I", "I..I", "I..I", "I..I", "I..I", "A..I"),
    "GET /api/v1/service-visits/{service_visit_id}": row("A..4", "A..4", "4..4", "4..4", "4..4", "A..4"),
    "PUT /api/v1/service-visits/{service_visit_id}": row("4..4", "4..4", "4..4", "4..4", "4..4", "A..4"),
    "GET /api/v1/visit-obligations": everyone("A"),
    "PUT /api/v1/visit-obligations": admin_only("A", "3"),
    "GET /api/v1/service-compliance": row("L+..-", "L+..-", "L-..-", "L-..-", "L-..-", "L+..-"),
}


# Record kinds registered after the seam bring their rows with their own tests (tests/authz_kinds.py).
for _share in contributions().values():
    POLICY.update({operation: row(*cells) for operation, cells in _share.policy.items()})
    LISTED.update(_share.listed)


def cell(operation: str, role: Role) -> str:
    return POLICY[operation][role]


def is_list(cell_: str) -> bool:
    return cell_.startswith("L")


def per_relation(cell_: str) -> bool:
    return len(cell_) == 4 and not is_list(cell_)
