"""The authorization matrix's side of the record-kind seam: a kind's rows come with the kind's own tests.

The kinds written before the seam have their rows in tests/authz_policy.py and their objects in
tests/authz_world.py. Every other kind registered in field/records/kinds.py brings its share in
its own API test module, ``tests/api/test_<path>_api.py`` (``hazard-notes`` →
test_hazard_notes_api.py), as ``AUTHZ = KindAuthz(...)``: its policy rows, its lists' id
parameters, how the world gets its objects (one per relation) and a valid request per operation.
The matrix reads them from here; a registered kind without them fails the matrix's first test
("operations the policy does not mention"), naming its operations. The test module imports
nothing of authz_policy or authz_world at its top (they read it while they load); its ``build``
imports what it needs from authz_world when it runs.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

from field.records import kinds

#: Areas that are no record kind but bring their share the same way, from ``tests/api/test_<area>_api.py``.
AREAS = ("complaints",)
#: The kinds whose rows and objects are written in tests/authz_policy.py and tests/authz_world.py.
BUILT_IN = frozenset({"filing", "inspection", "report", "leader_visit", "visit", "finding", "callback"})


@dataclass(frozen=True)
class KindAuthz:
    #: operation ("GET /api/v1/<path>/{<id_param>}") → its six cells, as tests/authz_policy.py's ``row``
    #: takes them: admin, reviewer, inspector, squad_member, liaison, leader.
    policy: dict[str, tuple[str, str, str, str, str, str]]
    #: list operation → the path parameter its objects are checked by.
    listed: dict[str, str] = field(default_factory=dict)
    #: ``build(builder)``: adds the kind's objects to ``builder.w`` (ids per relation), in ``builder.s``.
    build: Callable[[Any], None] | None = None
    #: (method, path) → ``make(world, role, relation)`` → the request's keyword arguments.
    requests: dict[tuple[str, str], Callable] = field(default_factory=dict)


def contributions() -> dict[str, KindAuthz]:
    """Every registered kind's share beyond the built-in ones, from its API test module."""
    found = {}
    for kind in kinds.kinds():
        if kind.name in BUILT_IN:
            continue
        try:
            module = importlib.import_module(f"tests.api.test_{kind.path.replace('-', '_')}_api")
        except ModuleNotFoundError:
            continue  # the policy test names the kind's operations
        authz = getattr(module, "AUTHZ", None)
        if authz is not None:
            found[kind.name] = authz
    for area in AREAS:
        found[area] = importlib.import_module(f"tests.api.test_{area}_api").AUTHZ
    return found
