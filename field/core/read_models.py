"""Read models: what the domain computes for a view, beside the row it is about.

A view that shows a row and something computed from it (a case with its evidence and the gates
still missing, a sample with the cases it drew, a device that is the caller's own) gets a frozen
dataclass built by the domain, never attributes hung on the ORM object. ``Beside`` lets the
dataclass read the row's own columns through, so a schema serialises the view as it would the row.
"""

from __future__ import annotations


class Beside:
    """Mixin for a read model dataclass: attributes it does not hold are the row's (``__row__`` names it)."""

    __row__ = "row"

    def __getattr__(self, name: str):
        # Only reached for names the dataclass does not hold itself.
        if name.startswith("__") or name == type(self).__row__:
            raise AttributeError(name)
        return getattr(getattr(self, type(self).__row__), name)
