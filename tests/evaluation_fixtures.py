"""Factories for evaluations: a questionnaire, a campaign over units or persons, codes, ballots; the hand count."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest

from field.core.office import office_today
from field.evaluations import ballots, campaigns, questionnaires
from field.evaluations.campaigns import RaterInput
from field.evaluations.models import RaterKind

#: Two graded questions (overall weighs twice as much as attitude), a choice and a comment.
QUESTIONS = [
    {"name": "overall", "type": "grade5", "required": True, "weight": 2,
     "label": {"zh": "总体满意度", "en": "Overall satisfaction"}},
    {"name": "attitude", "type": "grade5", "required": True, "weight": 1,
     "label": {"zh": "服务态度", "en": "Attitude"}},
    {"name": "channel", "type": "single", "label": {"zh": "办理渠道", "en": "Channel"},
     "choices": [{"value": "window", "label": {"zh": "窗口"}}, {"value": "online", "label": {"zh": "网上"}}]},
    {"name": "comment", "type": "text", "label": {"zh": "意见建议", "en": "Comments"}},
]


@pytest.fixture
def make_campaign(session):
    def make(actor, kind, targets, *, questions=QUESTIONS, opened=True, **kw):
        q = questionnaires.create_questionnaire(session, actor, title="企业评议问卷", questions=questions)
        today = office_today()
        campaign = campaigns.create_campaign(
            session, actor, kind=kind, title=kw.pop("title", "2026年千人评"),
            opens_on=kw.pop("opens_on", today - timedelta(days=20)),
            closes_on=kw.pop("closes_on", today + timedelta(days=20)), questionnaire_id=q.id,
            targets=[{"person_id": t.id} if hasattr(t, "post") else {"unit_id": t.id} for t in targets], **kw)
        if opened:
            campaigns.open_campaign(session, actor, campaign)
        session.commit()
        return campaign
    return make


@pytest.fixture
def vote(session):
    """Cast one ballot on ``target`` (a counter code made for it) with these answers; returns the Cast."""
    def cast(actor, campaign, target, answers, *, rater=None, address=None, key=None):
        invitation, = campaigns.issue_invitations(session, actor, campaign, target_id=target.id,
                                                  rater=rater or RaterInput(RaterKind.counter))
        result = ballots.cast(session, invitation.code, answers, client_key=key, address=address)
        session.commit()
        return result
    return cast


def half_up(value: Fraction, places: int = 2) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def hand_count(answers_by_target: dict) -> dict:
    """Per target: {score, satisfaction_rate, mean, answers} from [(grade, weight), ...], as the docs define them."""
    out = {}
    for target, answers in answers_by_target.items():
        if not answers:
            continue
        weight = sum(Fraction(w) for _, w in answers)
        out[target] = {
            "score": float(half_up(sum(Fraction(w) * g for g, w in answers) / weight * 20)),
            "satisfaction_rate": float(half_up(Fraction(sum(g >= 4 for g, _ in answers) * 100, len(answers)))),
            "mean": float(half_up(Fraction(sum(g for g, _ in answers), len(answers)))),
            "answers": len(answers),
        }
    return out


def competition_ranks(values: dict, reverse: bool = True) -> dict:
    """1, 2, 2, 4: each target's rank is one more than the number of targets strictly better."""
    return {t: 1 + sum((o > v) if reverse else (o < v) for o in values.values()) for t, v in values.items()}
