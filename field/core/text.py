"""The one input policy for text: what a name, code, title or free text may hold (docs/api.md, "Text").

Two kinds, applied by the schemas' ``Line`` and ``Text`` fields (schemas/common.py) to every
text field of every request body, and by the few imports that take text from files:

- a line (names, codes, titles, labels, phone numbers): NFC; trimmed; no control character
  (Cc, tab and newline included), no format character (Cf: the bidi controls U+061C,
  U+200E/F, U+202A–202E, U+2066–2069, the zero-width characters U+200B–200D, U+2060, U+FEFF,
  the soft hyphen …), no line or paragraph separator, no lone surrogate;
- a text (comments, descriptions, notes, reasons): NFC; line breaks written ``\\n`` (CR LF, CR,
  U+2028 and U+2029 become LF); trimmed; no control character but newline and tab, no bidi
  embedding, override or isolate (U+202A–202E, U+2066–2069), no lone surrogate.

Why a text keeps the other format characters: people paste free text from chat apps and
documents, where zero-width joiners (emoji, Persian and Uyghur script) and the implicit
direction marks are ordinary; refusing them would refuse honest text. The embeddings,
overrides and isolates are refused everywhere: they reorder what a reader sees ("Trojan
Source"), in the console, in a CSV opened in a spreadsheet, in a printed notice. Nothing in a
line needs any of it, and an invisible character there would let two names look the same.
Whether a value may be empty after trimming is the field's business (``blank``).
"""

from __future__ import annotations

import re
import unicodedata

#: Reorder the text around them: refused in every kind of text.
BIDI_EMBEDDINGS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: The implicit direction marks (ALM, LRM, RLM): format characters, refused in lines.
BIDI_MARKS = frozenset("\u061c\u200e\u200f")
#: Zero-width characters (ZWSP, ZWNJ, ZWJ, word joiner, BOM): format characters, refused in lines.
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")

_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029]")


class TextRefused(ValueError):
    """A value the policy refuses; the message names the character, never repeats the value."""


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" ({name})" if name else "")


def line(value: str) -> str:
    """A single line as stored: NFC, trimmed; raises ``TextRefused`` on an invisible or control character."""
    value = unicodedata.normalize("NFC", value).strip()
    for ch in value:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            kind = {"Cc": "a control character", "Cf": "an invisible formatting character",
                    "Cs": "a lone surrogate"}.get(category, "a line break")
            raise TextRefused(f"Contains {_describe(ch)}, {kind}: names, codes and titles are one line of "
                              "visible text.")
    return value


def multiline(value: str) -> str:
    """Free text as stored: NFC, ``\\n`` line breaks, trimmed; raises ``TextRefused`` on a control
    character other than newline and tab, on a bidi embedding, override or isolate."""
    value = _LINE_BREAKS.sub("\n", unicodedata.normalize("NFC", value)).strip()
    for ch in value:
        category = unicodedata.category(ch)
        if (category == "Cc" and ch not in "\n\t") or category == "Cs":
            raise TextRefused(f"Contains {_describe(ch)}, a control character: only newline and tab are "
                              "allowed in text.")
        if ch in BIDI_EMBEDDINGS:
            raise TextRefused(f"Contains {_describe(ch)}, a bidi control that reorders what is shown: "
                              "write the text in reading order.")
    return value
