"""Positions: as a phone or a file gives them (any CRS), as stored (WGS-84), and the area a list asks for."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

from shapely.geometry import Point

from . import crs as crs_module
from . import geo
from .errors import InvalidInput

#: Largest accuracy we believe: a GPS fix worse than 100 km is not a position.
MAX_ACCURACY_M = 100_000.0
#: How a coordinate error of field/core/crs.py maps onto the request's GeoJSON member.
_MEMBER = {"lon": "coordinates", "lat": "coordinates", "crs": "crs"}


@dataclass(frozen=True)
class Location:
    """A stored position: WGS-84 degrees, and the device's accuracy in metres when it gave one."""

    lon: float
    lat: float
    accuracy_m: float | None = None

    def in_crs(self, crs: str) -> tuple[float, float]:
        """(lon, lat) for drawing on a map that uses ``crs`` (GCJ-02 for AMap and Tencent)."""
        return crs_module.from_wgs84(self.lon, self.lat, crs)

    def distance_m(self, lon: float, lat: float) -> float:
        """Great-circle metres to a WGS-84 position (the mean sphere; see field/core/crs.py)."""
        return crs_module.distance_m(self.lon, self.lat, lon, lat)


@dataclass(frozen=True)
class GivenLocation:
    """A position as received, in the CRS the sender declared; nothing is guessed from the values."""

    lon: float
    lat: float
    crs: str = "wgs84"
    accuracy_m: float | None = None

    def to_stored(self, field: str = "location", members: dict[str, str] | None = None) -> Location:
        """Convert to WGS-84 once, here; errors name ``field`` and the member at fault.

        ``members`` renames the members (lon, lat, crs, accuracy_m) for the error: the API's
        GeoJSON has ``coordinates``; a CSV file has ``lon`` and ``lat`` columns and no prefix.
        """
        members = _MEMBER if members is None else members

        def name(member: str) -> str:
            member = members.get(member, member)
            return f"{field}.{member}" if field else member

        try:
            lon, lat = crs_module.to_wgs84(self.lon, self.lat, self.crs)
        except crs_module.InvalidCoordinate as exc:
            raise InvalidInput(name(exc.field), exc.detail) from None
        accuracy = self.accuracy_m
        if accuracy is not None:
            if isinstance(accuracy, bool) or not isinstance(accuracy, (int, float)) or not math.isfinite(accuracy) \
                    or not 0 <= accuracy <= MAX_ACCURACY_M:
                raise InvalidInput(name("accuracy_m"), f"Must be a number of metres from 0 to {MAX_ACCURACY_M:g}.")
            accuracy = float(accuracy)
        return Location(lon, lat, accuracy)


def place(obj, location: Location | None) -> None:
    """Store ``location`` on a ``Located`` model (or clear it)."""
    if location is None:
        obj.geom, obj.location_accuracy_m = None, None
    else:
        obj.geom = geo.to_db(Point(location.lon, location.lat))
        obj.location_accuracy_m = location.accuracy_m


def same_place(obj, location: Location | None) -> bool:
    """Whether ``obj`` already holds exactly ``location`` (an import that changes nothing writes nothing)."""
    current = obj.location
    if current is None or location is None:
        return current is None and location is None
    return (abs(current.lon - location.lon) < 1e-9 and abs(current.lat - location.lat) < 1e-9
            and current.accuracy_m == location.accuracy_m)


@dataclass(frozen=True)
class Area:
    """Where a list is asked to look, in WGS-84: near a point (within a radius, or the nearest N),
    inside a box, inside a jurisdiction's boundary. Combined, they all apply."""

    near: tuple[float, float] | None = None
    radius_m: float | None = None
    bbox: tuple[float, float, float, float] | None = None
    within_jurisdiction_id: uuid.UUID | None = None
    nearest: int | None = None

    @classmethod
    def from_query(cls, *, near: tuple[float, float] | None = None, radius_m: float | None = None,
                   bbox: tuple[float, float, float, float] | None = None,
                   within_jurisdiction: uuid.UUID | None = None, nearest: int | None = None,
                   crs: str = "wgs84") -> Area:
        """Check a list's query and convert its positions from ``crs`` (the request's map CRS) to WGS-84.

        A box is converted corner by corner: the GCJ-02 offset changes by centimetres across a
        district, so the converted box is the same box for any practical purpose.
        """
        if (radius_m is not None or nearest is not None) and near is None:
            raise InvalidInput("near", "radius_m and nearest need near=lon,lat.")
        if near is not None:
            near = _convert("near", near, crs)
        if bbox is not None:
            minx, miny, maxx, maxy = bbox
            if not (minx < maxx and miny < maxy):
                raise InvalidInput("bbox", "Give min_lon,min_lat,max_lon,max_lat with min < max.")
            minx, miny = _convert("bbox", (minx, miny), crs)
            maxx, maxy = _convert("bbox", (maxx, maxy), crs)
            bbox = (minx, miny, maxx, maxy)
        return cls(near=near, radius_m=radius_m, bbox=bbox, within_jurisdiction_id=within_jurisdiction,
                   nearest=nearest)

    @property
    def empty(self) -> bool:
        return self.near is None and self.bbox is None and self.within_jurisdiction_id is None


def _convert(field: str, position: tuple[float, float], crs: str) -> tuple[float, float]:
    try:
        return crs_module.to_wgs84(position[0], position[1], crs)
    except crs_module.InvalidCoordinate as exc:
        raise InvalidInput("crs" if exc.field == "crs" else field, exc.detail) from None
