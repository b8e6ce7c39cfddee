"""``fieldwatch calendar import | status | recompute`` through click's CliRunner, on a migrated database."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from field.cases import lifecycle as cases
from field.accounts import jurisdictions
from field.core.db import make_engine, make_session_factory
from field.cases.models import Case, CaseKind, ComplaintChannel
from field.core.models.platform import JurisdictionLevel, Role, User
from field.core.models.base import utcnow
from tests.calendar_fixtures import (
    DECLARED_5_DEC,
    OPENED_5_DEC,
    PROVISIONAL_5_DEC,
    TEST_SCHEDULE_2027,
    require_2027_unpublished,
)
from tests.integration.test_cli import cli  # noqa: F401 (fixture)

#: The same TEST schedule of 2027 (not the State Council's) in the plain text form of docs/calendar.md.
TEXT_2027 = """\
# TEST schedule of 2027, not the State Council's
year 2027
source TEST schedule
holiday 2027-01-01..2027-01-03   # New Year's Day
holiday 2027-02-06..2027-02-12   # Spring Festival
makeup 2027-01-30
makeup 2027-02-20
"""


@pytest.fixture(autouse=True)
def _scenario_year():
    require_2027_unpublished()


@pytest.fixture
def world(cli):
    """A province, a city and a district with a reviewer, and a case opened on 5 December 2026 (30 days)."""
    engine = make_engine(cli.url)
    factory = make_session_factory(engine)
    with factory() as s:
        parent = None
        for code, name, level in (("500000", "重庆市", JurisdictionLevel.province),
                                  ("500100", "重庆市市辖区", JurisdictionLevel.city),
                                  ("500107", "九龙坡区", JurisdictionLevel.district)):
            parent = jurisdictions.create_jurisdiction(s, actor=None, code=code, name=name, level=level,
                                                       parent_id=parent.id if parent else None)
        reviewer = User(username="cli-reviewer", display_name="R", role=Role.reviewer, password_hash="x",
                        jurisdiction_id=parent.id)
        s.add(reviewer)
        s.flush()
        case = cases.open_case(s, reviewer, kind=CaseKind.discipline, title="工作日脱岗",
                               complaint=cases.ComplaintInput(ComplaintChannel.phone, utcnow(), "电话投诉"),
                               opened_on=OPENED_5_DEC, today=OPENED_5_DEC)
        s.commit()
        case_id = case.id

    def deadline():
        with factory() as s:
            case = s.get(Case, case_id)
            return case.deadline, case.deadline_provisional

    yield deadline
    engine.dispose()


def test_calendar_import_declares_a_json_schedule_and_recomputes_provisional_deadlines(cli, world, tmp_path):
    assert world() == (PROVISIONAL_5_DEC, True)
    path = tmp_path / "2027.json"
    path.write_text(json.dumps(TEST_SCHEDULE_2027), encoding="utf-8")
    result = cli("calendar", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "2027 declared for 重庆市 (500000) and below: 10 holidays, 2 make-up working days; 1 cases recomputed" \
        in result.output
    assert world() == (DECLARED_5_DEC, False)


def test_calendar_import_reads_the_plain_text_form(cli, world, tmp_path):
    path = tmp_path / "2027.txt"
    path.write_text(TEXT_2027, encoding="utf-8")
    result = cli("calendar", "import", str(path), "--jurisdiction", "500107")
    assert result.exit_code == 0, result.output
    assert "for 九龙坡区 (500107)" in result.output and "10 holidays" in result.output
    assert world() == (DECLARED_5_DEC, False)


def test_calendar_import_names_each_bad_line_and_field_and_declares_nothing(cli, world, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("year 2027\nholiday 2027-01-01\nmakeup 2027-02-15\nholiday 2028-01-01\n", encoding="utf-8")
    result = cli("calendar", "import", str(path))
    assert result.exit_code == 1
    assert "bad.txt: line 3 (makeup_workdays.0): 2027-02-15 is a Monday" in result.output
    assert "bad.txt: line 4 (holidays.1): 2028-01-01 is not in 2027" in result.output
    unknown = tmp_path / "unknown.txt"
    unknown.write_text("year 2027\nholliday 2027-01-01\n", encoding="utf-8")
    result = cli("calendar", "import", str(unknown))
    assert result.exit_code == 1 and "line 2" in result.output
    empty = tmp_path / "empty.json"
    empty.write_text('{"year": 2027}', encoding="utf-8")
    result = cli("calendar", "import", str(empty))
    assert result.exit_code == 1 and "weekends_only" in result.output
    assert world() == (PROVISIONAL_5_DEC, True)


def test_calendar_status_prints_the_warning_from_1_november_and_exits_0(cli, world, tmp_path):
    before = cli("calendar", "status", "--today", "2026-10-31")
    assert before.exit_code == 0 and "WARNING" not in before.output
    assert "chinese-calendar 1.11.0: 2004-2026" in before.output
    assert "cases with a provisional deadline or handling time: 1" in before.output
    warned = cli("calendar", "status", "--today", "2026-11-01")
    assert warned.exit_code == 0
    assert "WARNING 2027: No working-day schedule for 2027 is declared" in warned.output
    assert "without a schedule for 2027: 500107" in warned.output
    path = tmp_path / "2027.txt"
    path.write_text(TEXT_2027, encoding="utf-8")
    cli("calendar", "import", str(path))
    after = cli("calendar", "status", "--today", "2026-11-01")
    assert after.exit_code == 0 and "WARNING" not in after.output
    assert "declared 2027 for 500000 重庆市: 10 holidays, 2 make-up working days" in after.output


def test_calendar_recompute_changes_nothing_while_the_year_is_still_undeclared(cli, world):
    result = cli("calendar", "recompute")
    assert result.exit_code == 0 and "0 cases recomputed" in result.output
    assert world() == (PROVISIONAL_5_DEC, True)


def test_a_year_declared_before_schedules_were_kept_becomes_weekends_only(backend, tmp_path):
    """The migration: a year declared the old way (holidays entered as overrides) is shown as weekends only."""
    from sqlalchemy import text

    from field.core import migrate
    from tests.conftest import fresh_database_url

    url = fresh_database_url(backend, tmp_path, "_old_year")
    migrate.upgrade(url, "96593a6fdb05")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO jurisdictions (id, code, name, level, path, created_at, updated_at) "
                              "VALUES (:id, '500000', '重庆市', 'province', '/500000/', :t, :t)"),
                         {"id": _uuid(backend, 1), "t": utcnow()})
            conn.execute(text("INSERT INTO users (id, username, display_name, role, password_hash, jurisdiction_id, "
                              "disabled, created_at, updated_at) "
                              "VALUES (:id, 'old-admin', 'A', 'admin', 'x', :j, false, :t, :t)"),
                         {"id": _uuid(backend, 2), "j": _uuid(backend, 1), "t": utcnow()})
            conn.execute(text("INSERT INTO calendar_years (id, jurisdiction_id, year, created_by_id, created_at, "
                              "updated_at) VALUES (:id, :j, 2031, :u, :t, :t)"),
                         {"id": _uuid(backend, 3), "j": _uuid(backend, 1), "u": _uuid(backend, 2), "t": utcnow()})
        migrate.upgrade(url)
        with make_session_factory(engine)() as s:
            from field.core.models.calendar import CalendarYear

            row = s.execute(select(CalendarYear)).scalar_one()
            assert row.weekends_only is True and row.days == [] and "overrides" in row.source
    finally:
        engine.dispose()


def _uuid(backend, n):
    import uuid

    value = uuid.UUID(int=n)
    return value.hex if backend == "spatialite" else value


def test_the_scenario_dates_are_what_the_calendar_says():
    # The hand counts of tests/calendar_fixtures.py, checked once more at the lowest level.
    from field.core.workdays import WorkCalendar

    assert WorkCalendar().add_working_days(OPENED_5_DEC, 30) == PROVISIONAL_5_DEC == date(2027, 1, 15)


def test_a_weekends_only_year_is_shown_as_such_by_calendar_status(cli, world, tmp_path):
    """Issue 12 §1: a year declared without holidays is shown as such everywhere (the API and the console
    page are checked in tests/api/test_calendar_years_api.py and tests/web/test_console_directory_calendar.py)."""
    path = tmp_path / "2027.json"
    path.write_text(json.dumps({"year": 2027, "weekends_only": True, "source": "no schedule yet"}), encoding="utf-8")
    assert cli("calendar", "import", str(path)).exit_code == 0
    status = cli("calendar", "status", "--today", "2026-11-01")
    assert status.exit_code == 0
    assert "declared 2027 for 500000 重庆市: weekends only (no holidays)" in status.output
