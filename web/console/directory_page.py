"""The directory in the console (read-only): units, enterprises (a monitoring point only where the covert
rule lets the caller know it), monitoring points and squads (codes only: a monitor's real name never
reaches a page). Changes are made through the API and `fieldwatch import` (docs/console.md)."""

from __future__ import annotations

from flask import render_template, request
from api.db import db
from field.directory import enterprises, monitoring, squads, units
from field.directory.models import Enterprise, Unit

from .. import session
from . import blp

TABS = ("units", "enterprises", "points", "squads")
#: The most rows a tab lists; the search narrows it down.
LIMIT = 300


@blp.get("/directory")
def directory_page():
    user, _device = session.current()
    tab = request.args.get("tab") if request.args.get("tab") in TABS else "units"
    q = (request.args.get("q") or "").strip()[:100] or None
    rows, counts = [], {}
    s = db()
    if tab == "units":
        rows = list(s.execute(units.units_query(user, q=q).order_by(Unit.name).limit(LIMIT)).scalars())
    elif tab == "enterprises":
        found = list(s.execute(enterprises.enterprises_query(user, q=q).order_by(Enterprise.name).limit(LIMIT))
                     .unique().scalars())
        rows = enterprises.with_point_status(s, user, found)
    elif tab == "points":
        rows = list(s.execute(monitoring.points_query(user, q=q).order_by(Enterprise.name).limit(LIMIT))
                    .unique().scalars())
    else:
        rows = list(s.execute(squads.squads_query(user, q=q).limit(LIMIT)).unique().scalars())
        counts = squads.active_member_counts(s, [r.id for r in rows])
    return render_template("console/directory.html", tab=tab, tabs=TABS, rows=rows, q=q or "", counts=counts,
                           limit=LIMIT)
