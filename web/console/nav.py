"""The console's navigation: only pages that exist are listed; each later page adds its line here."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object
    #: Endpoints that light this item up (the page's own, and those below it).
    active_for: tuple[str, ...]


NAV: list[NavItem] = [
    NavItem("console.queue", _l("Review queue"), ("console.queue", "console.record")),
    # Later stages: cases, map, figures, directory, calendar — listed when their pages exist.
]
