"""The working-day calendar: official holidays and make-up days, declared years, and the office's overrides."""

from __future__ import annotations

import datetime as dt
import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from field.core import calendar
from field.cases import calendar_years
from field.core.pages import page
from schemas.calendar import (
    CoverageSchema,
    DaysArgsSchema,
    DaySchema,
    DeclaredYearSchema,
    OverrideCreateSchema,
    OverrideSchema,
    YearCreateSchema,
)
from schemas.common import PageArgsSchema, page_of

from .auth import authenticated, current_user
from .clock import office_day
from .db import db

blp = Blueprint("calendar", __name__, url_prefix="/api/v1/calendar",
                description="Working days (official calendar with 调休, declared years, plus local overrides)")


@blp.route("/days")
@blp.arguments(DaysArgsSchema, location="query")
@blp.response(200, DaySchema(many=True))
@authenticated()
def days(args):
    """Which days from..to are working days for the caller's jurisdiction

    A day of a year without a schedule (neither chinese-calendar nor a declaration has it)
    is answered on weekends alone and marked ``provisional``.
    """
    cal = calendar.calendar_for(db(), current_user().jurisdiction)
    span = (args["end"] - args["start"]).days + 1
    return [{"date": d, "working": cal.is_working_day(d), "provisional": cal.is_provisional(d)}
            for d in (args["start"] + dt.timedelta(days=i) for i in range(span))]


@blp.route("/overrides")
class Overrides(MethodView):
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(OverrideSchema))
    @authenticated()
    def get(self, cursor, limit):
        """Local holidays and extra working days that apply to the caller"""
        return page(db(), calendar.overrides_query, current_user(), cursor=cursor, limit=limit)

    @blp.arguments(OverrideCreateSchema)
    @blp.response(201, OverrideSchema)
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body):
        """Add a local holiday or an extra working day for the admin's jurisdiction"""
        override = calendar.add_override(db(), current_user(), **body)
        return override


@blp.route("/overrides/<uuid:override_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
@authenticated()
def delete_override(override_id: uuid.UUID):
    """Remove an override"""
    calendar.remove_override(db(), current_user(), override_id)


@blp.route("/years")
class Years(MethodView):
    @blp.response(200, CoverageSchema)
    @authenticated()
    def get(self):
        """What the calendar covers: chinese-calendar's years, declared years, and the missing-year warning"""
        return calendar_years.coverage(db(), current_user().jurisdiction, office_day())

    @blp.arguments(YearCreateSchema)
    @blp.response(201, DeclaredYearSchema)
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @authenticated()
    def post(self, body):
        """Declare a year with its official schedule (holidays and make-up working days) for your jurisdiction

        The document is checked as a whole; each problem names its field (``holidays.3``).
        A year without holidays needs ``"weekends_only": true``. Provisional deadlines of
        the jurisdiction's cases are recomputed in the same transaction.
        """
        declared = calendar_years.declare_year(db(), current_user(), today=office_day(), **body)
        return declared
