"""Coordinate reference systems used in China (WGS-84, GCJ-02, BD-09): validation, conversion, distance.

GPS chips and photo EXIF give WGS-84. Chinese map SDKs give GCJ-02 (AMap, Tencent)
or BD-09 (Baidu), offset from WGS-84 by a few hundred metres. fieldwatch stores
WGS-84 only: every input says its CRS and is converted with ``to_wgs84``; output for
a map is produced on request with ``from_wgs84``. Distances are computed on WGS-84
coordinates only, never across systems.

Which library, and why ``prcoords`` (PyPI ``prcoords``, 1.0.2, by Mingye Wang):

- It has a precise inverse. ``gcj_wgs_bored`` / ``bd_wgs_bored`` refine the usual
  one-step estimate by fixed-point iteration (the ChinaMapShift / caijun method),
  at most 10 rounds; measured over a 0.5-degree grid of China the forward transform
  of the result lands within 5 mm of the input for GCJ-02 and 2 cm for BD-09,
  where the one-step inverse is off by up to ~5 m. The tests hold it to 5 cm,
  well inside the 1 m budget.
- Its GCJ-02 constants are the Krasovsky ones of the leaked reference code;
  ``eviltransform`` 0.1.1 on PyPI (2018) uses the WGS-84 semi-major axis instead,
  and its BD-09 test pairs disagree with the widely used BD-09 formula by 10-40 m.
- CC0 (public domain; GPL-3.0+ offered as an alternative), pure Python, no
  dependencies.
- It is not actively maintained (last release 2019, sdist only), but the
  transforms are frozen by the map vendors, so there is nothing to maintain; the
  alternatives lose on the points above: ``coordtransform`` (MIT, maintained, C
  accelerated) and ``coord-convert`` only ship the one-step (metre-level) or an
  unbounded iterative inverse; ``prcoords-typed`` (CC0, maintained) needs Python
  3.14 and pydantic.

Behaviour outside China, made explicit here rather than left to the library:
GCJ-02 and BD-09 only exist where Chinese maps apply the offset; everywhere else
the three systems coincide and every conversion is the identity. ``prcoords``
decides that with a loose rectangle (lat 0.83-55.83, lon 72.00-137.83) that also
covers Seoul, Ulaanbaatar, Hanoi, Taipei and western Japan, and it *warns* (an
error under our test settings) rather than refusing. So ``in_china`` uses instead
the 70-vertex outline of the offset area from the same author (PRCoords,
``js/insane_is_in_china.js``, CC0): mainland China with Hainan; Hong Kong, Macau,
Taiwan and the islands south of 17.75 N are outside. With 70 vertices it is coarse
along land borders: a few border towns lie ~20 km outside it (Ruili in Yunnan,
Pingxiang in Guangxi, Zhangmu in Tibet) and Sinuiju (DPRK) inside; a deployment
for such a district needs a finer outline. The test is made on the coordinates as
given, in their own CRS; within ~1 km of the outline a round trip may therefore
flip between "offset" and "identity".
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Literal, get_args

import prcoords

CRS = Literal["wgs84", "gcj02", "bd09"]
#: Accepted CRS names, in the order documented to clients.
CRS_NAMES: tuple[str, ...] = get_args(CRS)

#: IUGG mean Earth radius R1 in metres, for the spherical (haversine) distance.
MEAN_EARTH_RADIUS_M = 6_371_008.8


class InvalidCoordinate(ValueError):
    """A longitude, latitude or CRS that cannot be a position; ``field`` names which."""

    def __init__(self, field: str, detail: str):
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail


# The offset area as (lon, lat) vertices, from PRCoords js/insane_is_in_china.js
# (CC0). The first twelve trace the Hong Kong / Macau notch, so both are outside.
_OUTLINE: tuple[tuple[float, float], ...] = (
    (114.433722, 22.064310), (114.009458, 22.182105), (113.599275, 22.121763),
    (113.583463, 22.176002), (113.530900, 22.175318), (113.529542, 22.210608),
    (113.613377, 22.227435), (113.938514, 22.483714), (114.043449, 22.500274),
    (114.138506, 22.550640), (114.222984, 22.550960), (114.366803, 22.524255),
    (115.254019, 20.235733), (121.456316, 26.504442), (123.417261, 30.355685),
    (124.289197, 39.761103), (126.880509, 41.774504), (127.887261, 41.370015),
    (128.214602, 41.965359), (129.698745, 42.452788), (130.766139, 42.668534),
    (131.282487, 45.037051), (133.142361, 44.842986), (134.882453, 48.370596),
    (132.235531, 47.785403), (130.980075, 47.804860), (130.659026, 48.968383),
    (127.860252, 50.043973), (125.284310, 53.667091), (120.619316, 53.100485),
    (119.403751, 50.105903), (117.070862, 49.690388), (115.586019, 47.995542),
    (118.599613, 47.927785), (118.260771, 46.707335), (113.534759, 44.735134),
    (112.093739, 45.001999), (111.431259, 43.489381), (105.206324, 41.809510),
    (96.485703, 42.778692), (94.167961, 44.991668), (91.130430, 45.192938),
    (90.694601, 47.754437), (87.356293, 49.232005), (85.375791, 48.263928),
    (85.876055, 47.109272), (82.935423, 47.285727), (81.929808, 45.506317),
    (79.919457, 45.108122), (79.841455, 42.178752), (73.334917, 40.076332),
    (73.241805, 39.062331), (79.031902, 34.206413), (78.738395, 31.578004),
    (80.715812, 30.453822), (81.821692, 30.585965), (85.501663, 28.208463),
    (92.096061, 27.754241), (94.699781, 29.357171), (96.079442, 29.429559),
    (98.910308, 27.140660), (97.404057, 24.494701), (99.400021, 23.168966),
    (100.697449, 21.475914), (102.976870, 22.616482), (105.476997, 23.244292),
    (108.565621, 20.907735), (107.730505, 18.193406), (110.669856, 17.754550),
)
#: PRCoords cuts the South China Sea off below this latitude.
_SOUTHERN_CUT_LAT = 17.75455
_MIN_LON = min(x for x, _ in _OUTLINE)
_MAX_LON = max(x for x, _ in _OUTLINE)
_MAX_LAT = max(y for _, y in _OUTLINE)


def _inside_outline(lon: float, lat: float) -> bool:
    if not (_SOUTHERN_CUT_LAT < lat <= _MAX_LAT and _MIN_LON <= lon <= _MAX_LON):
        return False
    # Even-odd rule: count crossings of a ray going east from the point.
    inside = False
    x_prev, y_prev = _OUTLINE[-1]
    for x, y in _OUTLINE:
        if (y > lat) != (y_prev > lat):
            x_cross = x + (lat - y) * (x_prev - x) / (y_prev - y)
            if lon < x_cross:
                inside = not inside
        x_prev, y_prev = x, y
    return inside


def _degrees(field: str, value: object, limit: float) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise InvalidCoordinate(field, f"must be a number of degrees, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise InvalidCoordinate(field, "must be a finite number of degrees")
    if not -limit <= value <= limit:
        raise InvalidCoordinate(field, f"must be between -{limit:g} and {limit:g} degrees, got {value:g}")
    return value


def _position(lon: object, lat: object, lon_field: str = "lon", lat_field: str = "lat") -> tuple[float, float]:
    """Validated (lon, lat) as floats; a latitude beyond 90 that would fit as a longitude hints at a swap."""
    lon_value = _degrees(lon_field, lon, 180)
    try:
        lat_value = _degrees(lat_field, lat, 90)
    except InvalidCoordinate as exc:
        if isinstance(lat, Real) and not isinstance(lat, bool) and abs(float(lat)) <= 180 and abs(lon_value) <= 90:
            raise InvalidCoordinate(lat_field, f"{exc.detail} (are longitude and latitude swapped? "
                                    "GeoJSON order is [lon, lat])") from None
        raise
    return lon_value, lat_value


def _crs(crs: object) -> CRS:
    if crs not in CRS_NAMES:
        raise InvalidCoordinate("crs", f"unknown coordinate reference system {crs!r}; "
                                f"expected one of {', '.join(CRS_NAMES)}")
    return crs  # type: ignore[return-value]


def in_china(lon: float, lat: float) -> bool:
    """Whether Chinese maps offset this position, i.e. whether GCJ-02/BD-09 differ from WGS-84 here."""
    lon, lat = _position(lon, lat)
    return _inside_outline(lon, lat)


def to_wgs84(lon: float, lat: float, crs: CRS) -> tuple[float, float]:
    """The WGS-84 (lon, lat) of a position given in ``crs``; the identity outside China."""
    lon, lat = _position(lon, lat)
    crs = _crs(crs)
    if crs == "wgs84" or not _inside_outline(lon, lat):
        return lon, lat
    # The outline lies inside prcoords' own rectangle, so its internal check (which
    # only warns) never fires; the tests pin that.
    given = prcoords.Coords(lat=lat, lon=lon)
    wgs = prcoords.gcj_wgs_bored(given) if crs == "gcj02" else prcoords.bd_wgs_bored(given)
    return wgs.lon, wgs.lat


def from_wgs84(lon: float, lat: float, crs: CRS) -> tuple[float, float]:
    """The (lon, lat) in ``crs`` of a WGS-84 position (GCJ-02 for an AMap display); the identity outside China."""
    lon, lat = _position(lon, lat)
    crs = _crs(crs)
    if crs == "wgs84" or not _inside_outline(lon, lat):
        return lon, lat
    wgs = prcoords.Coords(lat=lat, lon=lon)
    out = prcoords.wgs_gcj(wgs, False) if crs == "gcj02" else prcoords.wgs_bd(wgs, False)
    return out.lon, out.lat


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two positions of the same CRS (haversine, mean radius).

    The sphere is within 0.5 % of the ellipsoid, plenty for plausibility checks at
    the scale of a district; both points must be in the same CRS (WGS-84 in storage).
    """
    lon1, lat1 = _position(lon1, lat1, "lon1", "lat1")
    lon2, lat2 = _position(lon2, lat2, "lon2", "lat2")
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    h = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    # min() guards against rounding pushing h just above 1 for antipodal points.
    return 2 * MEAN_EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
