"""The four-ones ledger (四个一) of each official, and the enterprises' outcomes the office tracks per period."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from field.core.errors import InvalidInput
from field.core.models.platform import OFFICE_ROLES, User
from field.core.scope import in_scope
from field.directory.models import Enterprise

from .models import EnterpriseOutcome, FourOnesEntry, KeyProject, OneKind
from .policy import require


def ledger_query(actor: User, *, official_id: uuid.UUID | None = None, year: int | None = None) -> Select:
    """Office staff: every official's in scope; anyone else: their own."""
    stmt = select(FourOnesEntry).where(in_scope(FourOnesEntry.jurisdiction_id, actor))
    if actor.role not in OFFICE_ROLES:
        stmt = stmt.where(FourOnesEntry.official_id == actor.id)
    if official_id is not None:
        stmt = stmt.where(FourOnesEntry.official_id == official_id)
    if year is not None:
        stmt = stmt.where(FourOnesEntry.year == year)
    return stmt


def add_entry(session: Session, actor: User, *, year: int, kind: OneKind, note: str,
              project_id: uuid.UUID | None = None, enterprise_id: uuid.UUID | None = None) -> FourOnesEntry:
    """An official writes a line of their own ledger: the project (plan, negotiate, serve) or enterprise (touch)."""
    kind = OneKind(kind)
    if not note.strip():
        raise InvalidInput("note", "Required.")
    if kind is OneKind.touch:
        if enterprise_id is None or session.execute(select(Enterprise.id).where(
                Enterprise.id == enterprise_id, in_scope(Enterprise.jurisdiction_id, actor))).first() is None:
            raise InvalidInput("enterprise_id", "No such enterprise: keeping in touch names one.")
        project_id = None
    else:
        if project_id is None or session.execute(select(KeyProject.id).where(
                KeyProject.id == project_id, in_scope(KeyProject.jurisdiction_id, actor))).first() is None:
            raise InvalidInput("project_id", "No such key project.")
    entry = FourOnesEntry(jurisdiction_id=actor.jurisdiction_id, official_id=actor.id, year=year, kind=kind,
                          project_id=project_id, enterprise_id=enterprise_id, note=note.strip())
    session.add(entry)
    session.flush()
    return entry


def outcomes_query(actor: User, *, enterprise_id: uuid.UUID | None = None) -> Select:
    require(actor, "figures")
    stmt = select(EnterpriseOutcome).where(in_scope(EnterpriseOutcome.jurisdiction_id, actor))
    if enterprise_id is not None:
        stmt = stmt.where(EnterpriseOutcome.enterprise_id == enterprise_id)
    return stmt


def record_outcome(session: Session, actor: User, *, enterprise_id: uuid.UUID, period_start: date, period_end: date,
                   output_growth_pct=None, loss_reduced_10k=None) -> EnterpriseOutcome:
    require(actor, "figures")
    enterprise = session.execute(select(Enterprise).where(Enterprise.id == enterprise_id,
                                                          in_scope(Enterprise.jurisdiction_id, actor))
                                 ).scalar_one_or_none()
    if enterprise is None:
        raise InvalidInput("enterprise_id", "No such enterprise.")
    if period_end < period_start:
        raise InvalidInput("period_end", "Ends before it starts.")
    if output_growth_pct is None and loss_reduced_10k is None:
        raise InvalidInput("output_growth_pct", "Give the output growth, the loss reduced, or both.")
    row = EnterpriseOutcome(jurisdiction_id=enterprise.jurisdiction_id, enterprise_id=enterprise.id,
                            period_start=period_start, period_end=period_end, output_growth_pct=output_growth_pct,
                            loss_reduced_10k=loss_reduced_10k, entered_by_id=actor.id)
    session.add(row)
    session.flush()
    return row
