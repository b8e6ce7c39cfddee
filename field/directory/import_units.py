"""Units (keyed by jurisdiction, parent path and name; parents before their sections) and persons (keyed by
unit path and name) from an import file."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from field.core import sync
from field.core.errors import InvalidInput
from field.core.locations import place, same_place
from field.core.models.base import utcnow

from .import_cells import PATH_SEPARATOR, RowError, _Jurisdictions, _RANKS, _UNIT_KINDS, _location, _optional, _required
from .models import Person, Unit, UnitKind
from .units import check_parent_kind


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
    def __init__(self, session: Session, within: str | None = None):
        self.session = session
        self.jurisdiction = _Jurisdictions(session, within)
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
    def __init__(self, session: Session, within: str | None = None):
        self.session = session
        self.jurisdiction = _Jurisdictions(session, within)
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
