"""CSV of events, for approval systems that can only export: the push's columns, one event a row."""

from __future__ import annotations

import csv
import io

from field.core.errors import InvalidInput

COLUMNS = ("case_number", "seq", "type", "at", "matter_code", "applicant", "key_project_id", "step", "step_name",
           "unit_id", "parallel_group", "outcome", "reason", "notice_kind", "handler_name", "issued_on")
REQUIRED = ("case_number", "seq", "type", "at")
_INTEGERS = ("seq", "parallel_group")
MAX_CSV_BYTES = 8 * 1024 * 1024
MAX_ROWS = 1000


def _text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput("file", "Not UTF-8 or GB18030 text.")


def read_events(data: bytes) -> list[dict]:
    """The rows as event dicts (empty cells left out; whole numbers as numbers), for the push's schema."""
    reader = csv.DictReader(io.StringIO(_text(data)))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InvalidInput("file", f"The header lacks {', '.join(missing)}; columns: {', '.join(COLUMNS)}.")
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise InvalidInput("file", f"Unknown columns {', '.join(unknown)}; columns: {', '.join(COLUMNS)}.")
    reader.fieldnames = header
    rows = []
    for i, row in enumerate(reader):
        if len(rows) >= MAX_ROWS:
            raise InvalidInput("file", f"At most {MAX_ROWS} rows per file.")
        event = {}
        for key, value in row.items():
            if key is None or value is None or not value.strip():
                continue
            value = value.strip()
            if key in _INTEGERS:
                if not value.isdigit():
                    raise InvalidInput(f"rows.{i}.{key}", "A whole number.")
                value = int(value)
            event[key] = value
        rows.append(event)
    return rows
