"""Pages bound by the index, whatever their depth and however little the reader's scope holds (issue 18).

A deep page must start where the cursor points (an index bound: the row-value comparison
``(received_at, id) > (x, y)`` in the index condition), not read every row before it and drop
it (a filter): that cost grows with the depth (628 ms 200k rows into a 1M queue). And a
reviewer whose scope holds few waiting records must read the queue jurisdiction by jurisdiction
(ix_field_records_waiting_scope), not walk everyone's waiting records to find none (1.5 s at 1M).
As in test_list_plans, PostgreSQL is told that sequential scans and sorts are dear, as they are
at a province's size; SQLite plans without statistics.
"""

import json
import re
import uuid

from field.core.models.platform import Role
from field.core.models.records import FieldRecord
from field.core.pages import paginate
from field.records import lifecycle as records

from .test_list_plans import _statements
from .test_records import BODY, _submit

KEYS = [FieldRecord.received_at, FieldRecord.id]


def _explain(session, statement, parameters, analyze=False):
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_sort = off")
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        options = "(ANALYZE, FORMAT JSON)" if analyze else "(FORMAT JSON)"
        raw = conn.exec_driver_sql(f"EXPLAIN {options} " + statement, parameters).scalar()
        return raw if isinstance(raw, list) else json.loads(raw)
    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return [str(r[-1]) for r in rows]


def _nodes(plan):
    """Every node of a PostgreSQL JSON plan."""
    stack = [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.get("Plans", []))


def _scans(plan):
    return [n for n in _nodes(plan) if "Relation Name" in n and n["Relation Name"] == "field_records"]


def _waiting(session, user, n):
    for i in range(n):
        _submit(session, user, uuid.uuid4(), {**BODY, "n": i})


def _page_sql(session, run):
    sent = _statements(session, run)
    return next((s, p) for s, p in sent if "FROM field_records" in s)


def test_a_deep_page_of_a_wide_scope_starts_at_its_cursor_in_the_waiting_index(session, make_user, tree):
    _waiting(session, make_user(Role.squad_member), 6)
    reviewer = make_user(Role.reviewer, jurisdiction=tree["province"])
    first = paginate(session, records.review_queue(session, reviewer), KEYS, cursor=None, limit=2)
    statement, parameters = _page_sql(session, lambda: paginate(
        session, records.review_queue(session, reviewer), KEYS, cursor=first.next_cursor, limit=2))
    plan = _explain(session, statement, parameters)
    if session.connection().dialect.name == "postgresql":
        (scan,) = _scans(plan)
        assert scan["Index Name"] == "ix_field_records_waiting", scan
        assert "ROW(received_at, id) >" in scan["Index Cond"], scan
        assert "received_at" not in scan.get("Filter", ""), scan
    else:
        text = "\n".join(plan)
        assert "ix_field_records_waiting" in text and "(received_at,id)>(?,?)" in text, text


def test_a_deep_page_of_a_few_jurisdictions_starts_at_its_cursor_in_each(session, make_user, tree):
    for place in ("home", "home_street"):
        _waiting(session, make_user(Role.squad_member, jurisdiction=tree[place]), 6)
    reviewer = make_user(Role.reviewer, jurisdiction=tree["home"])
    first = records.queue_page(session, reviewer, {}, cursor=None, limit=2)
    assert first.next_cursor
    statement, parameters = _page_sql(session, lambda: records.queue_page(
        session, reviewer, {}, cursor=first.next_cursor, limit=2))
    plan = _explain(session, statement, parameters, analyze=True)
    if session.connection().dialect.name == "postgresql":
        scans = _scans(plan)
        assert scans, plan
        for scan in scans:  # one leg, run once per jurisdiction (LATERAL)
            assert scan["Index Name"] == "ix_field_records_waiting_scope", scan
            assert "jurisdiction_id =" in scan["Index Cond"] and "ROW(received_at, id) >" in scan["Index Cond"], scan
            assert "received_at" not in scan.get("Filter", ""), scan
        # Each of the two jurisdictions gives at most a page and one more: no record before the cursor is read.
        read = sum(s["Actual Rows"] * s["Actual Loops"] + s.get("Rows Removed by Filter", 0) for s in scans)
        assert read <= 2 * 3, scans
    else:
        text = "\n".join(plan)
        # Without statistics SQLite may take either index that leads with the jurisdiction.
        assert len(re.findall(r"ix_field_records_(waiting_scope|scope_received) "
                              r"\(jurisdiction_id=\? AND \(received_at,id\)>\(\?,\?\)\)", text)) == 2, text


def test_a_reviewer_whose_scope_holds_nothing_reads_nothing_of_the_others_queue(session, make_user, tree):
    _waiting(session, make_user(Role.squad_member, jurisdiction=tree["other"]), 30)
    reviewer = make_user(Role.reviewer, jurisdiction=tree["home"])
    statement, parameters = _page_sql(session, lambda: records.queue_page(
        session, reviewer, {}, cursor=None, limit=5))
    plan = _explain(session, statement, parameters, analyze=True)
    if session.connection().dialect.name == "postgresql":
        scans = _scans(plan)
        assert scans and all(s["Index Name"] == "ix_field_records_waiting_scope" for s in scans), scans
        read = sum(s["Actual Rows"] * s["Actual Loops"] + s.get("Rows Removed by Filter", 0)
                   + s.get("Rows Removed by Index Recheck", 0) for s in scans)
        assert read == 0, scans
    else:
        text = "\n".join(plan)
        assert "SCAN field_records" not in text, text
        assert len(re.findall(r"ix_field_records_(waiting_scope|scope_received) \(jurisdiction_id=\?\)", text)) == 2, text
    assert records.queue_page(session, reviewer, {}, cursor=None, limit=5).items == []


def test_pages_by_jurisdiction_give_the_same_queue_as_one_walk(session, make_user, tree):
    for place in ("home", "home_street", "other"):
        _waiting(session, make_user(Role.squad_member, jurisdiction=tree[place]), 4)
    for scope in ("home", "city"):
        reviewer = make_user(Role.reviewer, jurisdiction=tree[scope])
        walked = paginate(session, records.review_queue(session, reviewer), KEYS, cursor=None, limit=500).items
        assert walked
        merged, cursor = [], None
        while True:
            page = records.queue_page(session, reviewer, {}, cursor=cursor, limit=3)
            merged += page.items
            if not page.next_cursor:
                break
            cursor = page.next_cursor
        assert [r.id for r in merged] == [r.id for r in walked]
