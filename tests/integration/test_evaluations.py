"""Evaluations on a real database (both): seeded campaigns against hand-computed rankings, months, comparison,
liaisons' ratings, questionnaires, and the bad-rating loop in the domain."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import select, update

from field.core.errors import Conflict, InvalidInput, InvalidTransition, NotAllowed, NotFound
from field.core.models.platform import Role
from field.core.office import office_today
from field.custody.models import CustodyEntry
from field.directory import units
from field.directory.models import UnitKind
from field.evaluations import ballots, questionnaires, rectifications, results
from field.evaluations.campaigns import RaterInput
from field.evaluations.models import Ballot, CampaignKind, RaterKind, Rectification, RectificationState
from field.filings import inspectors
from tests.evaluation_fixtures import QUESTIONS, competition_ranks, hand_count, make_campaign, vote  # noqa: F401
from tests.reports_fixtures import (  # noqa: F401 (fixtures)
    enterprise,
    leader,
    liaison,
    point,
    send_report,
)
from tests.directory_fixtures import make_enterprise, make_point, make_unit  # noqa: F401 (fixtures)


def _answers(overall: int, attitude: int, **more) -> dict:
    return {"overall": overall, "attitude": attitude, **more}


def _check_against_hand(result: dict, expected: dict) -> None:
    by_id = {t["target_id"]: t for t in result["targets"]}
    scores = {t: e["score"] for t, e in expected.items()}
    ranks, from_bottom = competition_ranks(scores), competition_ranks(scores, reverse=False)
    for target, e in expected.items():
        got = by_id[target]
        assert (got["score"], got["satisfaction_rate"], got["mean"], got["answers"]) == (
            e["score"], e["satisfaction_rate"], e["mean"], e["answers"]), got["label"]
        assert (got["rank"], got["rank_from_bottom"]) == (ranks[target], from_bottom[target]), got["label"]


def test_a_thousand_person_evaluation_of_300_ballots_over_12_units_ranks_as_counted_by_hand(
        session, admin, make_unit, make_campaign, vote):
    bureaus = [make_unit(f"区第{i + 1}局", UnitKind.department) for i in range(12)]
    campaign = make_campaign(admin, CampaignKind.thousand, bureaus)
    target_of = {t.unit_id: t for t in campaign.targets}
    rng = random.Random(15)
    given: dict = {t.id: [] for t in campaign.targets}
    for i in range(300):
        unit = bureaus[i % 12]
        # Each bureau leans its own way, so the ranking is not a coin toss.
        low = 1 + (i % 12) // 4
        overall, attitude = rng.randint(low, 5), rng.randint(low, 5)
        vote(admin, campaign, target_of[unit.id], _answers(overall, attitude, channel="window"))
        given[target_of[unit.id].id] += [(overall, 2), (attitude, 1)]

    result = results.results(session, admin, campaign.id)
    expected = hand_count(given)
    _check_against_hand(result, expected)
    assert result["ballots"] == 300
    assert sum(t["ballots"] for t in result["targets"]) == 300 and {t["ballots"] for t in result["targets"]} == {25}
    rates = {t: e["satisfaction_rate"] for t, e in expected.items()}
    assert set(result["most_satisfied"]) == {t for t, r in rates.items() if r == max(rates.values())}
    assert set(result["least_satisfied"]) == {t for t, r in rates.items() if r == min(rates.values())}
    ranks = competition_ranks({t: e["score"] for t, e in expected.items()})
    assert set(result["top"]) == {t for t, r in ranks.items() if r <= 5}
    # Every bad grade opened one rectification per ballot.
    bad = session.execute(select(Rectification).where(Rectification.campaign_id == campaign.id)).scalars().all()
    assert len(bad) == sum(1 for b in session.execute(select(Ballot).where(Ballot.campaign_id == campaign.id))
                           .scalars() if min(b.answers["overall"], b.answers["attitude"]) <= 2) > 0
    # The CSV has the same numbers.
    rows = list(results.rows(result))
    assert rows[0] == results.CSV_HEADER and len(rows) == 13
    assert {r[2]: r[9] for r in rows[1:]} == {t: e["score"] for t, e in expected.items()}


def test_a_hundred_section_chiefs_give_the_top_five_with_a_tie_and_the_bottom_five(
        session, admin, make_unit, make_campaign, vote):
    from field.directory.models import PersonRank

    bureau = make_unit("区政务服务中心", UnitKind.department)
    chiefs = [units.create_person(session, admin, unit_id=bureau.id, name=f"科长{i:03d}", post="科长",
                                  rank=PersonRank.section) for i in range(100)]
    session.commit()
    campaign = make_campaign(admin, CampaignKind.section_chiefs, chiefs, title="2026年百名科长评议")
    target_of = {t.person_id: t for t in campaign.targets}
    rng = random.Random(100)
    given: dict = {t.id: [] for t in campaign.targets}
    for n, chief in enumerate(chiefs):
        for _ in range(3):
            if n < 6:
                grades = (5, 5)          # six tied at the top: the top "five" are six
            elif n >= 95:
                grades = (1, 1)          # five at the very bottom
            elif n == 94:
                grades = (1, 2)          # just above them
            else:
                grades = (rng.randint(2, 4), rng.randint(2, 4))
            vote(admin, campaign, target_of[chief.id], _answers(*grades))
            given[target_of[chief.id].id] += [(grades[0], 2), (grades[1], 1)]

    result = results.results(session, admin, campaign.id)
    _check_against_hand(result, hand_count(given))
    top = {target_of[c.id].id for c in chiefs[:6]}
    bottom = {target_of[c.id].id for c in chiefs[95:]}
    assert set(result["top"]) == top and len(result["top"]) == 6 and result["ties_at_edge"]
    assert set(result["bottom"]) == bottom
    named = {t["target_id"]: t["label"] for t in result["targets"]}
    assert sorted(named[t] for t in result["bottom"]) == [f"区政务服务中心 科长 科长{i:03d}" for i in range(95, 100)]


def test_monthly_window_ranking_flags_a_window_last_two_months_running(
        session, admin, make_unit, make_campaign, vote):
    hall = make_unit("区政务服务中心", UnitKind.department)
    windows = [make_unit(f"{n}号窗口", UnitKind.window, parent_id=hall.id) for n in (1, 2, 3)]
    campaign = make_campaign(admin, CampaignKind.window_monthly, windows, title="窗口月评")
    target_of = {t.unit_id: t for t in campaign.targets}
    plan = {"2026-03": (5, 4, 2), "2026-04": (5, 3, 2), "2026-05": (4, 1, 5)}
    for month, grades in plan.items():
        for window, grade in zip(windows, grades):
            cast = vote(admin, campaign, target_of[window.id], _answers(grade, grade))
            session.execute(update(Ballot).where(Ballot.id == cast.ballot.id).values(month=month))
    session.commit()
    months = {m["month"]: m for m in results.results(session, admin, campaign.id)["months"]}
    third, second = target_of[windows[2].id].id, target_of[windows[1].id].id
    assert [m for m in months] == ["2026-03", "2026-04", "2026-05"]
    assert months["2026-03"]["last"] == [third] and months["2026-03"]["talk"] == []
    assert months["2026-04"]["last"] == [third] and months["2026-04"]["talk"] == [third]
    assert months["2026-05"]["last"] == [second] and months["2026-05"]["talk"] == []
    assert [r["rank"] for r in months["2026-05"]["ranking"]] == [1, 2, 3]


def test_the_previous_campaign_is_compared_and_liaisons_ratings_count(
        session, admin, make_unit, make_campaign, vote, liaison, point):
    bureau = make_unit("区市场监督管理局", UnitKind.department)
    other = make_unit("区税务局", UnitKind.department)
    first = make_campaign(admin, CampaignKind.thousand, [bureau, other], title="2025年千人评")
    vote(admin, first, first.targets[0], _answers(3, 3))
    vote(admin, first, first.targets[1], _answers(5, 5))
    today = office_today()
    first.opens_on, first.closes_on = today - timedelta(days=400), today - timedelta(days=30)
    session.commit()
    second = make_campaign(admin, CampaignKind.thousand, [bureau, other], title="2026年千人评",
                           opens_on=today - timedelta(days=10))
    assert second.previous_id == first.id
    vote(admin, second, second.targets[0], _answers(5, 5))
    # A liaison's rating of the bureau (and one rejected in review, which does not count).
    send_report(session, liaison, report_type="rating", point_id=point.id, rating_target="unit",
                unit_id=bureau.id, score=2)
    session.commit()
    result = results.results(session, admin, second.id)
    by_unit = {t["unit_id"]: t for t in result["targets"]}
    mine = by_unit[bureau.id]
    # ballot: (5·2 + 5·1); liaison: 2·1 → (15 + 2) / 4 · 20 = 85
    assert mine["ballots"] == 2 and mine["answers"] == 3 and mine["score"] == 85.0
    assert mine["distribution"] == {"5": 2, "4": 0, "3": 0, "2": 1, "1": 0}
    assert mine["previous"] == {"score": 60.0, "rank": 2, "satisfaction_rate": 0.0, "score_change": 25.0}
    assert by_unit[other.id]["rank"] is None and by_unit[other.id]["previous"]["rank"] == 1
    assert result["previous"]["campaign_id"] == first.id
    no_liaisons = make_campaign(admin, CampaignKind.thousand, [bureau], count_liaison_ratings=False)
    vote(admin, no_liaisons, no_liaisons.targets[0], _answers(5, 5))
    assert results.results(session, admin, no_liaisons.id)["targets"][0]["answers"] == 2


def test_questionnaires_are_checked_versioned_once_open_and_imported_from_csv_and_xlsx(session, admin, make_unit,
                                                                                     make_campaign):
    with pytest.raises(InvalidInput) as e:
        questionnaires.create_questionnaire(session, admin, title="问卷", questions=[
            {"name": "note", "type": "text", "label": {"zh": "意见"}}])
    assert e.value.fields[0].field == "questions"
    with pytest.raises(InvalidInput) as e:
        questionnaires.create_questionnaire(session, admin, title="问卷", questions=[
            {"name": "q", "type": "grade5", "label": {"zh": "满意度"}}, {"name": "q", "type": "text", "label": "x"}])
    assert e.value.fields[0].field == "questions.1.name"
    campaign = make_campaign(admin, CampaignKind.thousand, [make_unit()], opened=False)
    draft = campaign.questionnaire
    same, new = questionnaires.revise_questionnaire(session, admin, draft, title="改", questions=QUESTIONS[:1])
    assert (same.id, new, same.version) == (draft.id, False, 1)
    from field.evaluations import campaigns

    campaigns.open_campaign(session, admin, campaign)
    changed, new = questionnaires.revise_questionnaire(session, admin, draft, title="改二", questions=QUESTIONS)
    assert new and changed.version == 2 and changed.family_id == draft.family_id
    assert campaign.questionnaire_id == draft.id and len(draft.questions) == 1

    sheet = ("type,name,label::zh,label::en,required,choices,weight\n"
             "grade5,overall,总体满意度,Overall,yes,,2\n"
             "select_one,channel,办理渠道,Channel,no,window=窗口|online=网上,\n"
             "text,comment,意见建议,Comments,no,,\n")
    from_csv = questionnaires.questions_from_sheet(sheet.encode(), "text/csv")
    book = Workbook()
    for row in csv.reader(io.StringIO(sheet)):
        book.active.append(row)
    data = io.BytesIO()
    book.save(data)
    from_xlsx = questionnaires.questions_from_sheet(
        data.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert from_csv == from_xlsx
    assert [q["type"] for q in from_csv] == ["grade5", "single", "text"] and from_csv[0]["weight"] == 2.0
    assert from_csv[0]["required"] and from_csv[1]["choices"][1] == {"value": "online", "label": {"zh": "网上"}}
    with pytest.raises(InvalidInput) as e:
        questionnaires.questions_from_sheet(b"type,name,label::zh\ngrade5,overall,\n", "text/csv")
    assert e.value.fields[0].field == "rows.1.label.zh"


def test_a_bad_rating_walks_answer_verification_and_reply_and_an_appeal_is_decided_and_logged(
        session, admin, make_user, make_unit, make_campaign, vote):
    bureau = make_unit("区市场监督管理局", UnitKind.department)
    window = make_unit("登记窗口", UnitKind.window, parent_id=bureau.id)
    elsewhere = make_unit("区税务局", UnitKind.department)
    inspector, stranger, reviewer = make_user(Role.inspector), make_user(Role.inspector), make_user(Role.reviewer)
    inspectors.assign_unit(session, admin, inspector.id, bureau.id)
    inspectors.assign_unit(session, admin, stranger.id, elsewhere.id)
    session.commit()
    campaign = make_campaign(admin, CampaignKind.thousand, [window], rectify_days=5)
    target = campaign.targets[0]
    good = vote(admin, campaign, target, _answers(5, 4))
    assert good.rectification is None
    cast = vote(admin, campaign, target, _answers(2, 4, comment="窗口人员推诿"),
                rater=RaterInput(RaterKind.citizen, name="张三", phone="13800000000"))
    item = cast.rectification
    assert item.state is RectificationState.open and item.unit_id == window.id
    assert item.complaint == {"target": "区市场监督管理局/登记窗口", "grades": {"overall": 2},
                              "comments": {"comment": "窗口人员推诿"}}
    assert (item.due_on - item.opened_on).days >= 5  # five working days on the office calendar

    # The department's inspector sees the window's item; another unit's does not.
    assert rectifications.get_rectification(session, inspector, item.id) is item
    with pytest.raises(NotFound):
        rectifications.get_rectification(session, stranger, item.id)
    with pytest.raises(NotAllowed):
        rectifications.verify(session, inspector, item, accepted=True, reply="x")
    with pytest.raises(NotAllowed):
        rectifications.disclose_rater(session, inspector, item, reason="回访")

    rectifications.answer(session, inspector, item, text="已约谈窗口人员，当面致歉并办结。")
    with pytest.raises(InvalidInput):
        rectifications.verify(session, reviewer, item, accepted=False)  # a refusal says why
    rectifications.verify(session, reviewer, item, accepted=False, note="未说明整改措施")
    assert item.state is RectificationState.open
    rectifications.answer(session, inspector, item, text="已整改：推行首问负责制，窗口人员培训。")
    rectifications.verify(session, reviewer, item, accepted=True, note="核实属实", reply="您反映的问题已整改，感谢监督。")
    session.commit()
    _, ballot, shown = ballots.ballot_of_code(session, session.get(
        __import__("field.evaluations.models", fromlist=["Invitation"]).Invitation, cast.ballot.invitation_id).code)
    assert shown.state is RectificationState.verified and shown.reply == "您反映的问题已整改，感谢监督。"
    with pytest.raises(NotAllowed):
        rectifications.disclose_rater(session, reviewer, item, reason="差评回访")
    rater = rectifications.disclose_rater(session, admin, item, reason="差评回访")
    assert (rater["kind"], rater["name"], rater["phone"]) == ("citizen", "张三", "13800000000")

    # An appeal: decided by the office, logged, the ballot stops counting.
    malicious = vote(admin, campaign, target, _answers(1, 1)).rectification
    with pytest.raises(InvalidTransition):
        rectifications.decide_appeal(session, reviewer, malicious, upheld=True, note="x")
    rectifications.appeal(session, inspector, malicious, reason="同一时段无该业务办理记录，系误评。")
    with pytest.raises(Conflict):
        rectifications.appeal(session, inspector, malicious, reason="again")
    rectifications.decide_appeal(session, reviewer, malicious, upheld=True, note="核实无办件记录，申诉成立。")
    session.commit()
    assert malicious.state is RectificationState.withdrawn
    assert session.get(Ballot, malicious.ballot_id).excluded
    assert results.results(session, admin, campaign.id)["targets"][0]["ballots"] == 2
    logged = session.execute(select(CustodyEntry.kind).where(
        CustodyEntry.subject_type == "evaluation_rectification").order_by(CustodyEntry.seq)).scalars().all()
    assert logged == ["evaluation.rectification.answered", "evaluation.rectification.refused",
                      "evaluation.rectification.answered", "evaluation.rectification.verified",
                      "evaluation.rectification.rater_disclosed", "evaluation.rectification.appealed",
                      "evaluation.rectification.appeal_decided"]


def test_an_overdue_item_is_flagged_and_becomes_an_accountability_case_once(
        session, admin, make_user, make_unit, make_campaign, vote):
    bureau = make_unit("区市场监督管理局", UnitKind.department)
    reviewer = make_user(Role.reviewer)
    campaign = make_campaign(admin, CampaignKind.thousand, [bureau])
    item = vote(admin, campaign, campaign.targets[0], _answers(1, 2)).rectification
    with pytest.raises(Conflict):
        rectifications.escalate(session, reviewer, item, today=item.due_on)
    later = item.due_on + timedelta(days=1)
    overdue = session.execute(rectifications.rectifications_query(session, reviewer, overdue=True, today=later)
                              ).scalars().all()
    assert overdue == [item] and rectifications.is_overdue(item, later)
    case = rectifications.escalate(session, reviewer, item, today=later)
    session.commit()
    assert item.case_id == case.id and case.subjects[0].unit_id == bureau.id
    assert "差评整改逾期" in case.title
    with pytest.raises(Conflict):
        rectifications.escalate(session, reviewer, item, today=later)


def test_a_code_votes_once_a_repeat_gets_its_receipt_and_answers_are_checked(session, admin, make_unit,
                                                                           make_campaign):
    from field.evaluations import campaigns

    campaign = make_campaign(admin, CampaignKind.thousand, [make_unit()])
    invitation, = campaigns.issue_invitations(session, admin, campaign, target_id=campaign.targets[0].id,
                                              rater=RaterInput(RaterKind.counter))
    with pytest.raises(InvalidInput) as e:
        ballots.cast(session, invitation.code, {"overall": 5})
    assert e.value.fields[0].field == "answers.attitude"
    with pytest.raises(InvalidInput) as e:
        ballots.cast(session, invitation.code, {"overall": 6, "attitude": 5})
    assert e.value.fields[0].field == "answers.overall"
    with pytest.raises(InvalidInput) as e:
        ballots.cast(session, invitation.code, {"overall": 5, "attitude": 5, "channel": "mail"})
    assert e.value.fields[0].field == "answers.channel"
    first = ballots.cast(session, invitation.code.lower(), _answers(5, 5), client_key="k1")
    again = ballots.cast(session, invitation.code, _answers(5, 5), client_key="k1")
    assert first.created and not again.created and again.ballot.id == first.ballot.id
    with pytest.raises(Conflict):
        ballots.cast(session, invitation.code, _answers(1, 1), client_key="k2")
    with pytest.raises(NotFound):
        ballots.cast(session, "NOSUCHCODE", _answers(5, 5))
    # Closed: a campaign whose window has passed takes no ballot.
    late = make_campaign(admin, CampaignKind.thousand, [make_unit()], opens_on=date(2020, 1, 1),
                         closes_on=date(2020, 12, 31))
    late.closes_on = office_today() + timedelta(days=1)
    code = campaigns.issue_invitations(session, admin, late, target_id=late.targets[0].id,
                                       rater=RaterInput(RaterKind.counter))[0].code
    late.closes_on = office_today() - timedelta(days=1)
    with pytest.raises(Conflict):
        ballots.cast(session, code, _answers(5, 5))


def test_ballots_from_one_address_are_flagged_then_refused(session, admin, make_unit, make_campaign, vote,
                                                            monkeypatch):
    monkeypatch.setattr(ballots, "FLAG_AFTER", 2)
    monkeypatch.setattr(ballots, "REFUSE_AFTER", 3)
    campaign = make_campaign(admin, CampaignKind.thousand, [make_unit()])
    target = campaign.targets[0]
    flags = [vote(admin, campaign, target, _answers(5, 5), address="203.0.113.9").ballot.flagged for _ in range(3)]
    assert flags == [False, False, True]
    with pytest.raises(ballots.TooManyBallots):
        vote(admin, campaign, target, _answers(5, 5), address="203.0.113.9")
    assert not vote(admin, campaign, target, _answers(5, 5), address="203.0.113.10").ballot.flagged


def test_the_office_figures_name_each_campaign_of_the_period_beside_the_one_before(
        session, admin, make_unit, make_campaign, vote):
    from field.figures import figures

    bureau, other = make_unit("区市场监督管理局", UnitKind.department), make_unit("区税务局", UnitKind.department)
    first = make_campaign(admin, CampaignKind.thousand, [bureau, other], title="2025年千人评")
    for grades in ((5, 5), (4, 4), (2, 2)):
        vote(admin, first, first.targets[0], _answers(*grades))
    today = office_today()
    first.opens_on, first.closes_on = today - timedelta(days=400), today - timedelta(days=30)
    session.commit()
    second = make_campaign(admin, CampaignKind.thousand, [bureau, other], title="2026年千人评",
                           opens_on=today - timedelta(days=10))
    vote(admin, second, second.targets[0], _answers(5, 5))
    vote(admin, second, second.targets[1], _answers(1, 3))
    result = figures.figures(session, admin, start=today - timedelta(days=5), end=today, today=today)
    shown, = result["evaluations"]
    assert shown["campaign_id"] == second.id and shown["previous_id"] == first.id
    assert shown["ballots"] == {"current": 2, "previous": 3, "change": -1, "change_pct": -33.3}
    # answers in the top two grades: 2 of 4 now, 4 of 6 before
    assert shown["satisfaction_rate"] == {"current": "50.00", "previous": "66.67", "change": "-16.67",
                                          "change_pct": -25.0}
    assert shown["most_satisfied"] == ["区市场监督管理局"] and shown["least_satisfied"] == ["区税务局"]
    assert shown["top"] == ["区市场监督管理局", "区税务局"] and shown["bad_ratings"]["opened"] == 1
    rows = list(figures.rows(result))
    assert ("evaluations", second.id, "2026年千人评", "ballots", 2, 3, -1, -33.3, "") in rows
    assert ("evaluations", second.id, "2026年千人评", "least_satisfied", "区税务局", "", "", "", "") in rows
