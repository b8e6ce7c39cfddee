"""Spatial predicates that differ between PostGIS and SpatiaLite, behind one interface.

Geometry is stored in EPSG:4326 (WGS-84 degrees). Distances are in metres on the
spheroid on both databases. Every predicate first narrows by bounding box so that
the spatial index is used (GiST on PostGIS, the R*Tree virtual table on SpatiaLite),
then applies the exact test.
"""

from __future__ import annotations

import math
from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, and_, func, literal_column, select, text

SRID = 4326
#: Metres per degree of latitude, rounded down so the search box is never too small.
_M_PER_DEG_LAT = 110_574.0


def to_db(geom: BaseGeometry | None):
    """A shapely geometry as a value for a Geometry column."""
    return None if geom is None else from_shape(geom, srid=SRID)


def from_db(value) -> BaseGeometry | None:
    return None if value is None else to_shape(value)


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, MultiPolygon):
        return geom
    raise ValueError(f"expected a Polygon or MultiPolygon, got {geom.geom_type}")


def point_expr(lon: float, lat: float):
    return func.ST_GeomFromText(f"POINT({float(lon)!r} {float(lat)!r})", SRID)


def search_box(lon: float, lat: float, metres: float) -> tuple[float, float, float, float]:
    """A lon/lat box that surely contains every point within ``metres`` of (lon, lat)."""
    dlat = metres / _M_PER_DEG_LAT * 1.01
    coslat = max(math.cos(math.radians(min(abs(lat) + dlat, 89.9))), 1e-6)
    dlon = metres / (111_320.0 * coslat) * 1.01
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


def _dialect(session_or_bind) -> str:
    bind = getattr(session_or_bind, "bind", None) or session_or_bind
    if hasattr(session_or_bind, "get_bind"):
        bind = session_or_bind.get_bind()
    return bind.dialect.name


def _spatialite_index_filter(column, minx, miny, maxx, maxy) -> ColumnElement[bool]:
    """Use SpatiaLite's R*Tree: the rowids whose MBR meets the search frame."""
    table = column.table.name
    frame = select(literal_column("ROWID")).select_from(text("SpatialIndex")).where(
        literal_column("f_table_name") == table,
        literal_column("f_geometry_column") == column.name,
        literal_column("search_frame") == func.BuildMbr(minx, miny, maxx, maxy, SRID),
    )
    return literal_column(f"{table}.ROWID").in_(frame.scalar_subquery())


def in_bbox(session, column, minx: float, miny: float, maxx: float, maxy: float) -> ColumnElement[bool]:
    if _dialect(session) == "postgresql":
        return column.op("&&")(func.ST_MakeEnvelope(minx, miny, maxx, maxy, SRID))
    return and_(
        _spatialite_index_filter(column, minx, miny, maxx, maxy),
        func.MbrIntersects(column, func.BuildMbr(minx, miny, maxx, maxy, SRID)) == 1,
    )


def distance_m(session, column, lon: float, lat: float):
    """Geodesic distance in metres from ``column`` to the point (WGS-84 spheroid)."""
    pt = point_expr(lon, lat)
    if _dialect(session) == "postgresql":
        return func.ST_Distance(func.geography(column), func.geography(pt))
    return func.ST_Distance(column, pt, 1)


def within_radius(session, column, lon: float, lat: float, metres: float) -> ColumnElement[bool]:
    box_filter = in_bbox(session, column, *search_box(lon, lat, metres))
    pt = point_expr(lon, lat)
    if _dialect(session) == "postgresql":
        exact = func.ST_DWithin(func.geography(column), func.geography(pt), metres)
    else:
        exact = func.ST_Distance(column, pt, 1) <= metres
    return and_(box_filter, exact)


def within_geometry(session, column, geom: BaseGeometry) -> ColumnElement[bool]:
    """Points (or shapes) inside ``geom``; the boundary's box narrows through the index first."""
    shape = func.ST_GeomFromText(geom.wkt, SRID)
    if _dialect(session) == "postgresql":
        # ST_Intersects brings its own ``&&`` on the GiST index. A second box test beside it makes
        # the planner count the same narrowing twice (a district's 5 % of the rows estimated as
        # 0.3 %), and it then sorts every row of the district instead of reading newest first.
        return func.ST_Intersects(column, shape)
    return and_(in_bbox(session, column, *geom.bounds), func.ST_Intersects(column, shape) == 1)


def within_column(session, column, boundary_column) -> ColumnElement[bool]:
    """Inside a boundary stored in another table (a jurisdiction's MultiPolygon)."""
    if _dialect(session) == "postgresql":
        return func.ST_Intersects(column, boundary_column)
    return func.ST_Intersects(column, boundary_column) == 1


#: Sphere against spheroid: great-circle and geodesic distances differ by under 0.6 %.
_SPHEROID_MARGIN = 1.02
#: Half the Earth's circumference: a radius search this wide holds every row.
_WHOLE_EARTH_M = 20_040_000.0


def nearest(session, stmt, column, lon: float, lat: float, n: int) -> list[tuple[Any, float]]:
    """The ``n`` located rows of ``stmt`` nearest to (lon, lat), nearest first, with great-circle metres.

    Exact on both databases, and ranked the same way on both (in Python, by ``haversine_m``):
    first a radius that holds at least ``n`` rows is found, then every row within it (plus
    the sphere/spheroid margin) is ranked. PostGIS finds the radius from the ``n`` rows its
    GiST index returns in KNN order (``<->``, planar degrees: only a bound, hence the second
    pass); SpatiaLite doubles an indexed radius search from 1 km until ``n`` rows are inside.
    """
    stmt = stmt.where(column.is_not(None))
    located = stmt.add_columns(func.ST_X(column), func.ST_Y(column))

    def rank(rows):
        ranked = sorted(((row[0], haversine_m(lon, lat, row[1], row[2])) for row in rows),
                        key=lambda pair: (pair[1], str(pair[0].id)))
        return ranked[:n]

    if _dialect(session) == "postgresql":
        knn = session.execute(located.order_by(column.op("<->")(point_expr(lon, lat))).limit(n)).all()
        if len(knn) < n:
            return rank(knn)
        radius = max(haversine_m(lon, lat, row[1], row[2]) for row in knn)
    else:
        total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        if total <= n:
            return rank(session.execute(located).all())
        radius = 1000.0
        while radius < _WHOLE_EARTH_M:
            inside = session.execute(select(func.count()).select_from(
                stmt.where(within_radius(session, column, lon, lat, radius)).subquery())).scalar_one()
            if inside >= n:
                break
            radius *= 2
    rows = session.execute(located.where(
        within_radius(session, column, lon, lat, radius * _SPHEROID_MARGIN))).all()
    return rank(rows)


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance on the mean sphere; for checks done in Python (plausibility)."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))


__all__ = [
    "SRID", "to_db", "from_db", "as_multipolygon", "point_expr", "search_box", "in_bbox",
    "distance_m", "within_radius", "within_geometry", "within_column", "nearest", "haversine_m",
    "Point", "box",
]
