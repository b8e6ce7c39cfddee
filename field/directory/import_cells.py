"""One cell of an import row, checked: visible text (the text policy), required and optional text, yes/no
flags, a position in any CRS, a jurisdiction by its code. A bad cell is a ``RowError`` naming its column:
the row is refused, not the file."""

from __future__ import annotations

import math

from sqlalchemy import select
from sqlalchemy.orm import Session

from field.core import text
from field.core.errors import InvalidInput
from field.core.locations import GivenLocation, Location
from field.core.models.platform import Jurisdiction

from .models import PersonRank, UnitKind


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


class RowError(Exception):
    """One row is refused; ``reason`` names the column."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _visible_cells(record: dict) -> dict:
    """Every cell through the text policy (field/core/text.py): one line of visible text, NFC."""
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

    def __init__(self, session: Session, within: str | None = None):
        query = select(Jurisdiction)
        if within is not None:  # an office's import: its own area only; a code outside it is unknown
            query = query.where(Jurisdiction.path.startswith(within, autoescape=True))
        self.by_code = {j.code: j for j in session.execute(query).scalars()}
        self.ids = {j.id for j in self.by_code.values()}

    def __call__(self, record: dict) -> Jurisdiction:
        code = _required(record, "jurisdiction_code")
        if code not in self.by_code:
            raise RowError(f"jurisdiction_code: no jurisdiction {code}.")
        return self.by_code[code]
