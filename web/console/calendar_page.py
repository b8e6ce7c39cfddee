"""The calendar in the console: what the working-day calendar covers, the cases whose deadline is provisional
(counted over a year whose holidays are not declared), and an admin's form to declare a year, which
recomputes those deadlines at once (field/cases/calendar_years.py)."""

from __future__ import annotations

import re

import marshmallow as ma
from flask import redirect, render_template, request, url_for

from api.clock import office_day
from api.db import db
from field.cases import calendar_years
from field.cases.lifecycle import cases_query
from field.cases.models import OPEN_STATES, Case
from field.cases.policy import POLICY
from field.core.errors import DomainError
from schemas.calendar import YearCreateSchema

from .. import session
from ..pages import status_of
from . import blp

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _page(*, error: str | None = None, given: dict | None = None, status: int = 200):
    user, _device = session.current()
    today = office_day()
    provisional = list(db().execute(
        cases_query(user, today=today).where(Case.state.in_(OPEN_STATES), Case.deadline_provisional.is_(True))
        .order_by(Case.effective_deadline).limit(200)).scalars())
    return render_template("console/calendar.html", coverage=calendar_years.coverage(db(), user.jurisdiction, today),
                           provisional=provisional, can_declare=POLICY.allows(user, "calendar.declare"), error=error,
                           given=given or {}, declared=request.args.get("declared"), today=today), status


@blp.get("/calendar")
def calendar_page():
    return _page()


@blp.post("/calendar/years")
def declare_year():
    user, _device = session.current()
    POLICY.require(user, "calendar.declare")  # before reading the form: the role decides, not the input
    form = request.form
    raw = {"year": form.get("year", ""), "holidays": _DAY.findall(form.get("holidays", "")),
           "makeup_workdays": _DAY.findall(form.get("makeup_workdays", "")),
           "weekends_only": form.get("weekends_only") == "on", "source": form.get("source", "")}
    given = {k: form.get(k, "") for k in ("year", "holidays", "makeup_workdays", "source")}
    try:
        body = YearCreateSchema().load(raw)
        declared = calendar_years.declare_year(db(), user, today=office_day(), **body)
    except ma.ValidationError as invalid:
        db().rollback()
        return _page(error="; ".join(f"{k}: {v}" for k, v in invalid.messages.items()), given=given, status=422)
    except DomainError as refused:
        db().rollback()
        return _page(error=refused.detail, given=given, status=status_of(refused))
    return redirect(url_for(".calendar_page", declared=declared.row.year, recomputed=len(declared.recomputed)),
                    code=303)
