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
    #: Roles that see the item (None: every office role).
    roles: frozenset[str] | None = None

    def shown_to(self, user) -> bool:
        return self.roles is None or (user is not None and user.role.value in self.roles)


NAV: list[NavItem] = [
    NavItem("console.queue", _l("Review queue"), ("console.queue", "console.record")),
    NavItem("console.case_board_page", _l("Cases"), ("console.case_board_page", "console.case_page")),
    NavItem("console.map_page", _l("Map"), ("console.map_page",)),
    NavItem("console.figures_page", _l("Figures"), ("console.figures_page",)),
    NavItem("console.directory_page", _l("Directory"), ("console.directory_page",)),
    NavItem("console.calendar_page", _l("Calendar"), ("console.calendar_page",)),
    NavItem("console.people", _l("People"), ("console.people", "console.person", "console.enroll"),
            frozenset({"admin"})),
]
