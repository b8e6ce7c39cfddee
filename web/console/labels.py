"""Words for the values pages show: kinds, states, flags, roles and a record's field names (translated)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

KINDS = {
    "finding": _l("Finding"), "visit": _l("Visit"), "callback": _l("Callback"), "report": _l("Contact-point report"),
    "leader_visit": _l("Leader visit"), "inspection": _l("On-site inspection"), "filing": _l("Inspection filing"),
    "service_visit": _l("Service visit (key project or enterprise)"),
}
STATES = {
    "submitted": _l("Submitted"), "in_review": _l("In review"), "accepted": _l("Accepted"),
    "needs_info": _l("Needs more information"), "rejected": _l("Rejected"),
}
#: The buttons of the record page.
DECISIONS = {"accepted": _l("Accept"), "needs_info": _l("Ask for more information"), "rejected": _l("Reject")}
FLAGS = {
    "unfiled": _l("Unfiled inspection"), "implausible_evidence": _l("Implausible evidence"),
    "clock_skew": _l("Phone clock off"), "far_from_target": _l("Far from the enterprise"),
    "gps_far_from_record": _l("Photo taken far from the record's place"),
    "captured_outside_window": _l("Photo taken outside the record's time"),
    "same_photo_elsewhere": _l("Same photo in another record"),
    "similar_photo_elsewhere": _l("Similar photo in another record"), "no_exif": _l("No EXIF data"),
}
ROLES = {
    "admin": _l("Administrator"), "reviewer": _l("Reviewer"), "inspector": _l("Inspector"),
    "squad_member": _l("Monitor"), "liaison": _l("Liaison"), "leader": _l("Leader"),
}
TAGS = {
    "minor": _l("minor"), "moderate": _l("moderate"), "serious": _l("serious"),
    "reached": _l("reached"), "not_reached": _l("not reached"),
    "enforcement_visit": _l("enforcement visit"), "problem": _l("problem"), "suggestion": _l("suggestion"),
    "rating": _l("rating"), "none": _l("no measure"), "order_to_rectify": _l("order to rectify"),
    "first_violation_exemption": _l("first-violation exemption"), "warning": _l("warning"), "fine": _l("fine"),
    "compulsory_measure": _l("compulsory measure"), "annual_plan": _l("annual plan"), "ad_hoc": _l("ad hoc"),
    "statutory_exempt": _l("statutory, exempt"),
}
#: A record's field names as the kinds' output schemas dump them; others are shown humanised.
FIELDS = {
    "description": _l("Description"), "severity": _l("Severity"), "category": _l("Category"),
    "occurred_at": _l("Occurred at"), "person_id": _l("Person"), "person_name": _l("Person"),
    "unit_id": _l("Unit"), "unit_name": _l("Unit"), "squad_id": _l("Squad"), "visit_id": _l("Visit"),
    "callback_id": _l("Callback"), "distance_m": _l("Distance (m)"), "narrative": _l("Narrative"),
    "started_at": _l("Started at"), "ended_at": _l("Ended at"), "members": _l("Members"), "task_id": _l("Task"),
    "enterprise_id": _l("Enterprise"), "enterprise_name": _l("Enterprise"), "enterprises": _l("Enterprises"),
    "report_type": _l("Report type"), "point_id": _l("Monitoring point"), "visited_on": _l("Visited on"),
    "visited_at": _l("Visited at"), "officers": _l("Officers"), "filing_shown": _l("Filing shown"),
    "filing_id": _l("Filing"), "problem_area": _l("Problem area"), "rating_target": _l("Rated"),
    "score": _l("Score"), "text": _l("Text"), "comment": _l("Comment"), "notes": _l("Notes"),
    "checked": _l("Checked"), "found": _l("Found"), "measure": _l("Measure"), "fine_amount": _l("Fine (yuan)"),
    "inspected_at": _l("Inspected at"), "purpose": _l("Purpose"), "legal_basis": _l("Legal basis"),
    "exemption_basis": _l("Exemption basis"), "planned_start": _l("Planned start"),
    "planned_end": _l("Planned end"), "filing_kind": _l("Filing kind"), "called_at": _l("Called at"),
    "reached": _l("Reached"), "satisfied": _l("Satisfied"), "problem": _l("Problem"), "case": _l("Case"),
    "label_zh": _l("Label (Chinese)"), "label_en": _l("Label (English)"), "code": _l("Code"),
    "name": _l("Name"),
}


def flag_detail(code: str, detail: str, data: dict) -> str:
    """What a flag on a piece of evidence means, with its figures, in the reader's language (the
    domain's English ``detail`` for a flag this table does not know)."""
    data = data or {}
    if code == "no_exif":
        return str(_l("The photo carries no EXIF at all: no camera, time or place."))
    if code == "trailing_data" and "bytes" in data:
        return str(_l("%(bytes)s bytes follow the end of the image (they look like: %(looks_like)s); "
                      "the file was kept exactly as received.", bytes=f"{data['bytes']:,}",
                      looks_like=data.get("looks_like", "unknown")))
    if code == "gps_far_from_record" and "distance_m" in data:
        return str(_l("The photo was taken %(distance)s m from the record's location (%(allowed)s m allowed).",
                      distance=f"{data['distance_m']:,.0f}", allowed=f"{data.get('allowed_m', 0):,.0f}"))
    if code == "captured_outside_window":
        return str(_l("The photo was taken outside the record's time window."))
    if code == "same_photo_elsewhere" and "count" in data:
        return str(_l("The same file is attached to %(count)s other record(s).", count=data["count"]))
    if code == "similar_photo_elsewhere" and "count" in data:
        return str(_l("A nearly identical photo is attached to %(count)s other record(s).", count=data["count"]))
    return detail


def label(table: dict, value) -> str:
    """The translated word for ``value``, or the value itself (humanised) when the table lacks it."""
    if value is None:
        return ""
    found = table.get(value)
    return str(found) if found is not None else str(value).replace("_", " ")
#: Custody log entries about an original (field/custody/chain.py), as the trail shows them.
CUSTODY = {
    "evidence.received": _l("received"), "evidence.verified": _l("hash verified"),
    "evidence.attached": _l("attached to a record"), "evidence.derived": _l("viewing copies made"),
    "evidence.viewed": _l("viewed"), "evidence.downloaded": _l("original downloaded"),
    "evidence.exported": _l("exported in a case file"), "evidence.damaged": _l("found damaged"),
    "evidence.repaired": _l("repaired from a good copy"),
}
CASE_STATES = {
    "opened": _l("Opened"), "investigating": _l("Investigating"), "deciding": _l("Deciding"),
    "rectifying": _l("Rectifying"), "closed": _l("Closed"), "dismissed": _l("Dismissed"),
}
#: The buttons that move a case to each state.
CASE_MOVES = {
    "investigating": _l("Start investigating"), "deciding": _l("Move to decision"),
    "rectifying": _l("Move to rectification"), "closed": _l("Close the case"), "dismissed": _l("Dismiss"),
    "opened": _l("Reopen"),
}
CASE_KINDS = {
    "efficiency_complaint": _l("Efficiency complaint"), "work_style": _l("Work style"),
    "arbitrary_charges": _l("Arbitrary charges"), "inspection_irregularity": _l("Irregular inspection"),
    "discipline": _l("Work discipline"),
}
#: The four don't-let-go (四个不放过).
GATES = {
    "facts_established": _l("Facts established"), "problem_corrected": _l("Problem corrected"),
    "responsible_dealt_with": _l("Those responsible dealt with"), "rectification_done": _l("Rectification done"),
}
DISPOSITIONS = {
    "admonishment_talk": _l("Admonishment talk"), "public_criticism": _l("Public criticism"),
    "loss_of_award_eligibility": _l("Loss of award eligibility"), "reassignment": _l("Reassignment"),
    "removal_from_post": _l("Removal from post"), "dismissal": _l("Dismissal"),
    "ordered_resignation": _l("Ordered resignation"), "disciplinary_sanction": _l("Disciplinary sanction"),
    "transfer_to_judiciary": _l("Transfer to the judiciary"), "yellow_card": _l("Yellow card"),
    "listed_supervision": _l("Listed supervision"), "loss_of_excellent_grade": _l("Loss of the excellent grade"),
}
SANCTION_SYSTEMS = {"administrative": _l("Administrative sanction"), "party": _l("Party discipline")}
GRADES = {
    "warning": _l("Warning"), "serious_warning": _l("Serious warning"), "demerit": _l("Demerit"),
    "major_demerit": _l("Major demerit"), "demotion": _l("Demotion"), "dismissal_from_post": _l("Dismissal from post"),
    "removal_from_party_post": _l("Removal from party post"), "party_probation": _l("Party probation"),
    "expulsion": _l("Expulsion"),
}
COMPLAINT_CHANNELS = {"phone": _l("by phone"), "letter": _l("by letter"), "visit": _l("in person"),
                      "online": _l("online")}
TIMELINE = {
    "case.opened": _l("case opened"), "case.updated": _l("case changed"), "case.state_changed": _l("state changed"),
    "case.source_added": _l("record added"), "case.subject_added": _l("subject named"),
    "case.subject_removed": _l("subject removed"), "case.delay_notice": _l("delay notice"),
    "case.gate_recorded": _l("gate recorded"), "case.disposition_recorded": _l("disposition recorded"),
    "case.notice_issued": _l("public notice recorded"), "case.evidence_exported": _l("evidence exported"),
    "case.complainant_unmasked": _l("complainant's identity read"),
    "case.deadline_recomputed": _l("deadline recomputed"),
}
FIGURES = {"sampled": _l("service cases sampled"), "called": _l("called back"), "reached": _l("reached"),
           "satisfied": _l("satisfied"), "dissatisfied": _l("dissatisfied")}
DIRECTORY_TABS = {"units": _l("Units"), "enterprises": _l("Enterprises"), "points": _l("Monitoring points"),
                  "squads": _l("Squads")}
IMPORT_KINDS = {"enterprises": _l("Enterprises"), "units": _l("Units"), "persons": _l("Persons (section chiefs, staff)")}
