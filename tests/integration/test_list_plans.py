"""Lists read in index order: the plans the benchmarks (bench/lists.py, bench/spatial.py) depend on.

A page of the review queue must be a walk along ``ix_field_records_waiting`` (oldest waiting
first, scope checked on the way), never a sort of every waiting record of the scope: that sort
grows with the table (bench/lists.py measured 545 ms at 1,000,000 records before). The planner
is told here that sorting is dear (PostgreSQL) or has no statistics (SQLite); if the query
could not be answered in the index's order, the plan would still show a sort.
"""

import uuid

import pytest
from sqlalchemy import event
from shapely.geometry import box

from field.core import geo
from field.records import lifecycle as records
from field.core.models.records import FieldRecord
from field.visits.models import Finding
from field.core.models.platform import Role
from field.core.pages import paginate

from tests.visits_fixtures import finding_values, receipt_for, world  # noqa: F401

from .test_records import BODY, _submit


def _statements(session, run):
    """The SQL (and parameters) ``run()`` sends on the session's connection."""
    conn = session.connection()
    seen = []

    def listen(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", listen)
    try:
        run()
    finally:
        event.remove(conn, "before_cursor_execute", listen)
    return seen


def _plan(session, statement, parameters) -> str:
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_sort = off")
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).all()
    else:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return "\n".join(str(r[-1]) for r in rows)


@pytest.mark.parametrize("scope", ["home", "city"])
def test_a_page_of_the_review_queue_walks_the_waiting_index_without_sorting(session, make_user, tree, scope):
    user = make_user(Role.squad_member)
    for i in range(5):
        _submit(session, user, uuid.uuid4(), {**BODY, "n": i})
    reviewer = make_user(Role.reviewer, jurisdiction=tree[scope])
    first = paginate(session, records.review_queue(session, reviewer), [FieldRecord.received_at, FieldRecord.id],
                     cursor=None, limit=2)
    sent = _statements(session, lambda: paginate(
        session, records.review_queue(session, reviewer), [FieldRecord.received_at, FieldRecord.id],
        cursor=first.next_cursor, limit=2))
    statement, parameters = next((s, p) for s, p in sent if "FROM field_records" in s)
    plan = _plan(session, statement, parameters)
    assert "ix_field_records_waiting" in plan, plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


def test_a_boundary_search_on_postgis_tests_the_index_once(session):
    """The box of the boundary beside ST_Intersects (which brings its own) made the planner count the
    narrowing twice and sort a whole district's findings instead of reading them newest first."""
    if session.connection().dialect.name != "postgresql":
        pytest.skip("PostGIS planner estimate")
    predicate = geo.within_geometry(session, Finding.location, box(106.4, 29.4, 106.6, 29.6))
    sql = str(predicate.compile(session.connection()))
    assert sql.count("ST_Intersects") == 1 and "ST_MakeEnvelope" not in sql and "&&" not in sql, sql


def test_the_app_s_postgresql_connections_plan_without_parallel_workers(engine, backend):
    """A page is a few rows found through an index: starting parallel workers for it costs more than it saves."""
    if backend != "postgis":
        pytest.skip("parallel plans are PostgreSQL's")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW max_parallel_workers_per_gather").scalar() == "0"


def _reads_by_legs(statements) -> bool:
    """Whether a page was read jurisdiction by jurisdiction (field/core/pages.py ``_paginate_by_legs``)."""
    return any("JOIN LATERAL" in s or "UNION ALL" in s for s, _ in statements)


def test_a_page_of_findings_inside_an_area_goes_through_the_spatial_index_not_jurisdiction_legs(session, world):
    """A leg whose jurisdiction lies outside the area walked all of its rows to find none: 1.5-2.6 s for
    one district's box at 1,000,000 findings (bench/spatial.py)."""
    from field.core.locations import Area, GivenLocation
    from field.visits import findings

    for severity in ("minor", "serious", "moderate"):
        findings.record_finding(session, receipt_for(world.alice.user), finding_values(
            world, severity=severity, location=GivenLocation(106.51, 29.50)))
    plain = _statements(session, lambda: findings.list_findings(session, world.reviewer, {}, Area(),
                                                                 cursor=None, limit=2))
    assert _reads_by_legs(plain)  # the reviewer's scope is a few jurisdictions: without an area, legs
    pages = []
    boxed = _statements(session, lambda: pages.append(findings.list_findings(
        session, world.reviewer, {}, Area(bbox=(106.4, 29.4, 106.6, 29.6)), cursor=None, limit=2)))
    assert not _reads_by_legs(boxed)
    assert len(pages[0].items) == 2 and pages[0].next_cursor
