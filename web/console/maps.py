"""What the console's maps are given: the configured basemap and positions in its CRS (web/static/js/maps.js draws).

Positions are stored in WGS-84. A Chinese basemap (GCJ-02 tiles: AMap, Tencent) is offset
by a few hundred metres, so every position sent to a page for such a basemap is converted
here with the project's own ``field.core.crs.from_wgs84`` (exact to centimetres): markers
then sit on the right street. No tile URL configured (an offline intranet): no basemap, the
jurisdiction boundaries alone, in WGS-84.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import current_app

from field.core.crs import from_wgs84


def basemap() -> dict:
    config = current_app.config
    return {"tiles": config["MAP_TILE_URL"] or None, "crs": config["MAP_TILE_CRS"] if config["MAP_TILE_URL"] else "wgs84",
            "attribution": config["MAP_TILE_ATTRIBUTION"], "subdomains": config["MAP_TILE_SUBDOMAINS"]}


def shown(lon: float, lat: float, crs: str | None = None) -> tuple[float, float]:
    """``(lat, lon)`` for Leaflet, in the basemap's CRS."""
    x, y = from_wgs84(lon, lat, crs or basemap()["crs"])
    return round(y, 7), round(x, 7)


def shifted_geojson(geometry: dict, crs: str) -> dict:
    """A GeoJSON geometry with every position converted to ``crs`` (boundaries over a GCJ-02 basemap)."""
    if crs == "wgs84":
        return geometry

    def walk(coords):
        if coords and isinstance(coords[0], (int, float)):
            x, y = from_wgs84(coords[0], coords[1], crs)
            return [round(x, 7), round(y, 7)]
        return [walk(c) for c in coords]

    return {**geometry, "coordinates": walk(geometry["coordinates"])}


def spec(**parts) -> str:
    """The JSON a ``data-map`` attribute carries (Jinja escapes it as an attribute value)."""
    return json.dumps({"basemap": basemap(), **parts}, ensure_ascii=False, separators=(",", ":"))


def tile_origin(url: str) -> str | None:
    """The CSP source of a tile URL template (``https://webrd0{s}.is.autonavi.com/…`` → ``https://*.is.autonavi.com``)."""
    if not url:
        return None
    parts = urlsplit(url.replace("{s}", "SUBDOMAIN"))
    host = parts.netloc
    if "SUBDOMAIN" in host:
        labels = host.split(".")
        host = ".".join("*" if "SUBDOMAIN" in label else label for label in labels)
    return f"{parts.scheme}://{host}"
