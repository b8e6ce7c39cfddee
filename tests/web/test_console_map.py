"""The console map: records, points and cases of the caller's area over its boundaries; a covert point absent for
an office of another district; a GCJ-02 basemap shifts markers and boundaries alike; no basemap, boundaries alone."""

from __future__ import annotations

import html
import json
import re

import pytest
from shapely.geometry import MultiPolygon, Polygon

from field.core import geo
from field.core.crs import from_wgs84
from field.core.models.platform import Role
from tests.directory_fixtures import fast_passwords, make_enterprise, make_point  # noqa: F401
from tests.web_fixtures import console, scan_page  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_passwords")

SQUARE = MultiPolygon([Polygon([(106.4, 29.4), (106.6, 29.4), (106.6, 29.6), (106.4, 29.6)])])


def _spec(page: str) -> dict:
    return json.loads(html.unescape(re.search(r'data-map="([^"]+)" data-test="map"', page).group(1)))


@pytest.fixture
def district(session, tree, make_user, make_enterprise, make_point):
    tree["home"].boundary = geo.to_db(SQUARE)
    session.commit()
    secret = make_enterprise("秘密监测企业", at=(106.5, 29.5))
    covert = make_point(secret, covert=True)
    return {"covert": covert, "reviewer": make_user(Role.reviewer),
            "foreign": make_user(Role.admin, jurisdiction=tree["other"])}


def test_the_map_shows_the_areas_points_over_its_boundary_and_no_basemap_by_default(console, district):
    page = console(district["reviewer"]).get("/console/map").get_data(as_text=True)
    spec = _spec(page)
    assert spec["basemap"]["tiles"] is None and spec["cluster"] is True
    assert [b["name"] for b in spec["boundaries"]] == ["九龙坡区"]
    assert spec["boundaries"][0]["geometry"]["coordinates"][0][0][0] == [106.4, 29.4]
    points = [m for m in spec["markers"] if m["layer"] == "points"]
    assert [(p["label"], p["lat"], p["lon"]) for p in points] == [("秘密监测企业", 29.5, 106.5)]
    scan = scan_page(page)
    assert (scan.inline_scripts, scan.handlers, scan.styles) == ([], [], [])
    assert "/assets/vendor/leaflet.markercluster-1.5.3/leaflet.markercluster.js" in scan.scripts


def test_a_covert_point_is_absent_from_another_districts_map(console, district):
    page = console(district["foreign"]).get("/console/map").get_data(as_text=True)
    assert "秘密监测企业" not in page and str(district["covert"].id) not in page
    assert _spec(page)["markers"] == [] and _spec(page)["boundaries"] == []


def test_a_gcj02_basemap_shifts_markers_and_boundaries_with_the_projects_conversion(app, console, district):
    app.config.update(MAP_TILE_URL="https://tiles.example.cn/{z}/{x}/{y}.png", MAP_TILE_CRS="gcj02")
    spec = _spec(console(district["reviewer"]).get("/console/map").get_data(as_text=True))
    lon, lat = from_wgs84(106.5, 29.5, "gcj02")
    point = next(m for m in spec["markers"] if m["layer"] == "points")
    assert (point["lon"], point["lat"]) == (round(lon, 7), round(lat, 7))
    corner = spec["boundaries"][0]["geometry"]["coordinates"][0][0][0]
    assert corner == [round(c, 7) for c in from_wgs84(106.4, 29.4, "gcj02")]
