"""The office's file of completed service cases (办件), read: UTF-8 with or without BOM or GB18030, the
documented header, one row per case with its row number, every cell visible text (the text policy); a unit
named by path or by a unique name."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from field.core import text
from field.core.errors import InvalidInput
from field.core.models.platform import Jurisdiction
from field.core.scope import subtree
from field.core.scoped import live
from field.directory.models import Unit


#: The documented header, in order; ``applicant_name`` is the only optional column.
COLUMNS = ("case_no", "unit", "service", "completed_on", "applicant_name", "applicant_contact")


REQUIRED = ("case_no", "unit", "service", "completed_on", "applicant_contact")


LIMITS = {"case_no": 64, "unit": 300, "service": 300, "applicant_name": 100, "applicant_contact": 100}


#: Largest CSV accepted (a district's year is a few thousand rows, well under 1 MB).
MAX_CSV_BYTES = 10 * 1024 * 1024


MAX_ROWS = 100_000


_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            raise InvalidInput("_body", "The file is neither UTF-8 nor GB18030 text.") from None


def read_cases(raw: bytes) -> list[tuple[int, dict[str, str]]]:
    """(row, {column: text}) for each data row; rows numbered as a spreadsheet shows them."""
    if len(raw) > MAX_CSV_BYTES:
        raise InvalidInput("_body", f"The file is over {MAX_CSV_BYTES} bytes; split it.")
    reader = csv.DictReader(io.StringIO(_text(raw), newline=""))
    try:
        columns = [c.strip() for c in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise InvalidInput("_body", f"Not a CSV file: {exc}.") from None
    unknown = [c for c in columns if c not in COLUMNS]
    missing = [c for c in REQUIRED if c not in columns]
    if unknown or missing:
        problems = ([f"unknown column(s) {', '.join(unknown)}"] if unknown else []) + \
                   ([f"missing column(s) {', '.join(missing)}"] if missing else [])
        raise InvalidInput("_body", f"The header has {'; '.join(problems)}. It is: {','.join(COLUMNS)} "
                                    "(applicant_name may be left out).")
    reader.fieldnames = columns
    rows = []
    try:
        for index, row in enumerate(reader, start=2):
            if len(rows) >= MAX_ROWS:
                raise InvalidInput("_body", f"More than {MAX_ROWS} rows; split the file.")
            if None in row:
                rows.append((index, {"__error__": "More cells than columns in the header."}))
            else:
                rows.append((index, {k: (v or "").strip() for k, v in row.items()}))
    except csv.Error as exc:
        raise InvalidInput("_body", f"The CSV is malformed near row {reader.line_num}: {exc}.") from None
    return rows


def _visible_cells(record: dict[str, str]) -> dict[str, str]:
    """Every cell through the text policy (field/core/text.py): one line of visible text, NFC."""
    cells = {}
    for column, value in record.items():
        try:
            cells[column] = text.line(value)
        except text.TextRefused as exc:
            raise ValueError(f"{column}: {exc}") from None
    return cells


def _completed_on(value: str) -> date:
    """2026-05-03, 2026/5/3 (Excel on a Chinese Windows) or 2026年5月3日."""
    match = _DATE.match(value)
    try:
        if match is None:
            raise ValueError(value)
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise ValueError(f"completed_on: {value!r} is not a date (2026-05-03).") from None


class _UnitIndex:
    """The jurisdiction's live units by full path (区市场监管局/登记注册科) and by name."""

    def __init__(self, session: Session, jurisdiction: Jurisdiction):
        rows = session.execute(select(Unit.id, Unit.name, Unit.parent_id).where(
            live(Unit), Unit.jurisdiction_id.in_(subtree(jurisdiction.path)))).all()
        by_id = {r.id: r for r in rows}
        self.by_path: dict[str, uuid.UUID] = {}
        self.by_name: dict[str, list[uuid.UUID]] = {}
        for r in rows:
            names, current = [], r
            while current is not None:
                names.append(current.name)
                current = by_id.get(current.parent_id) if current.parent_id else None
            self.by_path["/".join(reversed(names))] = r.id
            self.by_name.setdefault(r.name, []).append(r.id)

    def find(self, text: str) -> uuid.UUID | None:
        if "/" in text:
            return self.by_path.get("/".join(part.strip() for part in text.split("/")))
        named = self.by_name.get(text, [])
        return named[0] if len(named) == 1 else None
