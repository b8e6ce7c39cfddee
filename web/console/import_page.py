"""The directory's import in the console: an admin sends a CSV or GeoJSON file of enterprises, units or persons
and reads the report (created, updated, unchanged, each rejected row with its reason, the rejected rows as a CSV
to fix and send again). The same files and rules as `fieldwatch import` (docs/directory.md), limited to the admin's
area (field/directory/imports.py ``import_as``).

The file is imported within the request, in batches of savepoints in its one transaction: the request answers
when the report is complete (a district's 20,000 enterprises take seconds). A file that cannot be read at all
(encoding, header) changes nothing and says why.
"""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

from flask import render_template, request

from api.db import db
from field.core.errors import NotAllowed
from field.core.models.platform import Role
from field.directory import imports

from .. import session
from ..pages import FILE_FORM_BYTES
from . import blp

#: The most rejected rows listed on the page (the CSV holds them all).
SHOWN = 500


def _admin():
    user, _device = session.current()
    if user.role is not Role.admin:  # before reading the file: the role decides, not the input
        raise NotAllowed("Only an administrator imports the directory.")
    return user


def _page(*, kind: str = "enterprises", error: str | None = None, report=None, filename: str = "",
          status: int = 200):
    return render_template("console/import.html", kinds=imports.KINDS, columns=imports.COLUMNS,
                           required=imports.REQUIRED, kind=kind, error=error, report=report, filename=filename,
                           shown=SHOWN, rejected_csv=_rejected_csv(report) if report and report.rejected else None,
                           limit_mb=FILE_FORM_BYTES["console.directory_import"] // (1024 * 1024)), status


def _rejected_csv(report: imports.Report) -> str:
    """The rejected rows as a ``data:`` address: a CSV (with the BOM Excel wants) downloaded without storing it."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "key", "reason"])
    for rejected in report.rejected:
        writer.writerow([rejected.row, rejected.key, rejected.reason])
    return "data:text/csv;charset=utf-8," + quote("\ufeff" + out.getvalue())


@blp.get("/directory/import")
def directory_import_form():
    _admin()
    return _page()


@blp.post("/directory/import")
def directory_import():
    user = _admin()
    kind = request.form.get("kind", "")
    upload = request.files.get("file")
    if kind not in imports.KINDS:
        return _page(error=f"kind: one of {', '.join(imports.KINDS)}.", status=422)
    if upload is None or not upload.filename:
        return _page(kind=kind, error="file: choose a CSV or GeoJSON file.", status=422)
    try:
        records = imports.read_bytes(upload.read(), upload.filename, kind)
    except imports.ImportFileError as unreadable:
        return _page(kind=kind, error=f"file: {unreadable.detail}", filename=upload.filename, status=422)
    report = imports.import_as(db(), user, kind, records)
    return _page(kind=kind, report=report, filename=upload.filename)
