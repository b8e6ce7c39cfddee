"""The console's cases: the board by state, a case's page and its forms (each POST calls one function of
field/cases/, as api/cases.py does, and redirects back; a refusal re-renders the page with the error
beside the form it came from), and the evidence ZIP."""

from __future__ import annotations

import uuid

import marshmallow as ma
from flask import Response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from api.clock import office_day
from api.db import db, streamed
from api.evidence import blob_store
from api.cases import content_disposition  # evidence.storage's, through the API (web may not import evidence)
from field.cases import board as case_board
from field.cases import evidence_zip, notices, parties, view as case_view
from field.cases.read_model import case_view as case_read_model
from field.cases import lifecycle as cases
from field.cases.lifecycle import GatesMissing
from field.cases.models import Gate
from field.core.errors import DomainError
from schemas.cases import (
    CaseDelayNoticeInSchema,
    CaseDispositionInSchema,
    CaseGateInSchema,
    CaseNoticeInSchema,
    CaseSourceInSchema,
    CaseSubjectInSchema,
    CaseTransitionSchema,
)

from .. import session
from ..pages import status_of
from . import blp, labels
from .labels import label


@blp.get("/cases")
def case_board_page():
    user, _device = session.current()
    today = office_day()
    columns = case_board.board(db(), user, today)
    return render_template("console/cases.html", columns=[(state.value, cards) for state, cards in columns.items()],
                           today=today)


def _case_page(case_id: uuid.UUID, *, errors: dict | None = None, given: dict | None = None, status: int = 200):
    user, _device = session.current()
    case = cases.get_case(db(), user, case_id)
    shown = case_read_model(db(), case)
    today = office_day()
    recorded = {g.gate.value: g for g in case.gates}
    return render_template(
        "console/case.html", case=shown, today=today, overdue=case_board.overdue(case, today),
        gates=[(gate.value, recorded.get(gate.value)) for gate in Gate], missing=[g.value for g in shown.missing_gates],
        transitions=[s.value for s in shown.allowed_transitions],
        timeline=case_view.timeline(db(), user, case), choices=case_board.subject_choices(db(), user),
        errors=errors or {}, given=given or {}, notice_refused=bool(errors and errors.get("notice_text")),
    ), status


@blp.get("/cases/<uuid:case_id>")
def case_page(case_id: uuid.UUID):
    return _case_page(case_id)


def _messages(invalid: ma.ValidationError) -> str:
    return "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in invalid.messages.items())


def _domain_message(error: DomainError, section: str) -> str:
    if isinstance(error, GatesMissing):
        missing = error.extra.get("missing_gates", [])
        return _("Record the four gates before closing; missing: %(gates)s.",
                 gates=", ".join(label(labels.GATES, g) for g in missing))
    if section == "notice_text" and any(f.field == "text" for f in error.fields):
        # The domain never says which identity; neither does the page.
        return _("The text names a confidential person (a monitor or a complainant): remove their name and "
                 "phone number, then save again.")
    fields = [f"{f.field}: {f.message}" for f in error.fields if f.message != error.detail]
    return "; ".join([error.detail, *fields])


def _act(case_id: uuid.UUID, section: str, schema: type[ma.Schema], raw: dict, do) -> object:
    """Parse ``raw`` with the API's ``schema``, run ``do(user, case, body)``, commit and go back; or show why not."""
    user, _device = session.current()
    case = cases.get_case(db(), user, case_id)
    try:
        body = schema().load(raw)
        do(user, case, body)
    except ma.ValidationError as invalid:
        db().rollback()
        return _case_page(case_id, errors={section: _messages(invalid)}, given={section: raw}, status=422)
    except DomainError as refused:
        db().rollback()
        return _case_page(case_id, errors={section: _domain_message(refused, section)}, given={section: raw},
                          status=status_of(refused))
    return redirect(url_for(".case_page", case_id=case_id, _anchor=section.split("_")[0]), code=303)


def _form(*names: str) -> dict:
    """The named fields of the form; empty ones left out (the schemas' defaults apply)."""
    return {n: request.form[n] for n in names if request.form.get(n, "").strip()}


@blp.post("/cases/<uuid:case_id>/transition")
def case_transition(case_id: uuid.UUID):
    return _act(case_id, "state", CaseTransitionSchema, _form("to", "reason"),
                lambda user, case, body: cases.transition(db(), user, case, body["to"], body["reason"],
                                                          today=office_day()))


@blp.post("/cases/<uuid:case_id>/gates")
def case_gate(case_id: uuid.UUID):
    raw = {**_form("gate", "note"), "evidence": request.form.getlist("evidence")}
    section = f"gates_{raw.get('gate', '')}"
    return _act(case_id, section, CaseGateInSchema, raw,
                lambda user, case, body: cases.record_gate(db(), user, case, **body))


@blp.post("/cases/<uuid:case_id>/delay-notices")
def case_delay(case_id: uuid.UUID):
    return _act(case_id, "delay", CaseDelayNoticeInSchema, _form("reason", "new_deadline"),
                lambda user, case, body: cases.record_delay_notice(db(), user, case, **body, today=office_day()))


@blp.post("/cases/<uuid:case_id>/subjects")
def case_subject(case_id: uuid.UUID):
    return _act(case_id, "subjects", CaseSubjectInSchema, _form("unit_id", "person_id"),
                lambda user, case, body: parties.add_subject(db(), user, case, **body))


@blp.post("/cases/<uuid:case_id>/sources")
def case_source(case_id: uuid.UUID):
    return _act(case_id, "sources", CaseSourceInSchema, _form("record_id"),
                lambda user, case, body: cases.add_source(db(), user, case, body["record_id"]))


@blp.post("/cases/<uuid:case_id>/dispositions")
def case_disposition(case_id: uuid.UUID):
    raw = _form("kind", "sanction_system", "grade", "decided_on", "authority", "note")
    subject = request.form.get("subject", "")
    if ":" in subject:
        which, subject_id = subject.split(":", 1)
        raw["person_id" if which == "person" else "unit_id"] = subject_id
    return _act(case_id, "dispositions", CaseDispositionInSchema, raw,
                lambda user, case, body: parties.record_disposition(db(), user, case, **body, today=office_day()))


@blp.post("/cases/<uuid:case_id>/notices")
def case_notice(case_id: uuid.UUID):
    raw = {"text": request.form.get("text", ""), **_form("issued_on")}

    def issue(user, case, body):
        notices.issue_notice(db(), user, case, **body, today=office_day())

    answer = _act(case_id, "notice_text", CaseNoticeInSchema, raw, issue)
    return answer


@blp.get("/cases/<uuid:case_id>/evidence.zip")
def case_evidence_zip(case_id: uuid.UUID):
    """The same ZIP as GET /api/v1/cases/<id>/evidence.zip, logged as an export by this console session."""
    user, device = session.current()
    case, store = cases.get_case(db(), user, case_id), blob_store()
    export = evidence_zip.prepare_evidence_export(db(), user, case, store, device_id=device.id)
    # The wrapper commits the export's custody entry before a byte leaves (api/db.py, streamed).
    head = f"{export.entry.jurisdiction_id}:{export.entry.seq}:{export.entry.hash}"
    return Response(streamed(evidence_zip.evidence_zip(db(), export, store)), mimetype="application/zip",
                    headers={"Content-Disposition": content_disposition(export.filename), "X-Custody-Head": head})
