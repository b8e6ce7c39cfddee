"""CSV for the office's spreadsheets, the one writer: UTF-8 with a byte-order mark (Excel reads BOM-less
UTF-8 as the local ANSI code page and garbles Chinese), CRLF line ends (RFC 4180), and cells a
spreadsheet would run as a formula (``= + - @``) prefixed with ``'``. Written one chunk per batch of
rows, so an export of any size holds one batch in memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value) -> str:
    """A CSV cell a spreadsheet shows as text and never runs as a formula."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_START) and not _is_number(text):
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
