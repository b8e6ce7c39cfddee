"""The directory as a whole: what every field record points at (design: docs/directory.md).

The verbs live in one module per entity, each with the same shape (create, update,
delete, get, a scoped query, a page, a sync loader):

- ``field.units``: units (a tree of departments, public-service companies, sections,
  windows) and persons (their staff);
- ``field.enterprises``: enterprises, keyed by credit code;
- ``field.monitoring``: monitoring points and ``visible_points``, the covert rule;
- ``field.squads``: squads, member codes, identities and the audited unmask;
- ``field.sync``: the change log and the delta feed; ``field.imports``: bulk files.

This module answers questions about the whole directory.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import enterprises, monitoring, squads, units
from field.core.models.platform import User
from .models import Enterprise, Person, Unit


def counts(session: Session, user: User) -> dict:
    """How many of each entity the user may see: covert points count only for those who may know them."""
    def count(stmt):
        return session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()

    return {
        "units": count(units.units_query(user).with_only_columns(Unit.id)),
        "persons": count(units.persons_query(user).with_only_columns(Person.id)),
        "enterprises": count(enterprises.enterprises_query(user).with_only_columns(Enterprise.id)),
        "monitoring_points": monitoring.count_points(session, user),
        "squads": squads.count_squads(session, user),
    }
