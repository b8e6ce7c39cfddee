"""CSV for the office's spreadsheets, the one writer: UTF-8 with a byte-order mark (Excel reads BOM-less
UTF-8 as the local ANSI code page and garbles Chinese), CRLF line ends (RFC 4180), and cells a
spreadsheet would run as a formula (``= + - @``) prefixed with ``'``. Written one chunk per batch of
rows, so an export of any size holds one batch in memory."""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Iterable, Iterator, Sequence

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value, *, defuse_formulas: bool = True) -> str:
    """A CSV cell a spreadsheet shows as text and never runs as a formula: the one cell writer of
    every CSV export (cases, findings, reports, enterprises, figures).

    An enum is written as its value, as the API and GeoJSON write it: str() of our
    ``(str, Enum)`` members is their name (``Severity.minor``), not the code (``minor``).
    ``defuse_formulas=False`` is for a file read back by an import, which takes text as written.
    """
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        value = value.value
    text = str(value)
    if defuse_formulas and text.startswith(_FORMULA_START) and not _is_number(text):
        return "'" + text  # a spreadsheet must show it, not run it
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_chunks(header: Sequence[str], batches: Iterable[Iterable[Sequence]]) -> Iterator[bytes]:
    """The BOM and the header as the first chunk, then each batch of rows as one chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    for rows in batches:
        buffer.seek(0)
        buffer.truncate()
        for row in rows:
            writer.writerow([spreadsheet_cell(value) for value in row])
        yield buffer.getvalue().encode("utf-8")
