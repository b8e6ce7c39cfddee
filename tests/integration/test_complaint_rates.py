"""The three rates of a seeded month match the values worked out by hand, on both databases.

June 2026 (1 June is a Monday; no holiday before the 19th): unit A has five complaints, B two, D two, C one;
a May complaint of A and a rejected June one are not counted. Worked out by hand (dates in June):

    A  received 5, responded in time 3 (#1 on the due day, #3 by its answer, #4 the same day) → 0.6;
       judged 3 (#1 yes, #2 no, #5 yes) → resolution 2/3; rated 4 (#1 sat, #2 dis, #3 basic, #5 sat) → 0.75;
       overdue 2 (#4 unanswered, #2 reopened, both past due on the 30th); handling days 2, 3, 1, 3 → median 2.5
    B  received 2, both responded in time → 1.0; judged 1, resolved 1 → 1.0; rated 1, satisfied → 1.0; median 3
    C  received 1, no response → 0.0; no callback → resolution and satisfaction null; overdue 1
    D  received 2, dispatched on the 4th, nothing done since → response 0.0; answers due the 11th: overdue 2
    ranking by complaints: A 1, B and D 2 (tied), C 4 → A, B, D lose the excellent grade.
"""

from __future__ import annotations

from datetime import date

from field.complaints import handling, intake, rates
from field.complaints.models import Complaint
from field.core.models.platform import Role
from field.core.scope import subtree
from field.figures import figures
from tests.directory_fixtures import make_unit  # noqa: F401  (fixture)

def d(day: int, month: int = 6) -> date:
    return date(2026, month, day)


def test_the_three_rates_of_a_seeded_month_match_the_hand_computed_values(session, make_user, make_unit, tree):
    admin, handler = make_user(Role.admin), make_user(Role.handler)
    units = {name: make_unit(f"单位{name}") for name in "ABCD"}

    def complaint(unit: str, received: date, *, dispatched: date | None = None, responded: date | None = None,
                  answered: date | None = None, rated: tuple | None = None, reject: bool = False) -> Complaint:
        c = intake.record_call(session, admin, {"category": "obstruction", "text": "推诿"}).complaint
        c.received_on = received
        if reject:
            handling.triage(session, admin, c, "reject", reason="不属于受理范围", today=received)
            return c
        handling.triage(session, admin, c, "accept", today=received)
        handling.dispatch(session, admin, c, units[unit].id, today=dispatched or received)
        handling.assign_handler(session, admin, handler.id, units[unit].id)
        if responded:
            handling.respond(session, handler, c, today=responded)
        if answered:
            handling.answer(session, handler, c, text="已处理", resolved=True, today=answered)
        if rated:
            source, day, rating, resolved = rated
            if source == "self":
                handling.rate(session, c, rating=rating, resolved=resolved, text="", today=day)
            elif rating is None:
                handling.call_back(session, admin, c, reached=False, today=day)
            else:
                handling.call_back(session, admin, c, reached=True, rating=rating, resolved=resolved, today=day)
        return c

    complaint("A", d(1), responded=d(2), answered=d(3), rated=("call", d(4), "satisfied", True))
    complaint("A", d(1), responded=d(3), answered=d(4), rated=("call", d(4), "dissatisfied", False))
    complaint("A", d(1), answered=d(2), rated=("call", d(3), "basically_satisfied", None))
    complaint("A", d(8), responded=d(8))
    complaint("A", d(8), responded=d(10), answered=d(11), rated=("self", d(12), "satisfied", True))
    complaint("B", d(2), responded=d(3), answered=d(5), rated=("call", d(5), "satisfied", True))
    complaint("B", d(2), responded=d(3), answered=d(5), rated=("call", d(6), None, None))
    complaint("C", d(3))
    complaint("D", d(4))
    complaint("D", d(4))
    complaint("A", d(28, 5), responded=d(28, 5))  # May: not counted
    complaint("A", d(9), reject=True)            # rejected: never dispatched
    session.commit()

    got = {r.name[-1]: r for r in rates.unit_rates(session, subtree(tree["home"].path), d(1), d(30), d(30))}
    want = {
        "A": (5, 0.6, 0.6667, 0.75, 2, 2.5, 1, True),
        "B": (2, 1.0, 1.0, 1.0, 0, 3.0, 2, True),
        "C": (1, 0.0, None, None, 1, None, 4, False),
        "D": (2, 0.0, None, None, 2, None, 2, True),
    }
    assert {k: (r.received, r.response_rate, r.resolution_rate, r.satisfaction_rate, r.overdue,
                r.median_handling_working_days, r.rank_by_complaints, r.loses_excellent_grade)
            for k, r in got.items()} == want

    office = figures.figures(session, admin, start=d(1), end=d(30), today=d(30))
    a = next(u for u in office["complaint_units"] if u["name"] == "单位A")
    assert (a["received"], a["satisfaction_rate"], a["rank_by_complaints"]) == (5, 0.75, 1)
    csv_rows = [row for row in figures.rows(office) if row[0] == "complaint_units" and row[2] == "单位A"]
    assert ("complaint_units", a["unit_id"], "单位A", "response_rate", 0.6, "", "", "", "") in csv_rows
