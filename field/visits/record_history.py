"""The record page's history: its versions side by side with what changed, and each evidence's custody trail.

Plain reads for the console (web/console), scope checked by the caller having fetched the
record through ``records.get_record``; the trail keeps only entries of chains in the
reviewer's area, and names actors by their display name (a monitor's is the squad code,
field/directory/squads.py), never by device: a phone's name may carry a person's name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from field.core.geo import haversine_m
from field.core.models.platform import User
from field.core.models.records import FieldRecord
from field.core.scope import in_scope
from field.custody.models import CustodyEntry
from field.records import lifecycle as records

#: The most custody entries one evidence shows (views are logged: a much-read photo has many).
TRAIL_LIMIT = 200


@dataclass(frozen=True)
class VersionRow:
    """One key of the body across the versions: its text in each, and in which it changed."""

    key: str
    texts: tuple[str | None, ...]
    #: Per version: True where the value differs from the version before (never for the first).
    changed: tuple[bool, ...]


@dataclass(frozen=True)
class VersionTable:
    versions: tuple[int, ...]
    submitted_at: tuple[datetime, ...]
    rows: tuple[VersionRow, ...]

    @property
    def changed_keys(self) -> tuple[str, ...]:
        return tuple(r.key for r in self.rows if any(r.changed))


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def version_table(session: Session, record: FieldRecord) -> VersionTable:
    """Every submitted body of ``record`` as columns, one row per top-level key, changes marked."""
    versions = records.versions(session, record)
    keys: list[str] = []
    for v in versions:
        for key in (v.body or {}):
            # The record's id: sent with the first version (the client's), implied by the others.
            if key not in keys and key != "id":
                keys.append(key)
    rows = []
    for key in keys:
        texts = tuple(_text((v.body or {}).get(key)) for v in versions)
        changed = tuple(i > 0 and texts[i] != texts[i - 1] for i in range(len(texts)))
        rows.append(VersionRow(key, texts, changed))
    # What changed first, then the rest in the body's order.
    rows.sort(key=lambda r: not any(r.changed))
    return VersionTable(tuple(v.version for v in versions), tuple(v.submitted_at for v in versions), tuple(rows))


@dataclass(frozen=True)
class TrailEntry:
    seq: int
    occurred_at: datetime
    kind: str
    actor: str | None
    actor_role: str | None
    hash: str


def evidence_trail(session: Session, reviewer: User, sha256: str) -> list[TrailEntry]:
    """The custody entries about one original, oldest first, in chains of the reviewer's area."""
    rows = session.execute(
        select(CustodyEntry, User.display_name, User.role)
        .outerjoin(User, User.id == CustodyEntry.actor_id)
        .where(CustodyEntry.subject_type == "blob", CustodyEntry.subject_id == sha256,
               in_scope(CustodyEntry.jurisdiction_id, reviewer))
        .order_by(CustodyEntry.occurred_at, CustodyEntry.seq).limit(TRAIL_LIMIT)
    ).all()
    return [TrailEntry(e.seq, e.occurred_at, e.kind, name, role.value if role else None, e.hash)
            for e, name, role in rows]


def photo_distance_m(record_location, photo_gps) -> float | None:
    """Metres between the record's place and the photo's EXIF position ((lon, lat, …) each), when both are known."""
    if not record_location or not photo_gps:
        return None
    return haversine_m(record_location[0], record_location[1], photo_gps[0], photo_gps[1])
