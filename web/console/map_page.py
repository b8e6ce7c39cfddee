"""The console map: records, monitoring points and cases, clustered, over the jurisdiction boundaries and the
configured basemap (web/console/maps.py converts every position to the basemap's CRS)."""

from __future__ import annotations

from flask import render_template, url_for
from flask_babel import gettext as _

from api.clock import office_day
from api.db import db
from field.figures.map_layers import map_layers

from .. import session
from . import blp, maps
from .labels import CASE_STATES, KINDS, label


def _geojson(geometry) -> dict:
    """Shapely's ``__geo_interface__`` (tuples) as plain JSON lists."""
    def plain(c):
        return [plain(x) for x in c] if isinstance(c, (list, tuple)) and c and isinstance(c[0], (list, tuple)) \
            else [float(c[0]), float(c[1])]

    return {"type": geometry["type"], "coordinates": plain(geometry["coordinates"])}


@blp.get("/map")
def map_page():
    user, _device = session.current()
    layers = map_layers(db(), user, office_day())
    crs = maps.basemap()["crs"]

    def mark(m, layer, label_text, href=None, detail=None):
        lat, lon = maps.shown(m.lon, m.lat, crs)
        return {"lat": lat, "lon": lon, "kind": m.kind if layer == "records" else layer[:-1], "layer": layer,
                "label": label_text, "href": href, "detail": detail}

    markers = [mark(m, "records", label(KINDS, m.kind), url_for(".record", record_id=m.id)) for m in layers.records]
    markers += [mark(m, "points", m.label, None, _("covert point") if m.state == "covert" else _("open point"))
                for m in layers.points]
    markers += [mark(m, "cases", m.label, url_for(".case_page", case_id=m.id), label(CASE_STATES, m.state))
                for m in layers.cases]
    boundaries = [{"name": b.name, "geometry": maps.shifted_geojson(_geojson(b.geometry), crs)}
                  for b in layers.boundaries]
    spec = maps.spec(markers=markers, boundaries=boundaries, cluster=True, wheel=True,
                     layer_names={"records": _("Records"), "points": _("Monitoring points"), "cases": _("Cases")})
    return render_template("console/map.html", spec=spec, layers=layers, basemap=maps.basemap())
