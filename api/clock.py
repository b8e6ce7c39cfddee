"""The office's day as the API and the commands see it: one helper, pinned by ``OFFICE_DATE`` in tests.

``OFFICE_DATE`` (a ``datetime.date`` or ``YYYY-MM-DD``) is not an environment setting on
purpose: a production server always runs on its clock. Tests pass it to ``create_app``;
each request then pins field/core/office.py to it, so the domain's own defaults (a case's
``overdue`` as the schemas dump it) agree with what the views pass as ``today``.
"""

from __future__ import annotations

from datetime import date

from flask import Flask, current_app, g

from field.core import office


def _configured() -> date | None:
    value = current_app.config.get("OFFICE_DATE")
    if value is None or value == "":
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def office_day() -> date:
    """Today in the office: ``OFFICE_DATE`` when configured, else the server's clock in Asia/Shanghai."""
    return _configured() or office.office_today()


def init_clock(app: Flask) -> None:
    @app.before_request
    def _pin_office_day():
        day = _configured()
        if day is not None:
            g.office_day_token = office.pin(day)

    @app.teardown_request
    def _unpin_office_day(exc):
        token = g.pop("office_day_token", None)
        if token is not None:
            office.unpin(token)
