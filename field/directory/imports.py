"""Bulk import of enterprises, units and persons from CSV or GeoJSON: idempotent, bad rows reported, good rows kept.

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
import json
import math
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from field.core import sync
from field import text
from .enterprises import FLAGS, checked_credit_code
from field.core.errors import DomainError, InvalidInput
from field.core.locations import GivenLocation, Location, place, same_place
from field.core.models.platform import Jurisdiction
from field.core.models.base import utcnow
from .models import Enterprise, Person, PersonRank, Unit, UnitKind
from .monitoring import follow_enterprise
from .units import check_parent_kind

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
#: Values a spreadsheet may hold for yes and no (Chinese offices type 是/否).
_YES = {"1", "true", "yes", "y", "t", "是", "√", "✓"}
_NO = {"", "0", "false", "no", "n", "f", "否"}
_UNIT_KINDS = {k.value: k for k in UnitKind} | {
    "部门": UnitKind.department, "政府部门": UnitKind.department, "公共服务企业": UnitKind.public_service,
    "公共服务单位": UnitKind.public_service, "科室": UnitKind.section, "窗口": UnitKind.window,
    "服务窗口": UnitKind.window}
_RANKS = {r.value: r for r in PersonRank} | {
    "处级": PersonRank.division, "科级": PersonRank.section, "科级以下": PersonRank.below_section}
#: Separates unit names in a ``parent`` or ``unit`` path: 区市场监管局/登记注册科.
PATH_SEPARATOR = "/"


class ImportFileError(DomainError):
    """The file as a whole cannot be read (format, header): nothing was imported."""


class RowError(Exception):
    """One row is refused; ``reason`` names the column."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


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
    raw = path.read_bytes()
    if path.suffix.lower() in (".geojson", ".json"):
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


# -- checking cells -------------------------------------------------------------------------


def _visible_cells(record: dict) -> dict:
    """Every cell through the text policy (field/text.py): one line of visible text, NFC."""
    cells = {}
    for column, value in record.items():
        if isinstance(value, str):
            try:
                value = text.line(value)
            except text.TextRefused as exc:
                raise RowError(f"{column}: {exc}") from None
        cells[column] = value
    return cells


def _required(record: dict, column: str) -> str:
    value = record.get(column, "")
    if not value:
        raise RowError(f"{column}: required.")
    return value


def _optional(record: dict, column: str, limit: int) -> str | None:
    value = record.get(column, "") or None
    if value is not None and len(value) > limit:
        raise RowError(f"{column}: longer than {limit} characters.")
    return value


def _flag(record: dict, column: str) -> bool:
    value = record.get(column, "").lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise RowError(f"{column}: {value!r} is not yes or no (1/0, true/false, 是/否).")


def _location(record: dict) -> Location | None:
    lon, lat = record.get("lon", ""), record.get("lat", "")
    if not lon and not lat:
        return None
    if not lon or not lat:
        raise RowError("lon/lat: give both or neither.")
    try:
        values = float(lon), float(lat)
        accuracy = float(record["accuracy_m"]) if record.get("accuracy_m") else None
    except ValueError:
        raise RowError("lon/lat/accuracy_m: not a number.") from None
    if not all(math.isfinite(v) for v in values):
        raise RowError("lon/lat: not a finite number.")
    try:
        return GivenLocation(values[0], values[1], record.get("crs") or "wgs84", accuracy).to_stored(field="",
                                                                                                   members={})
    except InvalidInput as exc:
        raise RowError(f"{exc.fields[0].field}: {exc.detail}") from None


class _Jurisdictions:
    """Jurisdiction codes of the file → rows, read once."""

    def __init__(self, session: Session):
        self.by_code = {j.code: j for j in session.execute(select(Jurisdiction)).scalars()}

    def __call__(self, record: dict) -> Jurisdiction:
        code = _required(record, "jurisdiction_code")
        if code not in self.by_code:
            raise RowError(f"jurisdiction_code: no jurisdiction {code}.")
        return self.by_code[code]


# -- the batch loop -------------------------------------------------------------------------


def import_records(session: Session, kind: str, records: list[tuple[int, dict[str, str]]], report: Report,
                   *, batch_size: int = 500) -> Iterator[int]:
    """Import ``records`` of ``kind``; yields after each batch the rows it handled, for the caller to commit.

    ``report`` is filled as the batches go: created, updated, unchanged, and each rejected
    row with its reason. A bad row never stops the file.
    """
    if kind not in KINDS:
        raise ValueError(kind)
    importer = {"enterprises": _EnterpriseRows, "units": _UnitRows, "persons": _PersonRows}[kind](session)
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
    def __init__(self, session: Session):
        self.session = session
        self.jurisdiction = _Jurisdictions(session)
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


# -- units and persons ----------------------------------------------------------------------


class _UnitTree:
    """The live units of each jurisdiction the file names, by (parent id, name); paths resolve through it."""

    def __init__(self, session: Session):
        self.session = session
        self.loaded: set[uuid.UUID] = set()
        self.by_key: dict[tuple[uuid.UUID, uuid.UUID | None, str], Unit] = {}

    def load(self, jurisdiction_id: uuid.UUID) -> None:
        if jurisdiction_id in self.loaded:
            return
        rows = self.session.execute(select(Unit).where(Unit.jurisdiction_id == jurisdiction_id,
                                                       Unit.deleted_at.is_(None))).scalars()
        for unit in rows:
            self.by_key[(jurisdiction_id, unit.parent_id, unit.name)] = unit
        self.loaded.add(jurisdiction_id)

    def resolve(self, jurisdiction_id: uuid.UUID, path: str, column: str) -> Unit:
        self.load(jurisdiction_id)
        unit = None
        for name in [p.strip() for p in path.split(PATH_SEPARATOR)]:
            unit = self.by_key.get((jurisdiction_id, unit.id if unit else None, name))
            if unit is None:
                raise RowError(f"{column}: no unit {path!r} in this jurisdiction (a parent must come "
                               "before its sections in the file).")
        return unit

    def add(self, unit: Unit) -> None:
        self.by_key[(unit.jurisdiction_id, unit.parent_id, unit.name)] = unit

    def forget(self) -> None:
        self.loaded.clear()
        self.by_key.clear()


class _UnitRows:
    def __init__(self, session: Session):
        self.session = session
        self.jurisdiction = _Jurisdictions(session)
        self.tree = _UnitTree(session)
        self.seen: set[tuple] = set()

    @staticmethod
    def key(record: dict) -> str:
        parent = record.get("parent", "")
        return f"{parent}{PATH_SEPARATOR}{record.get('name', '')}" if parent else record.get("name", "")

    def check(self, row: int, record: dict) -> dict:
        jurisdiction = self.jurisdiction(record)
        name = _required(record, "name")
        if PATH_SEPARATOR in name or len(name) > 200:
            raise RowError(f"name: at most 200 characters, without {PATH_SEPARATOR!r}.")
        kind = _UNIT_KINDS.get(_required(record, "kind").lower())
        if kind is None:
            raise RowError(f"kind: one of {', '.join(k.value for k in UnitKind)} (or 部门, 公共服务企业, 科室, 窗口).")
        key = (jurisdiction.id, record.get("parent", ""), name)
        if key in self.seen:
            raise RowError("name: the same unit appears earlier in the file.")
        self.seen.add(key)
        return {"jurisdiction_id": jurisdiction.id, "name": name, "kind": kind, "parent": record.get("parent", ""),
                "address": _optional(record, "address", 300), "location": _location(record)}

    def prefetch(self, batch: list[dict]) -> None:
        pass  # the tree loads a jurisdiction on first use

    def forget(self) -> None:
        self.tree.forget()

    def apply(self, values: dict) -> str:
        parent = self.tree.resolve(values["jurisdiction_id"], values["parent"], "parent") if values["parent"] else None
        try:
            check_parent_kind(values["kind"], parent)
        except InvalidInput as exc:
            raise RowError(f"parent: {exc.detail}") from None
        parent_id = parent.id if parent else None
        self.tree.load(values["jurisdiction_id"])
        unit = self.tree.by_key.get((values["jurisdiction_id"], parent_id, values["name"]))
        if unit is None:
            unit = Unit(id=uuid.uuid4(), jurisdiction_id=values["jurisdiction_id"], parent_id=parent_id,
                        name=values["name"], kind=values["kind"], address=values["address"])
            place(unit, values["location"])
            self.session.add(unit)
            self.tree.add(unit)
            sync.record(self.session, "unit", unit.id, unit.jurisdiction_id)
            return "created"
        if unit.kind == values["kind"] and unit.address == values["address"] and same_place(unit, values["location"]):
            return "unchanged"
        unit.kind, unit.address = values["kind"], values["address"]
        if not same_place(unit, values["location"]):
            place(unit, values["location"])
        unit.updated_at = utcnow()
        sync.record(self.session, "unit", unit.id, unit.jurisdiction_id)
        return "updated"


class _PersonRows:
    def __init__(self, session: Session):
        self.session = session
        self.jurisdiction = _Jurisdictions(session)
        self.tree = _UnitTree(session)
        self.people: dict[tuple[uuid.UUID, str], Person] = {}
        self.units_loaded: set[uuid.UUID] = set()
        self.seen: set[tuple] = set()

    @staticmethod
    def key(record: dict) -> str:
        return f"{record.get('unit', '')}{PATH_SEPARATOR}{record.get('name', '')}"

    def check(self, row: int, record: dict) -> dict:
        jurisdiction = self.jurisdiction(record)
        unit_path, name = _required(record, "unit"), _required(record, "name")
        if len(name) > 100:
            raise RowError("name: longer than 100 characters.")
        rank_text = record.get("rank", "")
        rank = _RANKS.get(rank_text.lower()) if rank_text else None
        if rank_text and rank is None:
            raise RowError("rank: one of division, section, below_section (or 处级, 科级, 科级以下).")
        key = (jurisdiction.id, unit_path, name)
        if key in self.seen:
            raise RowError("name: the same person appears earlier in the file.")
        self.seen.add(key)
        return {"jurisdiction_id": jurisdiction.id, "unit": unit_path, "name": name,
                "post": _optional(record, "post", 100), "rank": rank}

    def prefetch(self, batch: list[dict]) -> None:
        units = []
        for values in batch:
            try:
                units.append(self.tree.resolve(values["jurisdiction_id"], values["unit"], "unit").id)
            except RowError:
                pass  # reported when the row is applied
        unknown = set(units) - self.units_loaded
        if unknown:
            self.units_loaded |= unknown
            rows = self.session.execute(select(Person).where(Person.unit_id.in_(unknown),
                                                             Person.deleted_at.is_(None))).scalars()
            for person in rows:
                self.people[(person.unit_id, person.name)] = person

    def forget(self) -> None:
        self.tree.forget()
        self.people.clear()
        self.units_loaded.clear()

    def apply(self, values: dict) -> str:
        unit = self.tree.resolve(values["jurisdiction_id"], values["unit"], "unit")
        person = self.people.get((unit.id, values["name"]))
        if person is None:
            person = Person(id=uuid.uuid4(), unit_id=unit.id, jurisdiction_id=unit.jurisdiction_id,
                            name=values["name"], post=values["post"], rank=values["rank"])
            self.session.add(person)
            self.people[(unit.id, person.name)] = person
            sync.record(self.session, "person", person.id, person.jurisdiction_id)
            return "created"
        if person.post == values["post"] and person.rank == values["rank"]:
            return "unchanged"
        person.post, person.rank, person.updated_at = values["post"], values["rank"], utcnow()
        sync.record(self.session, "person", person.id, person.jurisdiction_id)
        return "updated"


__all__ = ["KINDS", "COLUMNS", "REQUIRED", "Report", "Rejected", "ImportFileError", "read_file", "import_records"]
