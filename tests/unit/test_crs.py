"""WGS-84 / GCJ-02 / BD-09 conversion against published reference pairs, round trips and edges."""

from __future__ import annotations

import math

import prcoords
import pytest

from field.core.crs import (
    CRS_NAMES,
    MEAN_EARTH_RADIUS_M,
    InvalidCoordinate,
    _OUTLINE,
    distance_m,
    from_wgs84,
    in_china,
    to_wgs84,
)

ONE_METRE = 1.0

# Published WGS-84 -> GCJ-02 pairs, all as (lon, lat).
WGS_GCJ_PAIRS = [
    pytest.param(
        (116.481499, 39.990475), (116.487585177952, 39.991754014757),
        # AMap web-service coordinate/convert API, the example of its documentation
        # (lbs.amap.com/api/webservice/guide/api/convert, coordsys=gps); the response
        # is recorded verbatim in womeimingzi11/amapGeocode README.md.
        id="amap-api-doc-example-1",
    ),
    pytest.param(
        (116.481499, 39.990375), (116.487585177952, 39.991653917101),
        # Second point of the same AMap documentation example (apifox mirror of the doc).
        id="amap-api-doc-example-2",
    ),
    pytest.param(
        (121.5272106, 31.1774276), (121.531541859215, 31.17530398364597),
        # googollee/eviltransform go/transform_test.go and python/test.py, "shanghai".
        id="eviltransform-shanghai",
    ),
    pytest.param(
        (113.912316, 22.543847), (113.9171764808363, 22.540796131694766),
        # googollee/eviltransform go/transform_test.go and python/test.py, "shenzhen".
        id="eviltransform-shenzhen",
    ),
    pytest.param(
        (116.377817, 39.911954), (116.38404722455657, 39.91334545536069),
        # googollee/eviltransform go/transform_test.go and python/test.py, "beijing".
        id="eviltransform-beijing",
    ),
    pytest.param(
        (116.404, 39.915), (116.41024449916938, 39.91640428150164),
        # wandergis/coordtransform README.md, wgs84togcj02(116.404, 39.915).
        id="wandergis-coordtransform",
    ),
    pytest.param(
        (116.42079, 39.90105), (116.42703, 39.90245),
        # caijun/geoChina R/cst.R examples, Beijing railway station. Published to
        # 1e-5 degree, so rounding alone accounts for up to ~0.8 m of the difference.
        id="geochina-beijing-railway-station",
    ),
]

# Published GCJ-02 -> BD-09 pairs, (lon, lat).
GCJ_BD_PAIRS = [
    pytest.param(
        (116.404, 39.915), (116.41036949371029, 39.92133699351021),
        # wandergis/coordtransform README.md, gcj02tobd09(116.404, 39.915).
        id="wandergis-coordtransform",
    ),
    pytest.param(
        (120.026268, 30.279164), (120.032768, 30.285238),
        # Alibaba Cloud address purification, TransferCoord API documentation example
        # (help.aliyun.com/zh/address-purification/.../coordinate-system-conversion).
        id="aliyun-transfercoord-doc",
    ),
    pytest.param(
        (116.42703, 39.90245), (116.43351, 39.90851),
        # caijun/geoChina R/cst.R, gcj2bd example, Beijing railway station (1e-5 degree).
        id="geochina-beijing-railway-station",
    ),
]

# Published BD-09 -> GCJ-02 pairs, (lon, lat).
BD_GCJ_PAIRS = [
    pytest.param(
        (116.404, 39.915), (116.39762729119315, 39.90865673957631),
        # wandergis/coordtransform README.md, bd09togcj02(116.404, 39.915); that is
        # the one-step inverse, which our iterated one matches within centimetres.
        id="wandergis-coordtransform",
    ),
    pytest.param(
        (116.43351, 39.90851), (116.42703, 39.90245),
        # caijun/geoChina R/cst.R, bd2gcj example, Beijing railway station (1e-5 degree).
        id="geochina-beijing-railway-station",
    ),
]


@pytest.mark.parametrize(("wgs", "gcj"), WGS_GCJ_PAIRS)
def test_wgs84_converts_to_the_published_gcj02_within_a_metre(wgs, gcj):
    assert distance_m(*from_wgs84(*wgs, "gcj02"), *gcj) < ONE_METRE


@pytest.mark.parametrize(("wgs", "gcj"), WGS_GCJ_PAIRS)
def test_gcj02_converts_back_to_the_published_wgs84_within_a_metre(wgs, gcj):
    assert distance_m(*to_wgs84(*gcj, "gcj02"), *wgs) < ONE_METRE


@pytest.mark.parametrize(("gcj", "bd"), GCJ_BD_PAIRS)
def test_gcj02_converts_to_the_published_bd09_within_a_metre(gcj, bd):
    # from_wgs84 only starts from WGS-84, so go through it: GCJ -> WGS -> BD.
    assert distance_m(*from_wgs84(*to_wgs84(*gcj, "gcj02"), "bd09"), *bd) < ONE_METRE


@pytest.mark.parametrize(("bd", "gcj"), BD_GCJ_PAIRS)
def test_bd09_converts_to_the_published_gcj02_within_a_metre(bd, gcj):
    assert distance_m(*from_wgs84(*to_wgs84(*bd, "bd09"), "gcj02"), *gcj) < ONE_METRE


def test_the_gcj02_inverse_is_exact_not_the_one_step_estimate_some_services_publish():
    # Alibaba Cloud's TransferCoord example gives WGS84 120.021519,30.281543 for
    # GCJ02 120.026268,30.279164: the one-step inverse. Pushed forward again it
    # misses its own GCJ-02 point by ~1.75 m; ours comes back within a centimetre.
    gcj = (120.026268, 30.279164)
    published_wgs = (120.021519, 30.281543)
    assert distance_m(*from_wgs84(*published_wgs, "gcj02"), *gcj) > ONE_METRE
    assert distance_m(*from_wgs84(*to_wgs84(*gcj, "gcj02"), "gcj02"), *gcj) < 0.01


def test_the_offset_between_systems_is_hundreds_of_metres_in_beijing():
    wgs = (116.404, 39.915)
    assert distance_m(*wgs, *from_wgs84(*wgs, "gcj02")) == pytest.approx(555, abs=5)
    assert distance_m(*wgs, *from_wgs84(*wgs, "bd09")) == pytest.approx(1376, abs=5)


def _grid_over_china(step: float = 1.0):
    lat = 18.0
    while lat <= 53.5:
        lon = 74.0
        while lon <= 134.5:
            yield lon, lat
            lon += step
        lat += step


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_a_map_point_converted_to_wgs84_and_back_lands_within_a_metre_all_over_china(crs):
    checked, worst = 0, 0.0
    for lon, lat in _grid_over_china():
        if not in_china(lon, lat):
            continue
        wgs = to_wgs84(lon, lat, crs)
        if not in_china(*wgs):
            continue  # within ~1 km of the outline: see the module docstring
        worst = max(worst, distance_m(*from_wgs84(*wgs, crs), lon, lat))
        checked += 1
    assert checked > 500
    assert worst < ONE_METRE, worst
    # The iteration actually reaches centimetres; a regression to the one-step
    # inverse (metres) would show here first.
    assert worst < 0.05, worst


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_a_gps_point_converted_to_a_map_system_and_back_lands_within_a_metre_all_over_china(crs):
    worst = 0.0
    for lon, lat in _grid_over_china():
        if not in_china(lon, lat):
            continue
        shown = from_wgs84(lon, lat, crs)
        if not in_china(*shown):
            continue
        worst = max(worst, distance_m(*to_wgs84(*shown, crs), lon, lat))
    assert worst < 0.05, worst


def test_wgs84_to_wgs84_is_the_identity_in_china():
    assert to_wgs84(116.404, 39.915, "wgs84") == (116.404, 39.915)
    assert from_wgs84(116.404, 39.915, "wgs84") == (116.404, 39.915)


CITIES_IN_CHINA = {
    "Beijing": (116.40, 39.90), "Shanghai": (121.47, 31.23), "Shenzhen": (114.06, 22.54),
    "Guangzhou": (113.26, 23.13), "Lhasa": (91.13, 29.65), "Urumqi": (87.62, 43.83),
    "Kashgar": (75.99, 39.47), "Mohe": (122.53, 52.97), "Harbin": (126.63, 45.75),
    "Sanya": (109.51, 18.25), "Xiamen": (118.09, 24.48), "Dandong": (124.38, 40.13),
}
PLACES_OUTSIDE = {
    "Paris": (2.35, 48.86), "Tokyo": (139.69, 35.69), "Osaka": (135.50, 34.69),
    "Seoul": (126.98, 37.57), "Pyongyang": (125.75, 39.02), "Ulaanbaatar": (106.92, 47.92),
    "Hanoi": (105.85, 21.03), "Taipei": (121.56, 25.04), "Hong Kong": (114.17, 22.28),
    "Macau": (113.54, 22.19), "Vladivostok": (131.89, 43.12), "Kathmandu": (85.32, 27.72),
    "Almaty": (76.95, 43.24), "Sydney": (151.21, -33.87), "New York": (-74.01, 40.71),
}


@pytest.mark.parametrize("place", CITIES_IN_CHINA)
def test_mainland_cities_including_border_provinces_are_in_china(place):
    assert in_china(*CITIES_IN_CHINA[place])


@pytest.mark.parametrize("place", PLACES_OUTSIDE)
def test_neighbours_hong_kong_macau_and_taiwan_are_not_in_china(place):
    assert not in_china(*PLACES_OUTSIDE[place])


@pytest.mark.parametrize("place", PLACES_OUTSIDE)
@pytest.mark.parametrize("crs", CRS_NAMES)
def test_every_conversion_is_the_identity_outside_china(place, crs):
    lon, lat = PLACES_OUTSIDE[place]
    assert to_wgs84(lon, lat, crs) == (lon, lat)
    assert from_wgs84(lon, lat, crs) == (lon, lat)


@pytest.mark.parametrize("place", ["Seoul", "Ulaanbaatar", "Hanoi", "Taipei", "Osaka"])
def test_the_outline_is_tighter_than_the_library_rectangle(place):
    # prcoords would offset these (and only warn); the module does not.
    lon, lat = PLACES_OUTSIDE[place]
    assert prcoords.sanity_in_china_p(prcoords.Coords(lat=lat, lon=lon))
    assert to_wgs84(lon, lat, "gcj02") == (lon, lat)


def test_tokyo_lies_beyond_even_the_library_rectangle():
    lon, lat = PLACES_OUTSIDE["Tokyo"]
    assert lon > 137.8347  # the rectangle's eastern edge
    assert not prcoords.sanity_in_china_p(prcoords.Coords(lat=lat, lon=lon))


def test_the_outline_lies_inside_the_library_rectangle_so_the_library_never_warns():
    assert all(prcoords.sanity_in_china_p(prcoords.Coords(lat=lat, lon=lon)) for lon, lat in _OUTLINE)


def test_the_south_china_sea_islands_are_treated_as_outside():
    assert not in_china(112.34, 16.83)  # Sansha, below the outline's 17.75 N cut


@pytest.mark.parametrize(
    ("lon", "lat", "field", "words"),
    [
        (180.5, 39.9, "lon", "between -180 and 180"),
        (-181, 39.9, "lon", "between -180 and 180"),
        (116.4, 90.01, "lat", "between -90 and 90"),
        (116.4, -91, "lat", "between -90 and 90"),
        (math.nan, 39.9, "lon", "finite"),
        (116.4, math.inf, "lat", "finite"),
        ("116.4", 39.9, "lon", "number"),
        (116.4, None, "lat", "number"),
        (True, 39.9, "lon", "number"),
    ],
)
def test_out_of_range_or_non_numeric_degrees_are_refused_naming_the_field(lon, lat, field, words):
    for call in (lambda: to_wgs84(lon, lat, "gcj02"), lambda: from_wgs84(lon, lat, "gcj02"),
                 lambda: in_china(lon, lat)):
        with pytest.raises(InvalidCoordinate) as caught:
            call()
        assert caught.value.field == field
        assert words in caught.value.detail


def test_the_range_limits_themselves_are_valid():
    assert to_wgs84(180, 90, "gcj02") == (180.0, 90.0)
    assert to_wgs84(-180, -90, "bd09") == (-180.0, -90.0)


def test_a_latitude_that_looks_like_a_longitude_suggests_the_pair_is_swapped():
    with pytest.raises(InvalidCoordinate, match="swapped") as caught:
        to_wgs84(39.9, 116.4, "gcj02")
    assert caught.value.field == "lat"


def test_an_unknown_crs_is_refused_naming_the_accepted_ones():
    with pytest.raises(InvalidCoordinate, match="wgs84, gcj02, bd09") as caught:
        to_wgs84(116.4, 39.9, "GCJ-02")
    assert caught.value.field == "crs"


def test_invalid_coordinate_is_a_value_error_with_field_and_detail():
    error = InvalidCoordinate("lat", "must be between -90 and 90 degrees, got 91")
    assert isinstance(error, ValueError)
    assert str(error) == "lat: must be between -90 and 90 degrees, got 91"


def test_integers_are_accepted_and_floats_come_back():
    lon, lat = to_wgs84(116, 40, "wgs84")
    assert (lon, lat) == (116.0, 40.0) and isinstance(lon, float)


def test_distance_is_zero_for_the_same_point():
    assert distance_m(116.404, 39.915, 116.404, 39.915) == 0.0


def test_one_degree_along_the_equator_is_the_mean_radius_times_pi_over_180():
    assert distance_m(0, 0, 1, 0) == pytest.approx(MEAN_EARTH_RADIUS_M * math.pi / 180, rel=1e-12)


def test_a_quarter_meridian_is_ten_thousand_kilometres_on_the_mean_sphere():
    assert distance_m(0, 0, 0, 90) == pytest.approx(10_007_557, abs=1)


def test_antipodal_points_are_half_a_circumference_apart():
    assert distance_m(0, 0, 180, 0) == pytest.approx(math.pi * MEAN_EARTH_RADIUS_M)


def test_distance_is_symmetric_and_crosses_the_antimeridian_the_short_way():
    assert distance_m(179.5, 0, -179.5, 0) == pytest.approx(distance_m(-179.5, 0, 179.5, 0))
    assert distance_m(179.5, 0, -179.5, 0) == pytest.approx(111_195, abs=1)


def test_beijing_to_shanghai_is_about_1070_km_as_the_crow_flies():
    # Tiananmen to People's Square; a plausibility check of units and argument order.
    assert distance_m(116.3975, 39.9087, 121.4737, 31.2304) == pytest.approx(1_068_000, rel=0.005)


def test_distance_validates_each_point_naming_it():
    with pytest.raises(InvalidCoordinate) as caught:
        distance_m(116.4, 39.9, 116.4, 95)
    assert caught.value.field == "lat2"
