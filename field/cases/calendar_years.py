"""Declared years: a year's official schedule entered as one document, what the calendar covers, the warning.

Design (docs/calendar.md has the long form)
===========================================

- ``declare_year``: an admin (or the server's command line, naming a jurisdiction) enters
  a year's holidays and make-up working days as the State Council published them, as one
  document. It is checked as a whole (``field.core.workdays.validate_schedule``: every problem
  named by its field, ``holidays.3``), refused for a year the installed chinese-calendar
  has (422 on ``year``) or one already declared where it would apply (409), stored with
  its days, logged in the custody chain (``calendar.year_declared``), and every
  provisional case value of the subtree is recomputed in the same transaction
  (field/cases/deadlines.py).
- A declaration applies to its jurisdiction and everything below it; a lower one wins
  for its subtree (field/core/calendar.py). The schedule is national, so the office declares
  at the top jurisdiction it administers.
- ``calendar_warnings``: this year, and from 1 November the next one, when neither the
  library nor a declaration covers every jurisdiction where someone works (within a
  subtree, or everywhere). /readyz, GET /calendar/years, the figures and
  ``fieldwatch calendar status`` carry it.
- ``read_schedule_file``: the ``fieldwatch calendar import`` file, JSON (the POST body) or
  a plain text form, turned into that same document.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from field.core.calendar import ancestor_ids, declared_on_chain
from field.core.errors import Conflict, DomainError, FieldProblem, InvalidInput
from field.core.models.calendar import CalendarYear, CalendarYearDay
from field.core.models.platform import Jurisdiction, User
from field.core.scope import subtree
from field.core.workdays import LIBRARY_VERSION, LIBRARY_YEARS, validate_schedule
from field.custody import chain as custody

from . import deadlines
from .policy import POLICY

#: What a day of a year without a schedule is, said the same way everywhere.
PROVISIONAL_RULE = ("A year that neither chinese-calendar nor a declaration covers is counted on weekends alone "
                    "(Monday to Friday working, plus overrides); what is computed over it is marked provisional "
                    "and recomputed when the year is declared.")
#: From this day of a year on, the next year's schedule is expected (the State Council publishes in autumn).
WARN_FROM = (11, 1)


class ScheduleInvalid(DomainError):
    """A year's schedule breaks the rules as a whole: every problem, each naming its field (422)."""


@dataclass
class Declared:
    """A stored declaration and what declaring it recomputed."""

    row: CalendarYear
    recomputed: list[deadlines.Recomputed] = field(default_factory=list)


def declare_year(session: Session, actor: User | None, *, year: int, holidays: list[date],
                 makeup_workdays: list[date], weekends_only: bool = False, source: str = "", today: date,
                 jurisdiction: Jurisdiction | None = None) -> Declared:
    """Declare ``year`` with its schedule for ``jurisdiction`` (default: the admin's) and below."""
    POLICY.require(actor, "calendar.declare")
    jurisdiction = jurisdiction or (actor.jurisdiction if actor is not None else None)
    if jurisdiction is None:
        raise InvalidInput("jurisdiction", "Name the jurisdiction the year is declared for.")
    problems = validate_schedule(year, holidays, makeup_workdays, weekends_only)
    if problems:
        raise ScheduleInvalid(f"The schedule of {year} is not valid: " + "; ".join(f"{f}: {m}" for f, m in problems),
                              fields=[FieldProblem(f, m) for f, m in problems])
    if year in LIBRARY_YEARS:
        raise InvalidInput("year", f"{year} is in the official calendar already (chinese-calendar {LIBRARY_VERSION}).")
    applying = declared_on_chain(session, ancestor_ids(session, jurisdiction)).get(year)
    if applying is not None:
        where = session.get(Jurisdiction, applying.jurisdiction_id)
        raise Conflict(f"{year} is declared already for {where.name} ({where.code}), which applies here; enter "
                       "local differences as overrides.")
    row = CalendarYear(jurisdiction_id=jurisdiction.id, year=year, weekends_only=weekends_only,
                       source=(source or "").strip(), created_by_id=actor.id if actor is not None else None,
                       days=[CalendarYearDay(day=d, working=False) for d in sorted(holidays)]
                       + [CalendarYearDay(day=d, working=True) for d in sorted(makeup_workdays)])
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict(f"{year} is declared already.") from None
    custody.record(session, jurisdiction_id=jurisdiction.id, kind="calendar.year_declared",
                   subject_type="calendar_year", subject_id=row.id, actor=actor,
                   data={"year": year, "weekends_only": weekends_only, "source": row.source,
                         "holidays": [d.isoformat() for d in row.holidays],
                         "makeup_workdays": [d.isoformat() for d in row.makeup_workdays]})
    recomputed = deadlines.recompute_provisional(session, actor, today=today, within=jurisdiction,
                                                 cause={"year": year, "declared_for": jurisdiction.code})
    return Declared(row, recomputed)


# -- what is covered ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarWarning:
    year: int
    message: str
    #: Codes of the jurisdictions where someone works and the year has no schedule.
    jurisdictions: list[str]
    code: str = "calendar_year_undeclared"


def years_to_check(today: date) -> list[int]:
    """This year, and from 1 November the next: those whose schedule must be known by now."""
    years = [today.year]
    if (today.month, today.day) >= WARN_FROM:
        years.append(today.year + 1)
    return [y for y in years if y not in LIBRARY_YEARS]


def uncovered_jurisdictions(session: Session, year: int, within: Jurisdiction | None = None) -> list[str]:
    """Codes of the jurisdictions (of ``within``'s subtree) where someone works and no declaration of ``year``
    applies; ``within`` itself counts whoever works there."""
    declaring = aliased(Jurisdiction)
    covered = exists().where(CalendarYear.year == year, CalendarYear.jurisdiction_id == declaring.id,
                             Jurisdiction.path.startswith(declaring.path))
    staffed = exists().where(User.jurisdiction_id == Jurisdiction.id, User.disabled.is_(False))
    stmt = select(Jurisdiction.code).where(~covered)
    if within is not None:
        stmt = stmt.where(Jurisdiction.id.in_(subtree(within.path)),
                          or_(Jurisdiction.id == within.id, staffed))
    else:
        stmt = stmt.where(staffed)
    return list(session.execute(stmt.order_by(Jurisdiction.path)).scalars())


def calendar_warnings(session: Session, today: date, within: Jurisdiction | None = None) -> list[CalendarWarning]:
    """The years whose schedule is missing by ``today`` somewhere in ``within``'s subtree (everywhere if None)."""
    out = []
    for year in years_to_check(today):
        codes = uncovered_jurisdictions(session, year, within)
        if not codes:
            continue
        where = "one jurisdiction" if len(codes) == 1 else f"{len(codes)} jurisdictions"
        out.append(CalendarWarning(year, (
            f"No working-day schedule for {year} is declared ({where}): deadlines running into {year} are "
            f"counted on weekends alone and marked provisional. Declare {year} with the State Council's holidays "
            f"and make-up working days (POST /api/v1/calendar/years or `fieldwatch calendar import`), or install "
            f"a chinese-calendar release that has it."), codes))
    return out


@dataclass(frozen=True)
class DeclaredYearView:
    row: CalendarYear
    jurisdiction: Jurisdiction
    declared_by: str | None
    applies_here: bool

    @property
    def year(self) -> int:
        return self.row.year

    @property
    def superseded_by_library(self) -> bool:
        return self.row.year in LIBRARY_YEARS


@dataclass(frozen=True)
class Coverage:
    library_version: str
    library_years: list[int]
    declared: list[DeclaredYearView]
    warnings: list[CalendarWarning]
    provisional_rule: str = PROVISIONAL_RULE

    @property
    def library(self) -> dict:
        return {"package": "chinese-calendar", "version": self.library_version,
                "first_year": self.library_years[0], "last_year": self.library_years[-1]}


def coverage(session: Session, jurisdiction: Jurisdiction, today: date) -> Coverage:
    """What the calendar of ``jurisdiction`` covers: the library, the declarations above, here and below."""
    chain = ancestor_ids(session, jurisdiction)
    applying = {row.id for row in declared_on_chain(session, chain).values()}
    rows = session.execute(
        select(CalendarYear, Jurisdiction, User.display_name)
        .join(Jurisdiction, Jurisdiction.id == CalendarYear.jurisdiction_id)
        .outerjoin(User, User.id == CalendarYear.created_by_id)
        .where(or_(CalendarYear.jurisdiction_id.in_(chain),
                   CalendarYear.jurisdiction_id.in_(subtree(jurisdiction.path))))
        .order_by(CalendarYear.year, Jurisdiction.path)).all()
    declared = [DeclaredYearView(row, where, name, row.id in applying) for row, where, name in rows]
    return Coverage(LIBRARY_VERSION, sorted(LIBRARY_YEARS), declared, calendar_warnings(session, today, jurisdiction))


# -- the import file ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleDocument:
    """A schedule file as the POST body it stands for, and the line each listed day came from."""

    body: dict
    lines: dict[str, int]


_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\.\.(\d{4}-\d{2}-\d{2}))?$")


def _days(text: str, line: int) -> list[str]:
    match = _RANGE.match(text)
    if not match:
        raise DomainError(f"line {line}: a date (2027-02-06) or a range (2027-02-06..2027-02-12) is expected.",
                          fields=[FieldProblem(f"line {line}", "A date or a range of dates.")])
    try:
        first = date.fromisoformat(match.group(1))
        last = date.fromisoformat(match.group(2) or match.group(1))
    except ValueError as exc:
        raise DomainError(f"line {line}: {exc}.", fields=[FieldProblem(f"line {line}", str(exc))]) from None
    if last < first or (last - first).days > 31:
        raise DomainError(f"line {line}: a range runs forwards, 32 days at most.",
                          fields=[FieldProblem(f"line {line}", "A range runs forwards, 32 days at most.")])
    return [date.fromordinal(n).isoformat() for n in range(first.toordinal(), last.toordinal() + 1)]


def read_schedule_file(text: str) -> ScheduleDocument:
    """A schedule file: the JSON document of POST /calendar/years, or the plain text form of docs/calendar.md."""
    if text.lstrip().startswith("{"):
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DomainError(f"Not valid JSON: {exc}.", fields=[FieldProblem(f"line {exc.lineno}", exc.msg)]) from None
        return ScheduleDocument(body, {})
    body: dict = {"holidays": [], "makeup_workdays": []}
    lines: dict[str, int] = {}
    for n, raw in enumerate(text.splitlines(), start=1):
        content = raw.split("#", 1)[0].strip()
        if not content:
            continue
        keyword, _, rest = content.partition(" ")
        keyword, rest = keyword.lower(), rest.strip()
        if keyword == "year" and rest.isdigit():
            body["year"] = int(rest)
            lines["year"] = n
        elif keyword in ("holiday", "makeup"):
            key = "holidays" if keyword == "holiday" else "makeup_workdays"
            for day in _days(rest, n):
                lines[f"{key}.{len(body[key])}"] = n
                body[key].append(day)
        elif keyword == "weekends-only" and not rest:
            body["weekends_only"] = True
            lines["weekends_only"] = n
        elif keyword == "source" and rest:
            body["source"] = rest
            lines["source"] = n
        else:
            raise DomainError(f"line {n}: expected 'year YYYY', 'holiday DATE[..DATE]', 'makeup DATE', "
                              f"'weekends-only' or 'source TEXT', got {content!r}.",
                              fields=[FieldProblem(f"line {n}", "Unknown line.")])
    return ScheduleDocument(body, lines)


__all__ = ["declare_year", "Declared", "ScheduleInvalid", "CalendarWarning", "calendar_warnings", "years_to_check",
           "uncovered_jurisdictions", "coverage", "Coverage", "DeclaredYearView", "read_schedule_file",
           "ScheduleDocument", "PROVISIONAL_RULE"]
