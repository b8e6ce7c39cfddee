"""Compulsory measures (行政强制措施): requested by an inspector, approved or rejected by the office, taken
at most once in an inspection record."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from field.core.pages import keyed
from field.core.errors import Conflict, FieldProblem, InvalidInput, InvalidTransition, NotAllowed
from field.core.models.base import utcnow
from field.core.models.platform import OFFICE_ROLES, User
from field.core.scope import get_one
from field.core.scoped import clean
from field.custody import chain as custody
from field.directory.models import Enterprise, Unit
from field.records import lifecycle as records
from field.core.queries import narrowed

from .inspectors import _require_reader, _require_unit, _resolve_enterprise, _unit_visible, _visible_filing
from .models import ApprovalState, CompulsoryMeasure, CompulsoryMeasureApproval, InspectionRecord
from .policy import POLICY


def _log_measure(session: Session, approval: CompulsoryMeasureApproval, kind: str, actor: User | None,
                 **data) -> None:
    custody.record(session, jurisdiction_id=approval.jurisdiction_id, kind=kind, subject_type="compulsory_measure",
                   subject_id=approval.id, actor=actor,
                   data={"measure": approval.measure.value, "state": approval.state.value,
                         "enterprise_id": str(approval.enterprise_id), **data})


def request_measure(session: Session, user: User, *, enterprise_id: uuid.UUID, measure: CompulsoryMeasure | str,
                    reason: str, filing_id: uuid.UUID | None = None) -> CompulsoryMeasureApproval:
    """An inspector asks the office to approve a compulsory measure against one enterprise."""
    unit = _require_unit(session, user)
    enterprise = _resolve_enterprise(session, user, enterprise_id, "enterprise_id")
    if filing_id is not None:
        filing = _visible_filing(session, user, filing_id)
        if filing is None or filing.unit_id != unit.id:
            raise InvalidInput("filing_id", "No such filing of your unit.")
        if enterprise.id not in {e.id for e in filing.enterprises}:
            raise InvalidInput("enterprise_id", "The filing does not name this enterprise.")
    approval = CompulsoryMeasureApproval(
        jurisdiction_id=unit.jurisdiction_id, unit_id=unit.id, unit=unit, enterprise_id=enterprise.id,
        enterprise=enterprise, filing_id=filing_id, measure=CompulsoryMeasure(measure), reason=reason.strip(),
        state=ApprovalState.requested, requested_by_id=user.id, requested_by=user)
    session.add(approval)
    session.flush()
    _log_measure(session, approval, "measure.requested", user)
    return approval


def decide_measure(session: Session, actor: User, approval: CompulsoryMeasureApproval,
                   state: ApprovalState | str, note: str | None) -> CompulsoryMeasureApproval:
    """Office staff approve or reject a requested measure, once; a rejection says why."""
    if actor.role not in OFFICE_ROLES:
        raise NotAllowed("Only office staff approve compulsory measures.")
    state = ApprovalState(state)
    if state is ApprovalState.requested:
        raise InvalidInput("state", "Decide: approved or rejected.")
    if approval.state is not ApprovalState.requested:
        raise InvalidTransition(approval.state.value, state.value, [])
    note = clean(note)
    if state is ApprovalState.rejected and note is None:
        raise InvalidInput("note", "Say why the measure is rejected.")
    approval.state, approval.decision_note = state, note
    approval.decided_by_id, approval.decided_by, approval.decided_at = actor.id, actor, utcnow()
    session.flush()
    _log_measure(session, approval, f"measure.{state.value}", actor)
    return approval


def _visible_measures(user: User) -> ColumnElement[bool]:
    return _unit_visible(user, CompulsoryMeasureApproval.jurisdiction_id, CompulsoryMeasureApproval.unit_id,
                         CompulsoryMeasureApproval.requested_by_id)


def get_measure(session: Session, user: User, measure_id: uuid.UUID, *,
                action: str | None = None) -> CompulsoryMeasureApproval:
    """One request the user may see; ``action``: what they will do with it, checked before it is looked for."""
    POLICY.require(user, action)
    _require_reader(user)
    return get_one(session, CompulsoryMeasureApproval, measure_id, "compulsory measure", _visible_measures(user))


@keyed(CompulsoryMeasureApproval.created_at, CompulsoryMeasureApproval.id, descending=True)
def measures_query(user: User, *, state: ApprovalState | None = None, enterprise_id: uuid.UUID | None = None,
                   filing_id: uuid.UUID | None = None) -> Select:
    _require_reader(user)
    stmt = select(CompulsoryMeasureApproval).where(_visible_measures(user))
    stmt = narrowed(stmt, (CompulsoryMeasureApproval.state, state),
                    (CompulsoryMeasureApproval.enterprise_id, enterprise_id),
                    (CompulsoryMeasureApproval.filing_id, filing_id))
    return stmt


def _approval_taken(session: Session, user: User, unit: Unit, enterprise: Enterprise, approval_id: uuid.UUID,
                    record_id: uuid.UUID) -> CompulsoryMeasureApproval:
    """The approval an inspection records as taken: the unit's, for this enterprise, approved, not used elsewhere."""
    approval = session.execute(select(CompulsoryMeasureApproval).where(
        CompulsoryMeasureApproval.id == approval_id, _visible_measures(user))).scalar_one_or_none()
    if approval is None or approval.unit_id != unit.id:
        raise InvalidInput("compulsory_measure_id", "No such compulsory measure request of your unit.")
    if approval.enterprise_id != enterprise.id:
        raise InvalidInput("compulsory_measure_id", f"This measure was requested for {approval.enterprise.name}, "
                                                    f"not {enterprise.name}.")
    if approval.state is not ApprovalState.approved:
        raise Conflict(
            f"The {approval.measure.value} measure {approval.id} is {approval.state.value}, not approved: a "
            "compulsory measure is recorded as taken only after the office approved it.",
            fields=[FieldProblem("compulsory_measure_id",
                                 f"The {approval.measure.value} measure is {approval.state.value}, not approved.")],
            measure=approval.measure.value, measure_id=str(approval.id), measure_state=approval.state.value)
    taken_in = session.execute(select(InspectionRecord.id).where(
        InspectionRecord.compulsory_measure_id == approval.id, InspectionRecord.id != record_id)).scalar()
    if taken_in is not None:
        raise Conflict(
            f"The {approval.measure.value} measure {approval.id} is already recorded as taken in inspection "
            f"{taken_in}; each approval is taken once.",
            fields=[FieldProblem("compulsory_measure_id", "Already recorded as taken in another inspection.")],
            measure=approval.measure.value, measure_id=str(approval.id), taken_in=str(taken_in))
    return approval
