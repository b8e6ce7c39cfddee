"""A campaign's results, added up in the database: per target, rankings, top and bottom five, months.

What counts
===========

Every five-grade answer (``evaluation_grades``) of the campaign's ballots, except the ballots an
upheld appeal excluded, with the question's weight for the target's kind; and, when the campaign
says so (``count_liaison_ratings``, the default), every liaison's rating (a contact report of type
``rating``, score 1–5, not rejected in review) made in the campaign's window of days (office
time) about a target: a unit, section or window rated by the envelope's ``unit_id``, a person by
``person_id``. A liaison's rating counts as one answer of weight 1.

Per target
==========

``ballots`` (ballots and liaison ratings), ``answers`` (grades counted), ``mean`` (mean grade, 1–5),
``distribution`` (answers per grade 5…1), ``satisfaction_rate`` (percentage of answers in the top
two grades, 非常满意 and 满意), ``score`` (the weighted campaign score: Σ weight·grade ÷ Σ weight × 20,
so 100 is all 非常满意 and 20 all 非常不满意). Numbers are rounded to two decimals (half away from
zero) in SQL, and the rounded numbers are what is ranked.

Ranks and ties
==============

Targets without any answer are listed with ``rank`` null and are not ranked. The others are
ranked by ``score`` (two decimals), highest first, with competition ranks: equal scores share
a rank and the next rank skips (1, 2, 2, 4). ``rank_from_bottom`` is the same ranking lowest
first. For 百名科长 the **top five** are the targets with ``rank <= 5`` and the **bottom five**
those with ``rank_from_bottom <= 5``: a tie at the fifth place takes everyone tied, so either
list can hold more than five names, and it says so (``ties_at_edge``). The **most satisfied**
and **least satisfied** units are those whose ``satisfaction_rate`` is the highest and the
lowest (every one tied there); with one ranked target both name it.

Months (窗口月评)
================

For every month (office time) of the window, the targets with answers that month are ranked
the same way. ``last`` names the targets at the last place of a month; a target last in a
month and in the month before it (two calendar months running, both with rankings) is
flagged ``talk`` (约谈).

Comparison
==========

With a previous campaign (``previous_id``), each target matched by its unit and person gets the
previous ``score``, ``rank`` and ``satisfaction_rate`` and the change of the score.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterator

from sqlalchemy import Float, Numeric, String, and_, case, cast, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from field.core.models.records import FieldRecord, ReviewState
from field.core.office import OFFICE_TZ
from field.reports.models import ContactReport, RatingTarget, ReportType

from . import policy
from .models import Ballot, Campaign, Grade, Target
from .campaigns import get_campaign

TOP = 5
CSV_HEADER = ("campaign_id", "campaign", "target_id", "kind", "label", "ballots", "answers", "mean",
              "satisfaction_rate", "score", "rank", "rank_from_bottom", "grade_5", "grade_4", "grade_3", "grade_2",
              "grade_1", "previous_score", "previous_rank", "score_change", "top", "bottom")


def _month(session: Session, column):
    """'YYYY-MM' of an aware UTC timestamp column in office time, in the database's own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM")
    offset = int(OFFICE_TZ.utcoffset(None).total_seconds() // 3600)
    return func.strftime("%Y-%m", column, f"{offset:+d} hours")


def _window(campaign: Campaign) -> tuple[datetime, datetime]:
    start = datetime.combine(campaign.opens_on, time(), OFFICE_TZ)
    return start, datetime.combine(campaign.closes_on + timedelta(days=1), time(), OFFICE_TZ)


def _answers(session: Session, campaign: Campaign):
    """One row per answer counted: (target_id, grade, weight, month, key of its ballot or rating)."""
    ballots = (select(Ballot.target_id.label("target_id"), Grade.grade.label("grade"),
                      cast(Grade.weight, Float).label("weight"), Ballot.month.label("month"),
                      cast(Ballot.id, String).label("source"))
               .join(Grade, Grade.ballot_id == Ballot.id)
               .where(Ballot.campaign_id == campaign.id, Ballot.excluded.is_(False)))
    if not campaign.count_liaison_ratings:
        return ballots.subquery("answers")
    start, end = _window(campaign)
    unit_kinds = [RatingTarget.unit.value, RatingTarget.section.value, RatingTarget.window.value]
    liaisons = (select(Target.id, ContactReport.score, cast(literal(1.0), Float),
                       _month(session, FieldRecord.created_at), cast(FieldRecord.id, String))
                .select_from(ContactReport)
                .join(Target, and_(Target.campaign_id == campaign.id, or_(
                    and_(Target.person_id.is_(None), ContactReport.rating_target.in_(unit_kinds),
                         FieldRecord.unit_id == Target.unit_id),
                    and_(Target.person_id.is_not(None), ContactReport.rating_target == RatingTarget.person.value,
                         ContactReport.person_id == Target.person_id))))
                .where(ContactReport.report_type == ReportType.rating, ContactReport.score.is_not(None),
                       FieldRecord.review_state != ReviewState.rejected,
                       FieldRecord.created_at >= start, FieldRecord.created_at < end))
    return union_all(ballots, liaisons).subquery("answers")


def _round(expr, places: int = 2):
    return func.round(cast(expr, Numeric(20, 10)), places)


def _num(value) -> float | None:
    return None if value is None else float(Decimal(str(value)))


def _per_target(session: Session, campaign: Campaign, answers) -> list[dict]:
    score = _round(func.sum(answers.c.weight * answers.c.grade) / func.nullif(func.sum(answers.c.weight), 0) * 20)
    per_grade = [func.sum(case((answers.c.grade == g, 1), else_=0)).label(f"g{g}") for g in (5, 4, 3, 2, 1)]
    grouped = (select(answers.c.target_id.label("target_id"),
                      func.count(func.distinct(answers.c.source)).label("ballots"),
                      func.count().label("answers"),
                      _round(func.avg(cast(answers.c.grade, Float))).label("mean"),
                      _round(func.sum(case((answers.c.grade >= 4, 1), else_=0)) * 100.0 / func.count())
                      .label("satisfaction_rate"),
                      score.label("score"), *per_grade)
               .group_by(answers.c.target_id).subquery("grouped"))
    ranked = select(grouped, func.rank().over(order_by=grouped.c.score.desc()).label("rank"),
                    func.rank().over(order_by=grouped.c.score.asc()).label("rank_from_bottom"),
                    func.rank().over(order_by=grouped.c.satisfaction_rate.desc()).label("sat_rank"),
                    func.rank().over(order_by=grouped.c.satisfaction_rate.asc()).label("sat_rank_low")
                    ).subquery("ranked")
    rows = session.execute(
        select(Target.id, Target.kind, Target.label, Target.unit_id, Target.person_id, Target.position, ranked)
        .outerjoin(ranked, ranked.c.target_id == Target.id).where(Target.campaign_id == campaign.id)
        .order_by(ranked.c.rank.is_(None), ranked.c.rank, Target.position)).mappings().all()
    out = []
    for r in rows:
        counted = r["answers"] is not None
        out.append({
            "target_id": r["id"], "kind": r["kind"].value, "label": r["label"], "unit_id": r["unit_id"],
            "person_id": r["person_id"], "ballots": r["ballots"] or 0, "answers": r["answers"] or 0,
            "mean": _num(r["mean"]), "satisfaction_rate": _num(r["satisfaction_rate"]), "score": _num(r["score"]),
            "rank": r["rank"] if counted else None, "rank_from_bottom": r["rank_from_bottom"] if counted else None,
            "distribution": {str(g): (r[f"g{g}"] or 0) for g in (5, 4, 3, 2, 1)},
            "_sat": (r["sat_rank"], r["sat_rank_low"]) if counted else None,
        })
    return out


def _months(session: Session, campaign: Campaign, answers) -> list[dict]:
    score = _round(func.sum(answers.c.weight * answers.c.grade) / func.nullif(func.sum(answers.c.weight), 0) * 20)
    grouped = (select(answers.c.month.label("month"), answers.c.target_id.label("target_id"),
                      func.count(func.distinct(answers.c.source)).label("ballots"), score.label("score"))
               .group_by(answers.c.month, answers.c.target_id).subquery("monthly"))
    ranked = select(grouped, func.rank().over(partition_by=grouped.c.month, order_by=grouped.c.score.desc())
                    .label("rank"), func.rank().over(partition_by=grouped.c.month, order_by=grouped.c.score.asc())
                    .label("rank_from_bottom")).subquery("ranked_months")
    rows = session.execute(select(ranked, Target.label).join(Target, Target.id == ranked.c.target_id)
                           .order_by(ranked.c.month, ranked.c.rank, Target.position)).mappings().all()
    months: dict[str, dict] = {}
    for r in rows:
        month = months.setdefault(r["month"], {"month": r["month"], "ranking": [], "last": []})
        month["ranking"].append({"target_id": r["target_id"], "label": r["label"], "ballots": r["ballots"],
                                 "score": _num(r["score"]), "rank": r["rank"]})
        if r["rank_from_bottom"] == 1:
            month["last"].append(r["target_id"])
    ordered = [months[m] for m in sorted(months)]
    for before, month in zip([None] + ordered, ordered):
        month["talk"] = sorted((t for t in month["last"] if before and _consecutive(before["month"], month["month"])
                                and t in before["last"]), key=str)
    return ordered


def _consecutive(a: str, b: str) -> bool:
    ya, ma = map(int, a.split("-"))
    yb, mb = map(int, b.split("-"))
    return yb * 12 + mb - (ya * 12 + ma) == 1


def compute(session: Session, campaign: Campaign, *, compare: bool = True) -> dict[str, Any]:
    """The results of ``campaign`` (no permission check: ``results`` is the caller's door)."""
    answers = _answers(session, campaign)
    targets = _per_target(session, campaign, answers)
    ranked = [t for t in targets if t["rank"] is not None]
    top = [t["target_id"] for t in ranked if t["rank"] <= TOP]
    bottom = [t["target_id"] for t in ranked if t["rank_from_bottom"] <= TOP]
    most = [t["target_id"] for t in ranked if t["_sat"][0] == 1]
    least = [t["target_id"] for t in ranked if t["_sat"][1] == 1]
    for t in targets:
        t.pop("_sat")
        t["top"], t["bottom"] = t["target_id"] in top, t["target_id"] in bottom
    previous = None
    if compare and campaign.previous_id:
        prev = session.get(Campaign, campaign.previous_id)
        previous = {"campaign_id": prev.id, "title": prev.title}
        before = {(t["unit_id"], t["person_id"]): t for t in compute(session, prev, compare=False)["targets"]}
        for t in targets:
            p = before.get((t["unit_id"], t["person_id"]))
            t["previous"] = None if p is None else {
                "score": p["score"], "rank": p["rank"], "satisfaction_rate": p["satisfaction_rate"],
                "score_change": None if p["score"] is None or t["score"] is None else round(t["score"] - p["score"], 2)}
    else:
        for t in targets:
            t["previous"] = None
    return {
        "campaign_id": campaign.id, "title": campaign.title, "kind": campaign.kind.value,
        "opens_on": campaign.opens_on, "closes_on": campaign.closes_on, "previous": previous,
        "ballots": sum(t["ballots"] for t in targets),
        "targets": targets,
        "top": top, "bottom": bottom, "ties_at_edge": len(top) > TOP or len(bottom) > TOP,
        "most_satisfied": most, "least_satisfied": least,
        "months": _months(session, campaign, answers),
    }


def results(session: Session, actor, campaign_id: uuid.UUID) -> dict[str, Any]:
    policy.require(actor, "results.read", "campaign")
    return compute(session, get_campaign(session, actor, campaign_id))


def _totals(result: dict[str, Any]) -> dict[str, Any]:
    answers = sum(t["answers"] for t in result["targets"])
    satisfied = sum(t["distribution"]["5"] + t["distribution"]["4"] for t in result["targets"])
    # A Decimal: the figures' comparison keeps it exact (and answers it as a string).
    rate = None if not answers else (Decimal(satisfied * 100) / answers).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return {"ballots": result["ballots"], "answers": answers, "satisfaction_rate": rate}


def campaigns_in(session: Session, jurisdictions, start, end, today) -> list[dict[str, Any]]:
    """For the office's figures: each campaign of ``jurisdictions`` (a subquery of ids) whose window meets
    start … end — its totals beside its previous campaign's, the names at the top and the bottom, the most and
    least satisfied, the windows due a talk in its last month, and its bad ratings (opened, verified, overdue)."""
    from .models import Rectification, RectificationState

    found = session.execute(select(Campaign).where(
        Campaign.jurisdiction_id.in_(jurisdictions), Campaign.opens_on <= end, Campaign.closes_on >= start)
        .order_by(Campaign.opens_on, Campaign.id)).unique().scalars().all()
    out = []
    for campaign in found:
        result = compute(session, campaign, compare=False)
        before = _totals(compute(session, session.get(Campaign, campaign.previous_id), compare=False)) \
            if campaign.previous_id else {"ballots": None, "answers": None, "satisfaction_rate": None}
        label = {t["target_id"]: t["label"] for t in result["targets"]}
        states = dict(session.execute(select(Rectification.state, func.count()).where(
            Rectification.campaign_id == campaign.id).group_by(Rectification.state)).all())
        overdue = session.execute(select(func.count()).select_from(Rectification).where(
            Rectification.campaign_id == campaign.id,
            Rectification.state.in_((RectificationState.open, RectificationState.answered)),
            Rectification.due_on < today)).scalar_one()
        last_month = result["months"][-1] if result["months"] else None
        out.append({
            "campaign_id": campaign.id, "title": campaign.title, "kind": campaign.kind.value,
            "opens_on": campaign.opens_on, "closes_on": campaign.closes_on, "previous_id": campaign.previous_id,
            "current": _totals(result), "previous": before,
            "top": [label[t] for t in result["top"]], "bottom": [label[t] for t in result["bottom"]],
            "most_satisfied": [label[t] for t in result["most_satisfied"]],
            "least_satisfied": [label[t] for t in result["least_satisfied"]],
            "talk": [label[t] for t in last_month["talk"]] if last_month else [],
            "bad_ratings": {"opened": sum(states.values()), "verified": states.get(RectificationState.verified, 0),
                            "withdrawn": states.get(RectificationState.withdrawn, 0), "overdue": overdue},
        })
    return out


def rows(result: dict[str, Any]) -> Iterator[tuple]:
    """The per-target results as spreadsheet rows (header ``CSV_HEADER``)."""
    yield CSV_HEADER
    for t in result["targets"]:
        p = t["previous"] or {}
        yield (result["campaign_id"], result["title"], t["target_id"], t["kind"], t["label"], t["ballots"],
               t["answers"], t["mean"], t["satisfaction_rate"], t["score"], t["rank"], t["rank_from_bottom"],
               *(t["distribution"][g] for g in "54321"), p.get("score"), p.get("rank"), p.get("score_change"),
               str(t["top"]).lower(), str(t["bottom"]).lower())
