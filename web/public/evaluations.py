"""The rater's page: /e/<code> shows the questionnaire, or, once the code voted, its receipt and the office's answer.

The answers are posted by web/static/js/ballot.js to the API's public ``POST /api/v1/ballots``
with an ``Idempotency-Key`` it keeps in the page's localStorage with the answers, so that a
lost connection loses nothing and a resubmission cannot vote twice (field/evaluations/ballots.py).
Without JavaScript the same form posts here (CSRF-checked) and is redirected back (PRG).
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import get_locale

from api.db import db
from field.core.errors import Conflict, InvalidInput
from field.evaluations import ballots
from field.evaluations.campaigns import is_open
from field.evaluations.models import Campaign
from field.evaluations.questionnaires import GRADES

from .. import csrf
from . import blp


def _label(label: dict) -> str:
    english = str(get_locale() or "").startswith("en")
    return (label.get("en") if english else None) or label["zh"]


def _page(code: str, *, error: str | None = None, values: dict | None = None, status: int = 200):
    invitation, ballot, rect = ballots.ballot_of_code(db(), code)
    campaign = db().get(Campaign, invitation.campaign_id)
    english = str(get_locale() or "").startswith("en")
    grades = [(g, GRADES[g][1 if english else 0]) for g in (5, 4, 3, 2, 1)]
    return render_template("public/ballot.html", code=invitation.code, campaign=campaign, target=invitation.target,
                           questions=campaign.questionnaire.questions, label=_label, grades=grades, ballot=ballot,
                           rect=rect, open=is_open(campaign), error=error, values=values or {}), status


@blp.get("/e/<code>")
def ballot_page(code: str):
    return _page(code)


def _form_answers(questions: list[dict]) -> dict:
    answers = {}
    for q in questions:
        if q["type"] == "multiple":
            answers[q["name"]] = request.form.getlist(q["name"])
            continue
        raw = request.form.get(q["name"], "").strip()
        if not raw:
            continue
        if q["type"] == "grade5":
            answers[q["name"]] = int(raw) if raw.isdigit() else raw
        elif q["type"] == "number":
            try:
                answers[q["name"]] = float(raw) if "." in raw else int(raw)
            except ValueError:
                answers[q["name"]] = raw
        else:
            answers[q["name"]] = raw
    return answers


@blp.post("/e/<code>")
def ballot_post(code: str):
    """The form without JavaScript: the same vote as the API's, then back to the page (its receipt)."""
    csrf.require(csrf.pre_secret())
    invitation, _ballot, _rect = ballots.ballot_of_code(db(), code)
    answers = _form_answers(db().get(Campaign, invitation.campaign_id).questionnaire.questions)
    try:
        ballots.cast(db(), code, answers, client_key=request.form.get("idempotency_key") or None,
                     address=request.remote_addr)
    except (InvalidInput, Conflict) as refused:
        db().rollback()
        return _page(code, error=refused.detail, values=answers, status=422 if isinstance(refused, InvalidInput)
                     else 409)
    return redirect(url_for(".ballot_page", code=invitation.code), code=303)
