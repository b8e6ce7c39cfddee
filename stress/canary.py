"""The canary scanner: finds a planted marker or phone number in bytes, however a response encodes it."""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

_JSON_ESCAPE = re.compile(rb"\\u([0-9a-fA-F]{4})")
#: What may stand between the digits of a phone number written for people: spaces, dashes, dots, brackets.
_PHONE_SEPARATOR = rb"[\s\-.()/\xc2\xa0]{0,3}"


class Scanner:
    """Looks for ``marker`` (case-insensitive; raw, percent-encoded or JSON-\\u-escaped) and for
    ``phone`` (its digits with or without separators, with or without +86)."""

    def __init__(self, marker: str, *phones: str):
        self.marker = marker.lower().encode()
        self.phones = [re.compile(_PHONE_SEPARATOR.join(re.escape(d.encode()) for d in p if d.isdigit()))
                       for p in phones]

    def views(self, data: bytes) -> dict[str, bytes]:
        """The bytes as sent, percent-decoded and JSON-unescaped (each lowercased)."""
        def unescape(m: re.Match) -> bytes:
            return chr(int(m.group(1), 16)).encode("utf-8", "surrogatepass")

        return {"raw": data.lower(), "percent-decoded": unquote_to_bytes(data).lower(),
                "json-unescaped": _JSON_ESCAPE.sub(unescape, data).lower()}

    def find(self, data: bytes, *, where: str = "") -> list[str]:
        hits = []
        for view, text in self.views(data).items():
            at = text.find(self.marker)
            if at >= 0:
                hits.append(f"marker ({view}) in {where} at {at}: {text[max(0, at - 60):at + 60]!r}")
                break
        for phone in self.phones:
            for view, text in self.views(data).items():
                m = phone.search(text)
                if m:
                    hits.append(f"phone ({view}) in {where} at {m.start()}: "
                                f"{text[max(0, m.start() - 60):m.end() + 20]!r}")
                    break
        return hits
