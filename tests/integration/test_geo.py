"""Spatial predicates give the same answers on SpatiaLite and PostGIS."""

import pytest
from shapely.geometry import Polygon, box
from sqlalchemy import select

from field.core import geo
from field.accounts import jurisdictions
from field.core.models.platform import Jurisdiction, JurisdictionLevel


@pytest.fixture
def squares(session, tree):
    """Three small street boundaries at known places in Chongqing."""
    made = {}
    for code, (lon, lat) in {"500107010": (106.50, 29.50), "500107011": (106.51, 29.50),
                             "500107012": (106.60, 29.60)}.items():
        made[code] = jurisdictions.create_jurisdiction(
            session, actor=None, code=code, name=code, level=JurisdictionLevel.street,
            parent_id=tree["home"].id, boundary=box(lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001))
    session.flush()
    return made


def _codes(session, predicate):
    return sorted(session.execute(select(Jurisdiction.code).where(predicate)).scalars())


def test_within_radius_in_metres(session, squares):
    # 106.51 is ~970 m east of 106.50 at 29.5°N; the squares are ~190 m wide.
    assert _codes(session, geo.within_radius(session, Jurisdiction.boundary, 106.50, 29.50, 500)) == ["500107010"]
    assert _codes(session, geo.within_radius(session, Jurisdiction.boundary, 106.50, 29.50, 1000)) == [
        "500107010", "500107011"]


def test_distance_in_metres_matches_the_haversine_within_half_a_percent(session, squares):
    d = session.execute(select(geo.distance_m(session, Jurisdiction.boundary, 106.60, 29.60 + 0.01))
                        .where(Jurisdiction.code == "500107012")).scalar_one()
    expected = geo.haversine_m(106.60, 29.601, 106.60, 29.61)
    assert d == pytest.approx(expected, rel=0.005)


def test_bbox(session, squares):
    assert _codes(session, geo.in_bbox(session, Jurisdiction.boundary, 106.45, 29.45, 106.55, 29.55)) == [
        "500107010", "500107011"]


def test_within_a_polygon(session, squares):
    poly = Polygon([(106.55, 29.55), (106.65, 29.55), (106.65, 29.65), (106.55, 29.65)])
    assert _codes(session, geo.within_geometry(session, Jurisdiction.boundary, poly)) == ["500107012"]


def test_search_box_contains_the_whole_circle():
    minx, miny, maxx, maxy = geo.search_box(106.5, 29.5, 1000)
    for lon, lat in [(minx, 29.5), (maxx, 29.5), (106.5, miny), (106.5, maxy)]:
        assert geo.haversine_m(106.5, 29.5, lon, lat) >= 1000
