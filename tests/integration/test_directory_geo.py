"""Radius, box, boundary and nearest-N searches give the same answers on SpatiaLite and PostGIS."""

import random
import uuid

import pytest
from shapely.geometry import box
from sqlalchemy import insert, text

from field.directory import enterprises, monitoring
from field.core import geo
from field.core.locations import Area
from field.core.models.platform import Role
from field.directory.models import Enterprise
from tests.directory_fixtures import make_enterprise, make_point  # noqa: F401

# At 29.5° N a degree of longitude is ~96.9 km and one of latitude ~110.8 km.
PLACES = {
    "A": (106.5000, 29.5000),  # the centre
    "B": (106.5030, 29.5000),  # ~291 m east
    "C": (106.5100, 29.5000),  # ~969 m east
    "D": (106.5000, 29.5090),  # ~997 m north
    "E": (106.6000, 29.6000),  # ~14 km north-east
}


@pytest.fixture
def placed(make_enterprise):
    made = {name: make_enterprise(name, at=at) for name, at in PLACES.items()}
    made["nowhere"] = make_enterprise("nowhere")
    return made


@pytest.fixture
def reader(make_user):
    return make_user(Role.inspector)


def _names(session, user, area, **filters):
    page = enterprises.list_enterprises(session, user, filters, area, cursor=None, limit=500)
    return [e.name for e in page.items]


def test_within_a_radius_in_metres(session, placed, reader):
    centre = PLACES["A"]
    assert sorted(_names(session, reader, Area(near=centre, radius_m=500))) == ["A", "B"]
    assert sorted(_names(session, reader, Area(near=centre, radius_m=980))) == ["A", "B", "C"]
    assert sorted(_names(session, reader, Area(near=centre, radius_m=1000))) == ["A", "B", "C", "D"]


def test_a_radius_search_reports_each_distance(session, placed, reader):
    page = enterprises.list_enterprises(session, reader, {}, Area(near=PLACES["A"], radius_m=1000),
                                        cursor=None, limit=50)
    distances = {e.name: e.distance_m for e in page.items}
    assert distances["A"] == pytest.approx(0, abs=0.01)
    assert distances["C"] == pytest.approx(geo.haversine_m(*PLACES["A"], *PLACES["C"]))


def test_within_a_box(session, placed, reader):
    assert sorted(_names(session, reader, Area(bbox=(106.499, 29.499, 106.505, 29.501)))) == ["A", "B"]


def test_within_a_jurisdictions_boundary(session, placed, reader, tree):
    tree["home_street"].boundary = geo.to_db(geo.as_multipolygon(box(106.495, 29.495, 106.512, 29.505)))
    session.flush()
    area = Area(within_jurisdiction_id=tree["home_street"].id)
    assert sorted(_names(session, reader, area)) == ["A", "B", "C"]


def test_a_boundary_search_in_a_jurisdiction_without_a_boundary_or_out_of_scope_is_refused(session, placed, reader,
                                                                                             tree):
    from field.core.errors import InvalidInput

    for jurisdiction in (tree["home_street"], tree["other"]):
        with pytest.raises(InvalidInput) as caught:
            _names(session, reader, Area(within_jurisdiction_id=jurisdiction.id))
        assert caught.value.fields[0].field == "within_jurisdiction"


def test_the_nearest_n_come_nearest_first(session, placed, reader):
    page = enterprises.list_enterprises(session, reader, {}, Area(near=(106.5001, 29.5001), nearest=3),
                                        cursor=None, limit=50)
    assert [e.name for e in page.items] == ["A", "B", "C"]
    assert page.next_cursor is None
    assert [e.name for e in enterprises.list_enterprises(
        session, reader, {}, Area(near=(106.59, 29.59), nearest=1), cursor=None, limit=50).items] == ["E"]


def test_nearest_with_more_asked_than_there_are_gives_all_located_ones(session, placed, reader):
    assert _names(session, reader, Area(near=PLACES["A"], nearest=50)) == ["A", "B", "C", "D", "E"]


def test_nearest_n_is_exact_against_a_brute_force_ranking(session, make_enterprise, reader):
    rng = random.Random(7)
    spots = {f"p{i}": (106.3 + rng.random() * 0.5, 29.3 + rng.random() * 0.5) for i in range(120)}
    for name, at in spots.items():
        make_enterprise(name, at=at)
    for centre in [(106.55, 29.55), (106.31, 29.79), (107.2, 30.4)]:
        truth = sorted(spots, key=lambda n: geo.haversine_m(*centre, *spots[n]))
        for n in (1, 7, 40):
            assert _names(session, reader, Area(near=centre, nearest=n)) == truth[:n], (centre, n)


def test_areas_combine_with_other_filters_and_with_each_other(session, placed, reader):
    placed["B"].key_enterprise = placed["D"].key_enterprise = True
    session.flush()
    area = Area(near=PLACES["A"], radius_m=1000, bbox=(106.4995, 29.4995, 106.515, 29.5005))
    assert sorted(_names(session, reader, area)) == ["A", "B", "C"]
    assert _names(session, reader, area, key_enterprise=True) == ["B"]


def test_points_are_searched_where_their_enterprise_is(session, placed, reader, make_point):
    make_point(placed["B"])
    make_point(placed["E"])
    page = monitoring.list_points(session, reader, {}, Area(near=PLACES["A"], radius_m=500), cursor=None, limit=50)
    assert [p.enterprise.name for p in page.items] == ["B"]
    nearest = monitoring.list_points(session, reader, {}, Area(near=PLACES["E"], nearest=2), cursor=None, limit=50)
    assert [p.enterprise.name for p in nearest.items] == ["E", "B"]


def _plan(session, stmt) -> str:
    compiled = stmt.compile(dialect=session.get_bind().dialect)
    rows = session.connection().exec_driver_sql("EXPLAIN " + str(compiled), compiled.params).all()
    return "\n".join(r[0] for r in rows)


def test_on_postgis_the_radius_and_box_searches_use_the_gist_index(session, backend, reader, tree):
    if backend != "postgis":
        pytest.skip("the query plan is PostgreSQL's")
    # A district's worth of enterprises over a degree square, and fresh statistics, so the
    # planner chooses as it would in production (no enable_seqscan tricks needed).
    rng = random.Random(3)
    session.execute(insert(Enterprise), [
        {"id": uuid.uuid4(), "name": f"e{i}", "credit_code": f"{i:018d}", "jurisdiction_id": tree["home"].id,
         "geom": f"SRID=4326;POINT({106 + rng.random()} {29 + rng.random()})", "above_designated_size": False,
         "key_enterprise": False, "key_project": False} for i in range(3000)])
    session.execute(text("ANALYZE enterprises"))
    base = enterprises.enterprises_query(reader)
    radius = base.where(geo.within_radius(session, Enterprise.geom, 106.5, 29.5, 500))
    bbox = base.where(geo.in_bbox(session, Enterprise.geom, 106.499, 29.499, 106.505, 29.501))
    for stmt in (radius, bbox):
        assert "idx_enterprises_geom" in _plan(session, stmt)
