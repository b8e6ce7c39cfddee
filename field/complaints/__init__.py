"""Complaints (投诉): the hotline, the online mailbox and Open311, each handled to a rated answer.

The hotline work-order cycle (接诉即办): a complaint is received (an operator records a call, the
public files in the mailbox or through an Open311 app), triaged by the office (accept, merge as a
duplicate, reject), dispatched to the responsible unit with working-day limits per category, answered
by the unit's handler, called back and rated; a dissatisfied rating reopens it; the office can open
an accountability case from it in one call. Who complained is kept apart (``ComplaintContact``) and
never reaches the unit. docs/complaints.md has the states, the endpoints and the rates' definitions.

Modules: models.py, categories.py (categories and their limits), policy.py (who may do what),
intake.py (receiving, tracking secrets), handling.py (triage, dispatch, answers, callbacks, escalation),
views.py (the read models and lists), rates.py (the three rates in SQL), watch.py (retaliation watch).
"""
