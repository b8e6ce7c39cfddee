"""The office's figures for a jurisdiction and a period, each compared with the period before it.

Design
======

Input: a jurisdiction (the caller's, or one in the caller's scope; its whole subtree is
counted), a period ``start`` … ``end`` (local dates, both included) and ``today``. The
previous period has the same number of days and ends the day before ``start``. Office
staff only (admin, reviewer); anyone else gets the same NotFound as a missing resource.

Every number is a ``GROUP BY`` / ``COUNT`` / ``SUM`` / ``AVG`` in the database; no table of
records is loaded into Python. The exceptions, said here so nobody is surprised:

- the median handling time reads one integer column (``cases.handling_working_days``) of
  the cases *closed* in the period and takes the median in Python (portable SQL has no
  median). The working days themselves were counted with
  ``calendar_for(...).working_days_between(opened_on, ended_on)`` when the case ended
  (field/cases/ stores them), so holidays and make-up days are already in. Counted over
  a year without a schedule they are provisional (``cases.handling_days_provisional``),
  and so are the handling figures that read one, and the overdue count when a running
  case's provisional deadline falls in or before the year counted in: those compared
  numbers carry ``provisional: true``; ``warnings`` says which year lacks its schedule;
- leader-visit compliance reuses ``field.reports.compliance.assess`` (two grouped queries over
  the points; the periods owed are calendar arithmetic in Python);
- the unit and enterprise rankings and the percentages are arithmetic over the grouped rows.

Definitions (a record counts unless it was rejected in review):

- cases: ``opened`` = ``opened_on`` in the period; ``closed`` = closed (not dismissed) with
  ``closed_on`` in the period; ``dismissed`` likewise; ``closure_rate`` = percentage of the
  cases opened in the period that were closed by its end; ``handling_days_mean`` /
  ``_median`` over the cases closed in the period; ``overdue`` = as of the period's end
  (or today, if earlier): opened by then, not ended by then, effective deadline before then;
- dispositions: ``persons_by_rank`` counts distinct persons with a disposition decided in
  the period, by their rank at the decision (``division`` 处级, ``section`` 科级,
  ``below_section``, ``unknown``); ``by_kind`` counts dispositions (persons and units);
- units: ``findings`` (findings that occurred in the period, by the envelope's unit),
  ``complaints`` (cases opened in the period from a complaint, per subject unit),
  ``reports`` (liaisons' ``problem`` reports made in the period about the unit), ``cases``
  (cases opened in the period naming the unit or one of its people). Ranks are
  competition ranks (1, 2, 2, 4). ``loses_excellent_grade``: rank ≤ 3 by
  ``complaints + reports`` with at least one (ties at third place are all flagged);
- inspections (``inspected_on`` in the period): per enterprise and in total,
  ``inspections``, ``penalties`` and ``fines_total``; a **penalty** is a record whose measure
  is ``warning``, ``fine`` or ``compulsory_measure`` (not ``order_to_rectify`` nor
  ``first_violation_exemption``, which punish nothing); ``fines_total`` is the exact sum of
  ``fine_amount`` as a decimal string; ``unfiled`` counts records flagged unfiled;
- monitoring points (only those ``visible_points`` lets the caller know of): ``reports``
  made in the period about the point, and for points with a leader the compliance over the
  period (periods due, visited, missed);
- callbacks: ``sampled`` = service cases drawn into samples made in the period;
  ``called``, ``reached``, ``satisfied``, ``dissatisfied`` = callbacks made in the period;
- evaluations: each campaign whose window meets the period, compared with the campaign before
  it (not the previous period): ``ballots``, ``satisfaction_rate`` (a decimal string), the
  names at the top and bottom, most and least satisfied, due a talk, and its bad ratings
  (field/evaluations/results.py ``campaigns_in``).

Each compared number is ``{"current", "previous", "change", "change_pct"}``; ``change_pct``
is None when the previous value is 0. Sums of money are strings (exact ``Decimal``).

``rows(figures)`` flattens the result for the CSV export (api/figures.py).
"""

from __future__ import annotations

import statistics
import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterator

from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.orm import Session

from field.cases.calendar_years import calendar_warnings
from field.complaints import rates as complaint_rates
from field.core.errors import InvalidInput, NotFound
from field.reports.compliance import Period, assess
from field.core.models.platform import OFFICE_ROLES, Jurisdiction, User
from field.core.models.records import ReviewState
from field.cases.models import Case, CaseState, CaseSubject, Complaint, Disposition
from field.directory.models import Enterprise, MonitoringPoint, PersonRank, Unit
from field.filings.models import InspectionMeasure, InspectionRecord
from field.reports.models import ContactReport, ReportType
from field.evaluations import results as evaluation_results
from field.visits.models import Callback, CallbackSample, Finding, SampleCase
from field.directory.monitoring import visible_points
from field.core.office import OFFICE_TZ, office_today
from field.core.scope import resolve_jurisdiction, subtree

#: Measures that count as a penalty in the figures (see the module docstring).
PENALTY_MEASURES = (InspectionMeasure.warning, InspectionMeasure.fine, InspectionMeasure.compulsory_measure)
#: How far back a period may reach: a figure over more than ten years is a typo.
MAX_DAYS = 3660


@dataclass(frozen=True)
class Span:
    """Local dates ``start`` … ``end``, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Span:
        end = self.start - timedelta(days=1)
        return Span(end - timedelta(days=self.days - 1), end)

    def dates(self, column):
        return column.between(self.start, self.end)

    def moments(self, column):
        """A timestamp column within the span's local days (China time)."""
        lo = datetime.combine(self.start, time.min, tzinfo=OFFICE_TZ)
        hi = datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=OFFICE_TZ)
        return and_(column >= lo, column < hi)


def compare(current, previous) -> dict[str, Any]:
    """A number against the previous period's; money (Decimal) stays exact, as strings."""
    change = None if current is None or previous is None else current - previous
    pct = None
    if change is not None and previous:
        # Half up on the exact quotient: 140.15 % is 140.2, whatever its nearest float is.
        pct = float((Decimal(change) * 100 / Decimal(previous)).quantize(Decimal("0.1"), ROUND_HALF_UP))
    as_out = (lambda v: None if v is None else str(v)) if isinstance(current, Decimal) else (lambda v: v)
    return {"current": as_out(current), "previous": as_out(previous), "change": as_out(change), "change_pct": pct}


def _counted(model) -> Any:
    return model.review_state != ReviewState.rejected


def _rank(counts: dict[uuid.UUID, int]) -> dict[uuid.UUID, int]:
    """Competition ranks (1, 2, 2, 4) of the non-zero counts."""
    ordered = sorted((n for n in counts.values() if n), reverse=True)
    return {key: ordered.index(n) + 1 for key, n in counts.items() if n}


# -- sections ------------------------------------------------------------------------------------


def _case_numbers(session: Session, where, span: Span, as_of: date) -> dict[str, Any]:
    opened = session.scalar(select(func.count(Case.id)).where(where, span.dates(Case.opened_on)))
    closed_of_opened = session.scalar(select(func.count(Case.id)).where(
        where, span.dates(Case.opened_on), Case.state == CaseState.closed, Case.closed_on <= span.end))
    ended = select(func.count(Case.id), func.avg(Case.handling_working_days)).where(
        where, span.dates(Case.closed_on), Case.state == CaseState.closed)
    closed, mean = session.execute(ended).one()
    dismissed = session.scalar(select(func.count(Case.id)).where(
        where, Case.state == CaseState.dismissed, span.dates(Case.ended_on)))
    # The one column read into Python: SQL has no portable median.
    days = session.scalars(select(Case.handling_working_days).where(
        where, span.dates(Case.closed_on), Case.state == CaseState.closed,
        Case.handling_working_days.is_not(None))).all()
    running = and_(where, Case.opened_on <= as_of, or_(Case.ended_on.is_(None), Case.ended_on > as_of))
    overdue = session.scalar(select(func.count(Case.id)).where(running, Case.effective_deadline < as_of))
    # Provisional counts (docs/calendar.md): a handling time counted on weekends alone, or a running
    # case whose provisional effective deadline falls in or before the year counted in: only such a
    # deadline can lie on either side of ``as_of`` once its year is declared.
    handling_provisional = session.scalar(select(func.count(Case.id)).where(
        where, span.dates(Case.closed_on), Case.state == CaseState.closed, Case.handling_days_provisional.is_(True)))
    overdue_provisional = session.scalar(select(func.count(Case.id)).where(
        running, Case.deadline_provisional.is_(True), Case.effective_deadline == Case.deadline,
        Case.effective_deadline < date(as_of.year + 1, 1, 1)))
    return {
        "opened": opened, "closed": closed, "dismissed": dismissed, "overdue": overdue,
        "closure_rate": round(closed_of_opened * 100 / opened, 1) if opened else None,
        "handling_days_mean": round(float(mean), 1) if mean is not None else None,
        "handling_days_median": float(statistics.median(days)) if days else None,
        "provisional": {"overdue": bool(overdue_provisional), "handling_days_mean": bool(handling_provisional),
                        "handling_days_median": bool(handling_provisional)},
    }


def _cases(session: Session, where, span: Span, today: date) -> dict[str, Any]:
    prev = span.previous()
    now = _case_numbers(session, where, span, min(span.end, today))
    before = _case_numbers(session, where, prev, min(prev.end, today))
    flags_now, flags_before = now.pop("provisional"), before.pop("provisional")
    out = {key: compare(now[key], before[key]) for key in now}
    for key in flags_now:
        out[key]["provisional"] = flags_now[key] or flags_before[key]
    return out


def _dispositions(session: Session, where, span: Span) -> dict[str, Any]:
    def by_rank(s: Span) -> dict[str, int]:
        rows = session.execute(select(Disposition.rank_at_decision, func.count(distinct(Disposition.person_id)))
                               .where(where, s.dates(Disposition.decided_on), Disposition.person_id.is_not(None))
                               .group_by(Disposition.rank_at_decision)).all()
        return {(rank.value if rank else "unknown"): n for rank, n in rows}

    def by_kind(s: Span) -> dict[str, int]:
        rows = session.execute(select(Disposition.kind, func.count(Disposition.id))
                               .where(where, s.dates(Disposition.decided_on)).group_by(Disposition.kind)).all()
        return {kind.value: n for kind, n in rows}

    prev = span.previous()
    ranks = [r.value for r in PersonRank] + ["unknown"]
    now_rank, before_rank = by_rank(span), by_rank(prev)
    now_kind, before_kind = by_kind(span), by_kind(prev)
    return {
        "persons_by_rank": {r: compare(now_rank.get(r, 0), before_rank.get(r, 0)) for r in ranks},
        "by_kind": {k: compare(now_kind.get(k, 0), before_kind.get(k, 0))
                    for k in sorted(set(now_kind) | set(before_kind))},
    }


def _units(session: Session, jurisdictions, span: Span) -> list[dict[str, Any]]:
    def grouped(stmt) -> dict[uuid.UUID, int]:
        return {unit_id: n for unit_id, n in session.execute(stmt).all() if unit_id is not None}

    findings = grouped(select(Finding.unit_id, func.count(Finding.id)).where(
        Finding.jurisdiction_id.in_(jurisdictions), _counted(Finding), span.moments(Finding.occurred_at))
        .group_by(Finding.unit_id))
    reports = grouped(select(ContactReport.unit_id, func.count(ContactReport.id)).where(
        ContactReport.jurisdiction_id.in_(jurisdictions), _counted(ContactReport),
        ContactReport.report_type == ReportType.problem, span.moments(ContactReport.device_time))
        .group_by(ContactReport.unit_id))
    case_subjects = (select(CaseSubject.unit_id, func.count(distinct(CaseSubject.case_id)))
                     .join(Case, Case.id == CaseSubject.case_id)
                     .where(Case.jurisdiction_id.in_(jurisdictions), span.dates(Case.opened_on))
                     .group_by(CaseSubject.unit_id))
    cases = grouped(case_subjects)
    complaints = grouped(case_subjects.join(Complaint, Complaint.case_id == Case.id))
    ids = set(findings) | set(reports) | set(cases) | set(complaints)
    if not ids:
        return []
    names = dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all())
    against = {u: complaints.get(u, 0) + reports.get(u, 0) for u in ids}
    rank_f, rank_a, rank_c = _rank({u: findings.get(u, 0) for u in ids}), _rank(against), _rank(
        {u: cases.get(u, 0) for u in ids})
    out = [{
        "unit_id": u, "name": names.get(u),
        "findings": findings.get(u, 0), "complaints": complaints.get(u, 0), "reports": reports.get(u, 0),
        "complaints_and_reports": against[u], "cases": cases.get(u, 0),
        "rank_by_findings": rank_f.get(u), "rank_by_complaints": rank_a.get(u), "rank_by_cases": rank_c.get(u),
        "loses_excellent_grade": rank_a.get(u, 4) <= 3,
    } for u in ids]
    out.sort(key=lambda row: (-row["complaints_and_reports"], -row["findings"], -row["cases"], row["name"] or ""))
    return out


def _inspection_rows(session: Session, jurisdictions, span: Span):
    stmt = (select(InspectionRecord.enterprise_id, func.count(InspectionRecord.id),
                   func.count(InspectionRecord.id).filter(InspectionRecord.measure.in_(PENALTY_MEASURES)),
                   func.sum(InspectionRecord.fine_amount),
                   func.count(InspectionRecord.id).filter(InspectionRecord.flag_unfiled.is_(True)))
            .where(InspectionRecord.jurisdiction_id.in_(jurisdictions), _counted(InspectionRecord),
                   span.dates(InspectionRecord.inspected_on))
            .group_by(InspectionRecord.enterprise_id))
    return {ent: (n, pen, Decimal(fines or 0).quantize(Decimal("0.01")), unfiled)
            for ent, n, pen, fines, unfiled in session.execute(stmt).all()}


def _inspections(session: Session, jurisdictions, span: Span) -> dict[str, Any]:
    now = _inspection_rows(session, jurisdictions, span)
    before = _inspection_rows(session, jurisdictions, span.previous())
    zero = (0, 0, Decimal("0.00"), 0)
    ids = set(now) | set(before)
    names = dict(session.execute(select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(ids))).all()) \
        if ids else {}

    def total(rows, i):
        return sum((r[i] for r in rows.values()), Decimal("0.00") if i == 2 else 0)

    per = [{
        "enterprise_id": e, "name": names.get(e),
        "inspections": compare(now.get(e, zero)[0], before.get(e, zero)[0]),
        "penalties": compare(now.get(e, zero)[1], before.get(e, zero)[1]),
        "fines_total": compare(now.get(e, zero)[2], before.get(e, zero)[2]),
    } for e in ids]
    per.sort(key=lambda row: (-row["inspections"]["current"], row["name"] or ""))
    return {
        "penalty_measures": [m.value for m in PENALTY_MEASURES],
        "inspections": compare(total(now, 0), total(before, 0)),
        "penalties": compare(total(now, 1), total(before, 1)),
        "fines_total": compare(total(now, 2), total(before, 2)),
        "unfiled": compare(total(now, 3), total(before, 3)),
        "per_enterprise": per,
    }


def _points(session: Session, user: User, jurisdictions, span: Span, today: date) -> list[dict[str, Any]]:
    points = session.execute(select(MonitoringPoint).where(
        visible_points(user), MonitoringPoint.jurisdiction_id.in_(jurisdictions))).unique().scalars().all()
    if not points:
        return []
    ids = [p.id for p in points]

    def reports(s: Span) -> dict[uuid.UUID, int]:
        return dict(session.execute(select(ContactReport.point_id, func.count(ContactReport.id)).where(
            ContactReport.point_id.in_(ids), _counted(ContactReport), s.moments(ContactReport.device_time))
            .group_by(ContactReport.point_id)).all())

    now, before = reports(span), reports(span.previous())
    owed = [p for p in points if p.leader_id is not None and p.visit_frequency is not None]
    compliance = {c.point_id: c for c in assess(session, owed, Period(span.start, span.end), today)}
    out = []
    for p in points:
        c = compliance.get(p.id)
        out.append({
            "point_id": p.id, "enterprise_id": p.enterprise_id, "name": p.enterprise.name, "covert": p.covert,
            "reports": compare(now.get(p.id, 0), before.get(p.id, 0)),
            "leader_visits": None if c is None else {
                "obligation": c.obligation.value, "periods_due": c.periods_due,
                "periods_visited": c.periods_visited, "periods_missed": c.periods_missed},
        })
    out.sort(key=lambda row: (-row["reports"]["current"], row["name"]))
    return out


def _callback_numbers(session: Session, jurisdictions, span: Span) -> dict[str, int]:
    sampled = session.scalar(select(func.count()).select_from(SampleCase)
                             .join(CallbackSample, CallbackSample.id == SampleCase.sample_id)
                             .where(CallbackSample.jurisdiction_id.in_(jurisdictions),
                                    span.moments(CallbackSample.created_at)))
    called, reached, satisfied, dissatisfied = session.execute(select(
        func.count(Callback.id),
        func.count(Callback.id).filter(Callback.reached.is_(True)),
        func.count(Callback.id).filter(Callback.satisfied.is_(True)),
        func.count(Callback.id).filter(Callback.satisfied.is_(False)),
    ).where(Callback.jurisdiction_id.in_(jurisdictions), _counted(Callback),
            span.moments(Callback.called_at))).one()
    return {"sampled": sampled, "called": called, "reached": reached, "satisfied": satisfied,
            "dissatisfied": dissatisfied}


def _callbacks(session: Session, jurisdictions, span: Span) -> dict[str, Any]:
    now = _callback_numbers(session, jurisdictions, span)
    before = _callback_numbers(session, jurisdictions, span.previous())
    return {key: compare(now[key], before[key]) for key in now}


# -- the figures ---------------------------------------------------------------------------------


def figures(session: Session, user: User, *, start: date, end: date, jurisdiction_id: uuid.UUID | None = None,
            today: date | None = None) -> dict[str, Any]:
    """Every figure of the office for ``jurisdiction_id`` (default: the caller's) over ``start`` … ``end``."""
    if user.role not in OFFICE_ROLES:
        raise NotFound("figures")
    if end < start:
        raise InvalidInput("to", "The period ends before it starts.")
    span = Span(start, end)
    if span.days > MAX_DAYS:
        raise InvalidInput("from", f"A period spans at most {MAX_DAYS} days.")
    today = today or office_today()
    jurisdiction: Jurisdiction = (resolve_jurisdiction(session, user, jurisdiction_id)
                                  if jurisdiction_id is not None else user.jurisdiction)
    within = subtree(jurisdiction.path)
    prev = span.previous()
    return {
        "warnings": [{"code": w.code, "year": w.year, "message": w.message, "jurisdictions": w.jurisdictions}
                     for w in calendar_warnings(session, today, jurisdiction)],
        "jurisdiction": {"id": jurisdiction.id, "code": jurisdiction.code, "name": jurisdiction.name},
        "period": {"from": span.start, "to": span.end},
        "previous_period": {"from": prev.start, "to": prev.end},
        "cases": _cases(session, Case.jurisdiction_id.in_(within), span, today),
        "dispositions": _dispositions(session, Disposition.jurisdiction_id.in_(within), span),
        "units": _units(session, within, span),
        "inspections": _inspections(session, within, span),
        "monitoring_points": _points(session, user, within, span, today),
        "callbacks": _callbacks(session, within, span),
        "evaluations": [{**c, **{k: compare(c["current"][k], c["previous"][k])
                                 for k in ("ballots", "satisfaction_rate")}}
                        for c in evaluation_results.campaigns_in(session, within, span.start, span.end, today)],
        "complaint_units": [asdict(r) for r in complaint_rates.unit_rates(session, within, span.start, span.end,
                                                                           today)],
    }


CSV_HEADER = ("section", "item_id", "item", "figure", "current", "previous", "change", "change_pct", "provisional")


def rows(result: dict[str, Any]) -> Iterator[tuple]:
    """The figures as flat rows for a spreadsheet: one row per number (header: ``CSV_HEADER``).

    Warnings come first (section ``warnings``, the message in ``current``); ``provisional``
    is true or false for the figures that rest on the working-day calendar, blank elsewhere.
    """
    def cmp(section, item_id, item, figure, c):
        flag = c.get("provisional")
        return (section, item_id or "", item or "", figure, c["current"], c["previous"], c["change"],
                c["change_pct"], "" if flag is None else str(flag).lower())

    yield CSV_HEADER
    for w in result["warnings"]:
        yield ("warnings", "", w["year"], w["code"], w["message"], "", "", "", "")
    for key, c in result["cases"].items():
        yield cmp("cases", None, None, key, c)
    for rank, c in result["dispositions"]["persons_by_rank"].items():
        yield cmp("persons_by_rank", None, rank, "persons", c)
    for kind, c in result["dispositions"]["by_kind"].items():
        yield cmp("dispositions_by_kind", None, kind, "dispositions", c)
    for u in result["units"]:
        for figure in ("findings", "complaints", "reports", "complaints_and_reports", "cases",
                       "rank_by_findings", "rank_by_complaints", "rank_by_cases", "loses_excellent_grade"):
            yield ("units", u["unit_id"], u["name"], figure, u[figure], "", "", "", "")
    for figure in ("inspections", "penalties", "fines_total", "unfiled"):
        yield cmp("inspections", None, None, figure, result["inspections"][figure])
    for e in result["inspections"]["per_enterprise"]:
        for figure in ("inspections", "penalties", "fines_total"):
            yield cmp("enterprises", e["enterprise_id"], e["name"], figure, e[figure])
    for p in result["monitoring_points"]:
        yield cmp("monitoring_points", p["point_id"], p["name"], "reports", p["reports"])
        if p["leader_visits"]:
            for figure in ("periods_due", "periods_visited", "periods_missed"):
                yield ("monitoring_points", p["point_id"], p["name"], f"leader_visits_{figure}",
                       p["leader_visits"][figure], "", "", "", "")
    for key, c in result["callbacks"].items():
        yield cmp("callbacks", None, None, key, c)
    for e in result["evaluations"]:
        for figure in ("ballots", "satisfaction_rate"):
            yield cmp("evaluations", e["campaign_id"], e["title"], figure, e[figure])
        for figure in ("top", "bottom", "most_satisfied", "least_satisfied", "talk"):
            yield ("evaluations", e["campaign_id"], e["title"], figure, "、".join(e[figure]), "", "", "", "")
        for figure, n in e["bad_ratings"].items():
            yield ("evaluations", e["campaign_id"], e["title"], f"bad_ratings_{figure}", n, "", "", "", "")
    for u in result["complaint_units"]:
        for figure in COMPLAINT_FIGURES:
            yield ("complaint_units", u["unit_id"], u["name"], figure, "" if u[figure] is None else u[figure],
                   "", "", "", "")


COMPLAINT_FIGURES = ("received", "response_rate", "resolution_rate", "satisfaction_rate",
                     "median_handling_working_days", "overdue", "rank_by_complaints", "loses_excellent_grade")


__all__ = ["PENALTY_MEASURES", "Span", "compare", "figures", "rows", "CSV_HEADER"]
