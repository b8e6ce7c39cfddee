"""Streamed exports of field records as CSV and GeoJSON: any kind with ``export_columns`` (field/records/kinds.py).

The CSV is written for the office's spreadsheets (field/core/spreadsheets.py). Rows are read in
keyset batches and written batch by batch, so memory stays flat however many there are.
Monitors appear only by their records' squad, never by name.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterator, Sequence

from sqlalchemy import Select, func
from sqlalchemy.orm import Session

from field.core import spreadsheets
from field.core.crs import from_wgs84
from field.core.models.records import FieldRecord
from field.core.pages import paginate

BATCH = 500

Column = tuple[str, Callable[[Any], Any]]


def _value(v):
    if v is None:
        return None
    return getattr(v, "value", v) if not isinstance(v, (int, float, str)) else v


def envelope_columns() -> list[Column]:
    return [
        ("id", lambda r: r.id), ("kind", lambda r: r.kind), ("received_at", lambda r: r.received_at.isoformat()),
        ("device_time", lambda r: r.device_time.isoformat()), ("review_state", lambda r: r.review_state.value),
        ("unit_id", lambda r: r.unit_id), ("squad_id", lambda r: r.squad_id),
        ("category", lambda r: r.category_code),
        ("flags", lambda r: " ".join(n for n in ("unfiled", "implausible_evidence", "clock_skew", "far_from_target")
                                     if getattr(r, f"flag_{n}"))),
    ]


def _batches(session: Session, stmt: Select) -> Iterator[list]:
    cursor = None
    while True:
        page = paginate(session, stmt, [FieldRecord.received_at, FieldRecord.id], cursor=cursor, limit=BATCH)
        if page.items:
            yield page.items
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def csv_chunks(session: Session, stmt: Select, columns: Sequence[Column]) -> Iterator[bytes]:
    return spreadsheets.csv_chunks([name for name, _ in columns],
                                   (([_value(get(record)) for _, get in columns] for record in batch)
                                    for batch in _batches(session, stmt)))


def geojson_chunks(session: Session, stmt: Select, columns: Sequence[Column], crs: str = "wgs84") -> Iterator[bytes]:
    """A FeatureCollection written feature by feature; unlocated records get a null geometry."""
    located = stmt.add_columns(func.ST_X(FieldRecord.location), func.ST_Y(FieldRecord.location))
    yield b'{"type":"FeatureCollection","features":['
    first, cursor = True, None
    while True:
        page = paginate(session, stmt, [FieldRecord.received_at, FieldRecord.id], cursor=cursor, limit=BATCH)
        ids = [r.id for r in page.items]
        points = {row[0].id: (row[1], row[2]) for row in session.execute(
            located.where(FieldRecord.id.in_(ids))).all()} if ids else {}
        parts = []
        for record in page.items:
            lon, lat = points.get(record.id, (None, None))
            geometry = None
            if lon is not None:
                lon, lat = from_wgs84(lon, lat, crs)
                geometry = {"type": "Point", "coordinates": [lon, lat]}
            props = {name: _value(get(record)) for name, get in columns}
            parts.append(json.dumps({"type": "Feature", "id": str(record.id), "geometry": geometry,
                                     "properties": props}, ensure_ascii=False, default=str))
        if parts:
            yield ((b"" if first else b",") + ",".join(parts).encode("utf-8"))
            first = False
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    yield b"]}"
