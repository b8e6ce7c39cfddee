"""The office's figures for a jurisdiction and a period, as JSON or CSV (design: field/figures/figures.py)."""

from __future__ import annotations

import csv
import io

from flask import Response
from flask_smorest import Blueprint

from evidence.storage import content_disposition
from field.figures import figures
from field.core.spreadsheets import spreadsheet_cell
from schemas.figures import FiguresArgsSchema, FiguresSchema

from .auth import authenticated, current_user
from .clock import office_day
from .db import db

blp = Blueprint("figures", __name__, url_prefix="/api/v1",
                description="The office's figures (cases, dispositions, units, inspections, points, callbacks)")


def _csv(result: dict) -> Response:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel reads UTF-8 only with the BOM
    writer = csv.writer(buffer)
    for row in figures.rows(result):
        writer.writerow([spreadsheet_cell(value) for value in row])
    name = f"figures-{result['jurisdiction']['code']}-{result['period']['from']}-{result['period']['to']}.csv"
    return Response(buffer.getvalue().encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Type": "text/csv; charset=utf-8",
                             "Content-Disposition": content_disposition(name)})


@blp.route("/figures")
@blp.arguments(FiguresArgsSchema, location="query")
@blp.response(200, FiguresSchema)
@blp.doc(responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@authenticated()
def get_figures(args):
    """The office's figures over a period, compared with the previous period of the same length

    Office staff only (others: 404). ``?format=csv`` answers one row per number, UTF-8 with a BOM.
    """
    result = figures.figures(db(), current_user(), start=args["start"], end=args["end"],
                             jurisdiction_id=args["jurisdiction_id"], today=office_day())
    if args["format"] == "csv":
        return _csv(result)
    return result
