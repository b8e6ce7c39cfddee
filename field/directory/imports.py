"""Bulk import of enterprises, units and persons from CSV or GeoJSON: idempotent, bad rows reported, good rows kept.

Here: the files, the batch loop and enterprises; import_cells.py checks one cell, import_units.py
imports units and persons.

The file formats are documented in docs/directory.md. Each kind has a natural key:
enterprises their credit code, units (jurisdiction, parent path, name), persons (unit,
name). A row whose key exists is compared field by field and written only if something
differs, so importing the same file again writes nothing (not even ``updated_at`` or a
sync entry). Rows are processed in batches: one query finds the batch's existing rows,
one flush writes it, and the caller commits after each batch. A batch whose flush fails
(a row that passed the checks but breaks a constraint, e.g. a concurrent insert) is
rolled back to its savepoint and replayed row by row, so one bad row costs only itself.
"""

from __future__ import annotations

import csv
import io
from collections import deque
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from field.core import sync
from field.core.errors import DomainError, InvalidInput, NotAllowed
from field.core.locations import place, same_place
from field.core.models.base import utcnow
from field.core.models.platform import Role, User

from .enterprises import FLAGS, checked_credit_code
from .import_cells import RowError, _Jurisdictions, _flag, _location, _optional, _required, _visible_cells
from .import_units import _PersonRows, _UnitRows
from .models import Enterprise
from .monitoring import follow_enterprise


KINDS = ("enterprises", "units", "persons")

_LOCATION = ("lon", "lat", "crs", "accuracy_m")
#: Columns of each kind, in the order of the documented header; the first ones are required.
COLUMNS: dict[str, tuple[str, ...]] = {
    "enterprises": ("credit_code", "name", "jurisdiction_code", "address", *_LOCATION, *FLAGS,
                    "contact_name", "contact_phone"),
    "units": ("jurisdiction_code", "name", "kind", "parent", "address", *_LOCATION),
    "persons": ("jurisdiction_code", "unit", "name", "post", "rank"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "enterprises": ("credit_code", "name", "jurisdiction_code"),
    "units": ("jurisdiction_code", "name", "kind"),
    "persons": ("jurisdiction_code", "unit", "name"),
}


class ImportFileError(DomainError):
    """The file as a whole cannot be read (format, header): nothing was imported."""


@dataclass(frozen=True)
class Rejected:
    row: int
    key: str
    reason: str


@dataclass
class Report:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.rejected)


# -- reading files --------------------------------------------------------------------------


def read_file(path: Path | str, kind: str) -> list[tuple[int, dict[str, str]]]:
    """(row number, {column: text}) for each record of a CSV or GeoJSON file.

    CSV rows are numbered as a spreadsheet shows them (the header is row 1); GeoJSON
    features from 1. CSV may be UTF-8 (with or without the BOM Excel writes) or GB18030
    (what Excel writes on a Chinese Windows).
    """
    path = Path(path)
    return read_bytes(path.read_bytes(), path.name, kind)


def read_bytes(raw: bytes, filename: str, kind: str) -> list[tuple[int, dict[str, str]]]:
    """``read_file`` of a file's bytes (an upload); ``filename``'s suffix tells GeoJSON from CSV."""
    if Path(filename).suffix.lower() in (".geojson", ".json"):
        return _read_geojson(raw, kind)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise ImportFileError("The file is neither UTF-8 nor GB18030 text.") from None
    return _read_csv(text, kind)


def _check_header(columns: list[str], kind: str) -> None:
    unknown = [c for c in columns if c not in COLUMNS[kind]]
    if unknown:
        raise ImportFileError(f"Unknown column(s) {', '.join(unknown)}; the {kind} header is: "
                              f"{','.join(COLUMNS[kind])}.")
    missing = [c for c in REQUIRED[kind] if c not in columns]
    if missing:
        raise ImportFileError(f"Missing column(s) {', '.join(missing)}.")


def _read_csv(text: str, kind: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [c.strip() for c in (reader.fieldnames or [])]
    _check_header(columns, kind)
    reader.fieldnames = columns
    records = []
    for index, row in enumerate(reader, start=2):
        if None in row:  # more cells than header columns
            records.append((index, {"__error__": "More cells than columns in the header."}))
            continue
        records.append((index, {k: (v or "").strip() for k, v in row.items()}))
    return records


def _read_geojson(raw: bytes, kind: str) -> list[tuple[int, dict[str, str]]]:
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ImportFileError(f"Not a GeoJSON file: {exc}.") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise ImportFileError("Expected a GeoJSON FeatureCollection.")
    columns = set()
    records = []
    for index, feature in enumerate(doc["features"], start=1):
        props = (feature or {}).get("properties") or {}
        if not isinstance(props, dict):
            records.append((index, {"__error__": "properties is not an object."}))
            continue
        record = {k: "" if v is None else str(v).strip() if not isinstance(v, bool) else str(v).lower()
                  for k, v in props.items()}
        geometry = (feature or {}).get("geometry")
        if geometry:
            coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
            if geometry.get("type") != "Point" or not isinstance(coords, list) or len(coords) < 2:
                records.append((index, {"__error__": "geometry must be a GeoJSON Point [lon, lat]."}))
                continue
            record["lon"], record["lat"] = repr(coords[0]), repr(coords[1])
        columns |= set(record)
        records.append((index, record))
    _check_header(sorted(columns) or list(REQUIRED[kind]), kind)
    return records


# -- the batch loop -------------------------------------------------------------------------


def import_records(session: Session, kind: str, records: list[tuple[int, dict[str, str]]], report: Report,
                   *, batch_size: int = 500, within: str | None = None) -> Iterator[int]:
    """Import ``records`` of ``kind``; yields after each batch the rows it handled, for the caller to commit.

    ``report`` is filled as the batches go: created, updated, unchanged, and each rejected
    row with its reason. A bad row never stops the file. ``within``, a jurisdiction's path,
    limits the file to that area (an office's import, ``import_as``); the command line,
    run by the operator of the whole deployment, imports anywhere.
    """
    if kind not in KINDS:
        raise ValueError(kind)
    importer = {"enterprises": _EnterpriseRows, "units": _UnitRows, "persons": _PersonRows}[kind](session, within)
    for start in range(0, len(records), batch_size):
        batch = records[start:start + batch_size]
        _run_batch(session, importer, batch, report)
        yield len(batch)


def _run_batch(session: Session, importer, batch, report: Report) -> None:
    checked = []
    for row, record in batch:
        try:
            if "__error__" in record:
                raise RowError(record["__error__"])
            record = _visible_cells(record)
            checked.append((row, record, importer.check(row, record)))
        except RowError as exc:
            report.rejected.append(Rejected(row, importer.key(record), exc.reason))
    importer.prefetch([values for _, _, values in checked])
    mark, rejected_mark = sync.pending_count(session), len(report.rejected)
    outcomes: list[str] = []
    try:
        with session.begin_nested():
            for row, record, values in checked:
                try:
                    outcomes.append(importer.apply(dict(values)))
                except RowError as exc:
                    report.rejected.append(Rejected(row, importer.key(record), exc.reason))
            session.flush()
    except IntegrityError:
        # Something the checks could not see (a concurrent writer): replay the batch row by row.
        sync.forget_since(session, mark)
        del report.rejected[rejected_mark:]
        importer.forget()
        outcomes = []
        for row, record, values in checked:
            mark = sync.pending_count(session)
            try:
                with session.begin_nested():
                    importer.prefetch([values])
                    outcome = importer.apply(dict(values))
                    session.flush()
                outcomes.append(outcome)
            except (IntegrityError, RowError) as exc:
                sync.forget_since(session, mark)
                importer.forget()
                reason = exc.reason if isinstance(exc, RowError) else f"refused by the database: {exc.orig}"
                report.rejected.append(Rejected(row, importer.key(record), reason))
    for outcome in outcomes:
        setattr(report, outcome, getattr(report, outcome) + 1)
    report.rejected.sort(key=lambda r: r.row)


# -- enterprises ----------------------------------------------------------------------------


_ENTERPRISE_TEXT = {"address": 300, "contact_name": 100, "contact_phone": 32}


class _EnterpriseRows:
    def __init__(self, session: Session, within: str | None = None):
        self.session = session
        self.jurisdiction = _Jurisdictions(session, within)
        self.scoped = within is not None
        self.seen: dict[str, int] = {}
        self.existing: dict[str, Enterprise] = {}

    @staticmethod
    def key(record: dict) -> str:
        return record.get("credit_code", "")

    def check(self, row: int, record: dict) -> dict:
        try:
            code = checked_credit_code(_required(record, "credit_code"))
        except InvalidInput as exc:
            raise RowError(f"credit_code: {exc.detail}") from None
        name = _required(record, "name")
        if len(name) > 200:
            raise RowError("name: longer than 200 characters.")
        values = {"credit_code": code, "name": name, "jurisdiction_id": self.jurisdiction(record).id,
                  "location": _location(record)}
        values |= {column: _optional(record, column, limit) for column, limit in _ENTERPRISE_TEXT.items()}
        values |= {flag: _flag(record, flag) for flag in FLAGS}
        if code in self.seen:
            raise RowError(f"credit_code: the same code as row {self.seen[code]}.")
        self.seen[code] = row
        return values

    def prefetch(self, batch: list[dict]) -> None:
        codes = [v["credit_code"] for v in batch]
        rows = self.session.execute(select(Enterprise).where(
            Enterprise.credit_code.in_(codes), Enterprise.deleted_at.is_(None))).scalars()
        self.existing.update({e.credit_code: e for e in rows})

    def forget(self) -> None:
        self.existing.clear()

    def apply(self, values: dict) -> str:
        location = values.pop("location")
        enterprise = self.existing.get(values["credit_code"])
        if enterprise is not None and self.scoped and enterprise.jurisdiction_id not in self.jurisdiction.ids:
            # A credit code is national: another district's enterprise is neither changed nor moved from here.
            raise RowError("credit_code: registered by an office outside your area; ask it to change or hand it over.")
        if enterprise is None:
            enterprise = Enterprise(id=uuid.uuid4(), **values)
            place(enterprise, location)
            self.session.add(enterprise)
            self.existing[enterprise.credit_code] = enterprise
            sync.record(self.session, "enterprise", enterprise.id, enterprise.jurisdiction_id)
            return "created"
        changed = {k: v for k, v in values.items() if getattr(enterprise, k) != v}
        if not changed and same_place(enterprise, location):
            return "unchanged"
        before_jurisdiction = enterprise.jurisdiction_id
        for k, v in changed.items():
            setattr(enterprise, k, v)
        if not same_place(enterprise, location):
            place(enterprise, location)
        enterprise.updated_at = utcnow()
        sync.record(self.session, "enterprise", enterprise.id, [before_jurisdiction, enterprise.jurisdiction_id])
        if enterprise.jurisdiction_id != before_jurisdiction:
            self.session.flush()
            follow_enterprise(self.session, enterprise)
        return "updated"


def import_as(session: Session, user: User, kind: str, records: list[tuple[int, dict[str, str]]],
              *, batch_size: int = 500) -> Report:
    """An office admin's import (the console's form): within the admin's area, in this transaction.

    Other roles are refused: the directory is the admins' (docs/directory.md). A row naming a
    jurisdiction outside the area is rejected as unknown, an enterprise another office keeps is
    rejected as such; the rest of the file goes in.
    """
    if user.role is not Role.admin:
        raise NotAllowed("Only an administrator imports the directory.")
    if kind not in KINDS:
        raise InvalidInput("kind", f"One of {', '.join(KINDS)}.")
    report = Report()
    # One transaction, the request's (nothing to commit between batches): each batch is a savepoint,
    # a bad row costs only itself. The batches are run through to the end.
    deque(import_records(session, kind, records, report, batch_size=batch_size, within=user.jurisdiction.path),
          maxlen=0)
    return report


__all__ = ["KINDS", "COLUMNS", "REQUIRED", "Report", "Rejected", "ImportFileError", "read_file", "read_bytes",
           "import_records", "import_as"]
