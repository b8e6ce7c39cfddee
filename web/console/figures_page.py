"""The office's figures as charts (server-side SVG, web/console/charts.py), each with its CSV beside it.

The numbers are field/figures/figures.py's, the same as GET /api/v1/figures; a chart's CSV is
that export's rows of its own sections.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import marshmallow as ma
from flask import Response, render_template, request
from flask_babel import gettext as _

from api.clock import office_day
from api.db import db
from api.cases import content_disposition  # evidence.storage's, through the API (web may not import evidence)
from field.core.spreadsheets import spreadsheet_cell
from field.figures import figures
from schemas.figures import FiguresArgsSchema

from .. import session
from . import blp, charts

#: A chart's CSV: the sections of the export's rows it draws.
SECTIONS = {
    "cases": ("warnings", "cases"),
    "units": ("units",),
    "inspections": ("inspections", "enterprises"),
    "points": ("monitoring_points",),
    "dispositions": ("persons_by_rank", "dispositions_by_kind"),
    "callbacks": ("callbacks",),
}


def _period() -> tuple[dict, dict]:
    given = {k: v for k, v in request.args.items() if k in ("from", "to") and v.strip()}
    today = office_day()
    given.setdefault("to", today.isoformat())
    given.setdefault("from", (today.replace(day=1) if today.day > 7 else today - timedelta(days=29)).isoformat())
    try:
        return FiguresArgsSchema().load(given), given
    except ma.ValidationError as invalid:
        return {}, {**given, "errors": invalid.messages}


def _result(args: dict) -> dict:
    user, _device = session.current()
    return figures.figures(db(), user, start=args["start"], end=args["end"], today=office_day())


@blp.get("/figures")
def figures_page():
    args, given = _period()
    if not args:
        return render_template("console/figures.html", given=given, result=None), 422
    result = _result(args)
    c = result["cases"]
    case_chart = charts.paired([(_("opened"), c["opened"]), (_("closed"), c["closed"]),
                                (_("dismissed"), c["dismissed"]), (_("overdue"), c["overdue"])])
    time_chart = charts.paired([(_("mean"), c["handling_days_mean"]), (_("median"), c["handling_days_median"])])
    units = charts.ranked([(u["name"] or "—", u["complaints_and_reports"]) for u in result["units"]
                           if u["complaints_and_reports"]])
    i = result["inspections"]
    inspections = charts.paired([(_("inspections"), i["inspections"]), (_("penalties"), i["penalties"]),
                                 (_("unfiled"), i["unfiled"])])
    leaders = [p for p in result["monitoring_points"] if p["leader_visits"]]
    compliance = charts.ranked([(p["name"], p["leader_visits"]["periods_visited"]) for p in leaders])
    return render_template("console/figures.html", given=given, result=result, case_chart=case_chart,
                           time_chart=time_chart, units_chart=units, inspections_chart=inspections,
                           compliance_chart=compliance, leaders=leaders)


@blp.get("/figures.csv")
def figures_csv():
    args, given = _period()
    if not args:
        return render_template("console/figures.html", given=given, result=None), 422
    section = request.args.get("section", "")
    wanted = SECTIONS.get(section)
    result = _result(args)
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel reads UTF-8 only with the BOM
    writer = csv.writer(buffer)
    for n, row in enumerate(figures.rows(result)):
        if n == 0 or wanted is None or row[0] in wanted:
            writer.writerow([spreadsheet_cell(value) for value in row])
    name = (f"figures-{section or 'all'}-{result['jurisdiction']['code']}-{result['period']['from']}-"
            f"{result['period']['to']}.csv")
    return Response(buffer.getvalue().encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Type": "text/csv; charset=utf-8", "Content-Disposition": content_disposition(name)})
