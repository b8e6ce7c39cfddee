"""The console map's layers: located records, monitoring points and cases, and the jurisdiction boundaries.

In figures/, the top package, because it reads all three. Scope is each area's own rule:
records by ``visible_records_predicate``, points by ``visible_points`` (THE covert rule: a
point the caller may not know of is absent, not greyed out), cases by ``cases_query`` (office
staff only). Positions are WGS-84 (lon, lat); the page converts them for its basemap.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from field.cases.exports import first_locations
from field.cases.lifecycle import cases_query
from field.cases.models import OPEN_STATES, Case
from field.core.models.platform import Jurisdiction, User
from field.core.models.records import FieldRecord
from field.core.scope import in_scope, visible_records_predicate
from field.directory.models import Enterprise, MonitoringPoint
from field.directory.monitoring import visible_points

#: The most records the map draws (the newest): a map of a million dots helps nobody.
RECORD_LIMIT = 3000
CASE_LIMIT = 1000


@dataclass(frozen=True)
class Mark:
    id: uuid.UUID
    kind: str
    label: str
    lon: float
    lat: float
    #: For a record: its review state; a point: "covert" or "open"; a case: its state.
    state: str | None = None


@dataclass(frozen=True)
class Boundary:
    name: str
    geometry: dict


@dataclass(frozen=True)
class MapLayers:
    records: list[Mark]
    points: list[Mark]
    cases: list[Mark]
    boundaries: list[Boundary]


def _records(session: Session, user: User) -> list[Mark]:
    rows = session.execute(
        select(FieldRecord.id, FieldRecord.kind, FieldRecord.review_state, func.ST_X(FieldRecord.location),
               func.ST_Y(FieldRecord.location))
        .where(visible_records_predicate(user), FieldRecord.location.is_not(None))
        .order_by(FieldRecord.received_at.desc()).limit(RECORD_LIMIT))
    return [Mark(i, kind, kind, lon, lat, state.value if state else None) for i, kind, state, lon, lat in rows]


def _points(session: Session, user: User) -> list[Mark]:
    rows = session.execute(
        select(MonitoringPoint.id, Enterprise.name, MonitoringPoint.covert, func.ST_X(Enterprise.geom),
               func.ST_Y(Enterprise.geom))
        .join(Enterprise, Enterprise.id == MonitoringPoint.enterprise_id)
        .where(visible_points(user), Enterprise.geom.is_not(None)))
    return [Mark(i, "point", name, lon, lat, "covert" if covert else "open") for i, name, covert, lon, lat in rows]


def _cases(session: Session, user: User, today: date) -> list[Mark]:
    cases = list(session.execute(
        cases_query(user, today=today).where(Case.state.in_(OPEN_STATES)).order_by(Case.number.desc())
        .limit(CASE_LIMIT)).scalars())
    located = first_locations(session, [c.id for c in cases])
    return [Mark(c.id, "case", f"{c.number} {c.title}", *located[c.id][:2], c.state.value)
            for c in cases if c.id in located]


def _boundaries(session: Session, user: User) -> list[Boundary]:
    rows = session.execute(
        select(Jurisdiction.name, Jurisdiction.boundary)
        .where(in_scope(Jurisdiction.id, user), Jurisdiction.boundary.is_not(None)).order_by(Jurisdiction.path))
    return [Boundary(name, to_shape(boundary).__geo_interface__) for name, boundary in rows]


def map_layers(session: Session, user: User, today: date) -> MapLayers:
    """Everything the console map shows to ``user`` (an office account)."""
    return MapLayers(_records(session, user), _points(session, user), _cases(session, user, today),
                     _boundaries(session, user))
