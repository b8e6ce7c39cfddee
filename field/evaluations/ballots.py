"""A rater's ballot: one per code, checked against the questionnaire, idempotent, rate-limited per address.

The one public write of fieldwatch: whoever holds a code may vote once with it. The code is
the only credential, so:

- **once**: a ballot row per invitation (a unique column); of parallel submissions one inserts,
  the others find it. A repeat with the same ``Idempotency-Key`` (or, without a key, the same
  answers) gets the first ballot's receipt again (``created`` false); anything else is 409;
- **stuffing**: ballots from one address within an hour are counted; from ``FLAG_AFTER`` on they
  are flagged for the office, past ``REFUSE_AFTER`` refused (429 with Retry-After);
- **anonymity**: the ballot keeps its invitation (the rater) for the callback of a bad rating;
  what a rated unit reads of it (field/evaluations/rectifications.py) never names the rater.

A grade in the two lowest grades opens a rectification (差评整改) in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from field.core import text
from field.core.calendar import calendar_for
from field.core.errors import Conflict, DomainError, InvalidInput, NotFound
from field.core.models.base import utcnow
from field.core.models.platform import Jurisdiction
from field.core.office import office_date

from .campaigns import is_open
from .models import Ballot, Campaign, Grade, Invitation, Rectification, Target
from .questionnaires import BAD, weight_for

FLAG_AFTER = 10
REFUSE_AFTER = 60
WINDOW = timedelta(hours=1)
MAX_TEXT = 2000


class TooManyBallots(DomainError):
    """Too many ballots from one address within the hour."""

    retry_after = 600

    def __init__(self):
        super().__init__("Too many ratings from this network within the hour; please try again later.")


@dataclass
class Cast:
    ballot: Ballot
    created: bool
    #: The rectification the ballot opened, if it held a bad grade.
    rectification: Rectification | None = None


def _digest(answers: dict) -> str:
    return hashlib.sha256(json.dumps(answers, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def check_answers(questions: list[dict], answers: dict) -> dict:
    """The answers, normalised to the questionnaire; InvalidInput naming ``answers.<name>``."""
    if not isinstance(answers, dict):
        raise InvalidInput("answers", "An object of question name → answer.")
    unknown = sorted(set(answers) - {q["name"] for q in questions})
    if unknown:
        raise InvalidInput(f"answers.{unknown[0]}", "No such question.")
    out = {}
    for q in questions:
        at, value = f"answers.{q['name']}", answers.get(q["name"])
        if value is None or value == "" or value == []:
            if q["required"]:
                raise InvalidInput(at, "Required.")
            continue
        kind = q["type"]
        if kind == "grade5":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
                raise InvalidInput(at, "A grade from 1 (非常不满意) to 5 (非常满意).")
        elif kind == "single":
            if value not in {c["value"] for c in q["choices"]}:
                raise InvalidInput(at, "Not one of the choices.")
        elif kind == "multiple":
            values = {c["value"] for c in q["choices"]}
            if not isinstance(value, list) or not set(value) <= values or len(set(value)) != len(value):
                raise InvalidInput(at, "A list of distinct choices.")
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or abs(value) > 1e12:
                raise InvalidInput(at, "A number.")
        else:
            if not isinstance(value, str) or len(value) > MAX_TEXT:
                raise InvalidInput(at, f"Text of at most {MAX_TEXT} characters.")
            try:
                value = text.multiline(value)
            except text.TextRefused as refused:
                raise InvalidInput(at, str(refused)) from None
            if not value:
                if q["required"]:
                    raise InvalidInput(at, "Required.")
                continue
        out[q["name"]] = value
    return out


def _existing(session: Session, invitation: Invitation, client_key: str | None, digest: str) -> Cast:
    ballot = session.execute(select(Ballot).where(Ballot.invitation_id == invitation.id)).scalar_one()
    same = ballot.client_key == client_key if client_key and ballot.client_key else ballot.body_hash == digest
    if not same:
        raise Conflict("This code has already been used to rate.", receipt_no=None)
    rect = session.execute(select(Rectification).where(Rectification.ballot_id == ballot.id)).scalar_one_or_none()
    return Cast(ballot, False, rect)


def _count_recent(session: Session, address: str | None) -> int:
    if not address:
        return 0
    return session.execute(select(func.count()).select_from(Ballot).where(
        Ballot.address == address, Ballot.submitted_at >= utcnow() - WINDOW)).scalar_one()


def cast(session: Session, code: str, answers: dict, *, client_key: str | None = None,
         address: str | None = None) -> Cast:
    """Vote with a code. NotFound for an unknown code (the same for every wrong one)."""
    from .campaigns import invitation_by_code

    invitation = invitation_by_code(session, code)
    if invitation is None:
        raise NotFound("invitation")
    campaign = session.get(Campaign, invitation.campaign_id)
    questions = campaign.questionnaire.questions
    checked = check_answers(questions, answers)
    digest = _digest(checked)
    if invitation.used_at is not None:
        return _existing(session, invitation, client_key, digest)
    if not is_open(campaign):
        raise Conflict("The evaluation is not open for ratings.", opens_on=campaign.opens_on.isoformat(),
                       closes_on=campaign.closes_on.isoformat())
    recent = _count_recent(session, address)
    if recent >= REFUSE_AFTER:
        raise TooManyBallots()
    now = utcnow()
    day = office_date(now)
    ballot = Ballot(campaign_id=campaign.id, target_id=invitation.target_id, invitation_id=invitation.id,
                    questionnaire_id=campaign.questionnaire_id, answers=checked, submitted_at=now, local_date=day,
                    month=day.strftime("%Y-%m"), client_key=client_key, body_hash=digest, address=address,
                    flagged=recent + 1 > FLAG_AFTER, receipt_no=f"{day:%Y%m%d}-{secrets.token_hex(4).upper()}",
                    jurisdiction_id=campaign.jurisdiction_id)
    try:
        with session.begin_nested():
            session.add(ballot)
            session.flush()
    except IntegrityError:
        # Another submission with this code got there first: theirs is the ballot.
        session.expire(invitation)
        return _existing(session, invitation, client_key, digest)
    invitation.used_at = now
    target = session.get(Target, invitation.target_id)
    bad = {}
    for q in questions:
        if q["type"] == "grade5" and q["name"] in checked:
            session.add(Grade(ballot_id=ballot.id, question=q["name"], grade=checked[q["name"]],
                              weight=weight_for(q, target.kind)))
            if checked[q["name"]] in BAD:
                bad[q["name"]] = checked[q["name"]]
    rect = None
    if bad:
        jurisdiction = session.get(Jurisdiction, campaign.jurisdiction_id)
        comments = {q["name"]: checked[q["name"]] for q in questions if q["type"] == "text" and q["name"] in checked}
        rect = Rectification(campaign_id=campaign.id, ballot_id=ballot.id, target_id=target.id, unit_id=target.unit_id,
                             complaint={"target": target.label, "grades": bad, "comments": comments},
                             opened_on=day, jurisdiction_id=campaign.jurisdiction_id,
                             due_on=calendar_for(session, jurisdiction).add_working_days(day, campaign.rectify_days))
        session.add(rect)
    session.flush()
    return Cast(ballot, True, rect)


def ballot_of_code(session: Session, code: str) -> tuple[Invitation, Ballot | None, Rectification | None]:
    """The public page's view of a code: the invitation, its ballot (if cast) and that ballot's rectification."""
    from .campaigns import invitation_by_code

    invitation = invitation_by_code(session, code)
    if invitation is None:
        raise NotFound("invitation")
    ballot = session.execute(select(Ballot).where(Ballot.invitation_id == invitation.id)).scalar_one_or_none()
    rect = None if ballot is None else session.execute(
        select(Rectification).where(Rectification.ballot_id == ballot.id)).scalar_one_or_none()
    return invitation, ballot, rect
