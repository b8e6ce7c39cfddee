"""Every CSV export writes codes as the API does: an enum's value (``minor``), never its name (``Severity.minor``).

The exports are read from the authorisation matrix's world (tests/authz_world.py): every record
kind, cases, enterprises and figures made the real way, so each column holds a real value.
"""

from __future__ import annotations

import csv
import enum
import io
import re
import sys

import pytest
from sqlalchemy.orm import sessionmaker

from api import create_app
from field.all_models import Base
from field.core.spreadsheets import spreadsheet_cell
from field.reports.models import ReportType
from field.visits.models import Severity
from tests.authz_world import build

#: Every export that answers CSV, as office staff fetch it.
CSV_EXPORTS = {
    "findings": "/api/v1/findings/export.csv",
    "reports": "/api/v1/reports/export.csv",
    "cases": "/api/v1/cases/export.csv",
    "enterprises": "/api/v1/enterprises/export",
    "figures": "/api/v1/figures?from=2026-01-01&to=2026-12-31&format=csv",
}


def _enum_names() -> set[str]:
    """``Severity.minor`` and the like: what str() of a member of any of our enums gives."""
    names = set()
    # The models modules of every package (there is no one field.models surface any more).
    modules = {sys.modules[mapper.class_.__module__] for mapper in Base.registry.mappers}
    for value in (v for module in modules for v in vars(module).values()):
        if isinstance(value, type) and issubclass(value, enum.Enum):
            names |= {str(member) for member in value} | {f"{value.__name__}.{m.name}" for m in value}
    return names


ENUM_NAMES = _enum_names()
#: A cell that looks like ClassName.member whatever the class.
LOOKS_LIKE_AN_ENUM_NAME = re.compile(r"[A-Z][A-Za-z]+\.[a-z_0-9]+")


@pytest.fixture(scope="module")
def exports(engine, db_url, tmp_path_factory) -> dict[str, list[list[str]]]:
    """Each export's rows (header first), fetched by the home district's admin."""
    with engine.connect() as conn:
        outer = conn.begin()
        factory = sessionmaker(bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint")
        app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "test",
                          "EVIDENCE_DIR": str(tmp_path_factory.mktemp("csv") / "evidence")}, session_factory=factory)
        app.testing = True
        client = app.test_client()
        with factory() as session:
            world = build(session, client)
        found = {}
        for name, url in CSV_EXPORTS.items():
            resp = client.get(url, headers=world.headers["admin"])
            assert resp.status_code == 200 and resp.mimetype == "text/csv", (name, resp.get_data(as_text=True))
            found[name] = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
        yield found
        outer.rollback()


def test_the_cell_writer_writes_an_enums_value():
    assert spreadsheet_cell(Severity.minor) == "minor"
    assert spreadsheet_cell(ReportType.suggestion) == "suggestion"
    assert spreadsheet_cell(None) == "" and spreadsheet_cell(3) == "3" and spreadsheet_cell("=1+1") == "'=1+1"


@pytest.mark.parametrize("export", list(CSV_EXPORTS))
def test_no_csv_export_writes_an_enum_name_in_any_column(exports, export):
    rows = exports[export]
    assert len(rows) > 1, f"{export}: the world gave this export no row to check"
    named = [(rows[0][i] if i < len(rows[0]) else i, cell) for row in rows[1:] for i, cell in enumerate(row)
             if cell in ENUM_NAMES or LOOKS_LIKE_AN_ENUM_NAME.fullmatch(cell)]
    assert not named, f"{export}: enum names instead of values: {named[:5]}"


def test_the_findings_csv_says_the_severity_the_api_says(exports):
    header, *rows = exports["findings"]
    severities = {row[header.index("severity")] for row in rows}
    assert severities and severities <= {s.value for s in Severity}


def test_the_reports_csv_says_the_report_type_the_api_says(exports):
    header, *rows = exports["reports"]
    types = {row[header.index("report_type")] for row in rows}
    assert types and types <= {t.value for t in ReportType}
