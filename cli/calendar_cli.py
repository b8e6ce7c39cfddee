"""``fieldwatch calendar``: declare a year from a schedule file, see what the calendar covers, recompute."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
import marshmallow as ma
from sqlalchemy import func, or_, select

from api.clock import office_day
from cli import _session, main
from field.accounts import jurisdictions
from field.cases import calendar_years, deadlines
from field.cases.models import Case
from field.core.errors import DomainError, FieldProblem
from field.core.models.calendar import CalendarYear
from field.core.models.platform import Jurisdiction
from field.core.workdays import LIBRARY_VERSION, LIBRARY_YEARS
from schemas.calendar import YearCreateSchema


@main.group("calendar")
def calendar_group():
    """The working-day calendar: declared years and the missing-year warning (docs/calendar.md)."""


def _jurisdiction(session, code: str | None) -> Jurisdiction:
    """The named jurisdiction, or the top one when the tree has a single top (where a national schedule goes)."""
    if code:
        found = jurisdictions.find_by_code(session, code)
        if found is None:
            raise click.ClickException(f"no jurisdiction with code {code}")
        return found
    tops = session.execute(select(Jurisdiction).where(Jurisdiction.parent_id.is_(None))).scalars().all()
    if len(tops) != 1:
        raise click.ClickException(f"name the jurisdiction with --jurisdiction CODE ({len(tops)} top "
                                   "jurisdictions, not one)")
    return tops[0]


def _problems(messages: dict) -> list[FieldProblem]:
    """marshmallow's {"holidays": {3: ["Not a valid date."]}} as [holidays.3: Not a valid date.]."""
    out = []
    for name, node in messages.items():
        for index, texts in (node.items() if isinstance(node, dict) else [(None, node)]):
            out += [FieldProblem(name if index is None else f"{name}.{index}", text) for text in texts]
    return out


def _schedule(row: CalendarYear) -> str:
    if row.weekends_only:
        return "weekends only (no holidays)"
    return f"{len(row.holidays)} holidays, {len(row.makeup_workdays)} make-up working days"


@calendar_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--jurisdiction", "code", help="code of the jurisdiction it applies to (default: the top one)")
def import_schedule(path: Path, code: str | None):
    """Declare a year from FILE: its holidays and make-up working days, checked as a whole.

    FILE is the JSON document of POST /api/v1/calendar/years or the plain text form
    (docs/calendar.md). Provisional deadlines are recomputed in the same transaction.
    """
    lines: dict[str, int] = {}
    with _session() as session:
        try:
            document = calendar_years.read_schedule_file(path.read_text(encoding="utf-8-sig"))
            lines = document.lines
            try:
                body = YearCreateSchema().load(document.body)
            except ma.ValidationError as exc:
                raise DomainError("The schedule file is not valid.", fields=_problems(exc.messages)) from None
            where = _jurisdiction(session, code)
            declared = calendar_years.declare_year(session, None, jurisdiction=where, today=office_day(), **body)
        except DomainError as exc:
            for problem in exc.fields:
                place = f"line {lines[problem.field]} ({problem.field})" if problem.field in lines else problem.field
                click.echo(f"{path.name}: {place}: {problem.message}", err=True)
            raise click.ClickException(exc.detail) from None
        session.commit()
        click.echo(f"{declared.row.year} declared for {where.name} ({where.code}) and below: "
                   f"{_schedule(declared.row)}; {len(declared.recomputed)} cases recomputed")


@calendar_group.command("status")
@click.option("--jurisdiction", "code", help="look within this jurisdiction (default: the whole deployment)")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="as of this day (default: the office's today)")
def status(code: str | None, today):
    """What the calendar covers, and the missing-year warning. Exits 0, warning or not: read the output."""
    as_of: date = today.date() if today else office_day()
    with _session() as session:
        within = _jurisdiction(session, code) if code else None
        click.echo(f"chinese-calendar {LIBRARY_VERSION}: {min(LIBRARY_YEARS)}-{max(LIBRARY_YEARS)}")
        rows = session.execute(select(CalendarYear, Jurisdiction).join(Jurisdiction)
                               .order_by(CalendarYear.year, Jurisdiction.path)).all()
        for row, where in rows:
            note = " (superseded: chinese-calendar has it)" if row.year in LIBRARY_YEARS else ""
            click.echo(f"declared {row.year} for {where.code} {where.name}: {_schedule(row)}{note}")
        provisional = session.scalar(select(func.count(Case.id)).where(
            or_(Case.deadline_provisional.is_(True), Case.handling_days_provisional.is_(True))))
        click.echo(f"cases with a provisional deadline or handling time: {provisional}")
        warnings = calendar_years.calendar_warnings(session, as_of, within)
        for warning in warnings:
            click.echo(f"WARNING {warning.year}: {warning.message}")
            click.echo(f"  without a schedule for {warning.year}: {', '.join(warning.jurisdictions)}")
        if not warnings:
            click.echo(f"as of {as_of.isoformat()}: every year needed has its schedule")


@calendar_group.command("recompute")
def recompute():
    """Recompute every provisional deadline the calendar can answer now (after a chinese-calendar upgrade)."""
    with _session() as session:
        done = deadlines.recompute_provisional(session, None, today=office_day(),
                                               cause={"by": "fieldwatch calendar recompute"})
        session.commit()
    click.echo(f"{len(done)} cases recomputed")
