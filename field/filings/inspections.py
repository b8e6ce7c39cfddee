"""Enterprise-inspection filings (涉企检查备案), compulsory-measure approvals and on-site inspection records.

Design (docs/inspections.md has the long form).

Models (field/models/inspections.py):

- ``InspectorUnit``: which unit (a department or one of its sections) an inspector works
  for; one row per inspector, set by an admin. Filings, records and measure requests are
  made for the inspector's unit at the time the server receives them.
- ``InspectionFiling`` (FieldRecord kind ``filing``): the unit's planned inspection of one
  or more enterprises, of kind ``annual_plan``, ``ad_hoc`` or ``statutory_exempt``, with
  purpose, legal basis (and, when exempt, the basis of the exemption), the planned window
  and the unit's inspectors. Approval is the generic review: ``accepted`` is approved,
  ``rejected`` rejected, with the reviewer's note in the thread.
- ``CompulsoryMeasureApproval``: an office-side object, not a phone record. A compulsory
  measure (行政强制措施: sealing, seizure, freezing, other) planned in a filing or requested
  on its own, for one enterprise; ``requested`` → ``approved`` | ``rejected`` by office
  staff, with who, when and a note. One approval is recorded as taken at most once.
- ``InspectionRecord`` (FieldRecord kind ``inspection``): the on-site check-in (location in
  WGS-84 with accuracy, device time), the enterprise, the filing the phone names (may be
  none), what was checked and found, and the measure: none, order_to_rectify,
  first_violation_exemption (首违免罚), warning, fine (exact yuan, Numeric(12,2)) or
  compulsory_measure (an approved approval of the same unit and enterprise). Measure and
  fine are plain columns so figures (issue 6) can count and sum them per enterprise and
  period; ``inspected_on`` is the day of the inspection in Asia/Shanghai.

Rules:

- Ad-hoc filings must be made 5 working days ahead: the window may start on
  ``calendar_for(unit's jurisdiction).earliest_date_after_notice(filed_on, 5)`` or later,
  else 422 on ``planned_start`` with ``earliest`` in the problem. ``filed_on`` is the
  server's date in Asia/Shanghai when the filing is received: a phone's clock cannot
  backdate a filing, and a filing that waited offline counts from its arrival.
- Annual-plan filings (filed at the start of the year in the campaigns) are not held to the
  5-day rule. Chosen: they may be filed at any time, but a plan is for the future: the window
  may not start before the filing day, and it lies within one calendar year.
- Statutory-exempt filings (safety production and the like) need no prior approval and no
  notice, but are still filed, at the latest on the day the window starts (an emergency
  inspection is filed the same day); they cover inspections unless the office rejects them.
- No window is longer than 366 days or ends before it starts.
- ``approved_filing_covering`` is THE matching rule, also used for the contact-point
  engineer's enforcement-visit reports: an accepted filing, or a statutory-exempt one not
  rejected, of that unit (any unit when None) naming the enterprise, whose window contains
  the day.
- An inspection record's coverage is judged when it arrives (and when it is amended): the
  filing the phone names if that one covers, otherwise any covering filing of the unit;
  none sets ``flag_unfiled``. Because an approval can come after the record (the office
  reviews late), every transaction that changes a filing re-judges, when it commits, the
  records the filing could cover or did cover (``register_coverage_recheck`` lets other
  record kinds take part). Each change of coverage is a custody-log entry.
- The check-in is compared with the enterprise's stored position (both WGS-84):
  ``flag_far_from_target`` when distance − accuracy > ``far_threshold_m``
  (``FAR_FROM_TARGET_M``, 300 m by default), i.e. only when even the most favourable reading
  of the fix is too far. An enterprise without a position gives no distance and no flag.
- The inspection's time is the device time, corrected by the device's clock skew when the
  phone sent ``X-Device-Time``: a phone whose clock reset to 2019 still files its inspection
  on the right day. ``device_time`` is kept as sent.
- A compulsory measure recorded as taken must be approved (409 naming the measure
  otherwise), for the same enterprise and unit (422), and not taken in another record (409).

Visibility: office staff (admin, reviewer) see everything of their jurisdiction subtree;
an inspector sees their unit's filings, records and measure requests, and their own;
every other role sees none of it. Objects belong to the unit's jurisdiction. Ids in a body
that the caller may not see are a 422 naming the field.

Endpoints (api/inspections.py): ``/inspectors/<user_id>/unit`` (GET, PUT, DELETE; admin),
``/me/inspector-unit``, ``/inspection-filings`` (GET, POST), ``/inspection-filings/<id>``
(GET, PUT = amendment), ``/compulsory-measures`` (GET, POST), ``/compulsory-measures/<id>``
(GET), ``/compulsory-measures/<id>/decision`` (POST; office), ``/inspection-records`` (GET,
POST), ``/inspection-records/<id>`` (GET, PUT = amendment), ``/unfiled-inspections`` (GET;
office: every record kind flagged unfiled). Review, comments and versions are the generic
``/records/<id>/…`` endpoints.

Data flow: the view parses with schemas/inspections.py, passes plain dicts (positions as
``GivenLocation``, amounts as ``Decimal``), the server date and the threshold to one
function here, commits once and dumps the result. Submissions go through
``field.records.submit`` (create once per id, 409 for another body) with a canonical body,
so "5000" and "5000.00", or a time in another offset, are the same body.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Callable

from shapely.geometry import Point
from sqlalchemy import ColumnElement, Select, and_, event, false, or_, select
from sqlalchemy.orm import Session, selectin_polymorphic

from field.custody import chain as custody

from field.core import geo
from field.records import lifecycle as records
from field.core.calendar import calendar_for
from field.core.errors import Conflict, FieldProblem, InvalidInput, InvalidTransition, NotAllowed, NotFound
from field.core.models.platform import OFFICE_ROLES, Jurisdiction, Role, User
from field.core.models.records import FieldRecord, ReviewState
from field.core.models.base import utcnow
from field.directory.models import Enterprise, Unit, UnitKind
from .models import (
    ApprovalState,
    CompulsoryMeasure,
    CompulsoryMeasureApproval,
    FilingKind,
    InspectionFiling,
    InspectionMeasure,
    InspectionRecord,
    InspectorUnit,
    inspection_filing_enterprises,
)
from field.records.lifecycle import Receipt, Submitted
from field.core.scope import get_one, in_scope, jurisdiction_in_scope
from field.core.office import office_date
from field.core.scoped import clean, resolve_live
from field.records.lifecycle import canonical_body

#: Working days of notice an ad-hoc inspection needs (brief, mechanism 1).
AD_HOC_NOTICE_DAYS = 5
#: No filing window is longer than a year.
MAX_WINDOW_DAYS = 366
#: Units an inspector may work for: enforcement is done by departments and their sections.
INSPECTING_UNIT_KINDS = frozenset({UnitKind.department, UnitKind.section})


# -- inspectors' units ------------------------------------------------------------------------------


def unit_of(session: Session, user: User) -> Unit | None:
    """The unit ``user`` inspects for, if they are an inspector assigned to a live one."""
    if user.role is not Role.inspector:
        return None
    row = session.get(InspectorUnit, user.id)
    if row is None or row.unit.deleted_at is not None:
        return None
    return row.unit


def _require_unit(session: Session, user: User) -> Unit:
    if user.role is not Role.inspector:
        raise NotAllowed("Only inspectors file inspections and record them.")
    unit = unit_of(session, user)
    if unit is None:
        raise NotAllowed("You are not assigned to a unit yet; an admin assigns inspectors to their unit.")
    return unit


def _inspector_in_scope(session: Session, actor: User, user_id: uuid.UUID) -> User:
    if actor.role is not Role.admin:
        raise NotAllowed("Only an admin assigns inspectors to units.")
    user = session.execute(select(User).where(User.id == user_id, in_scope(User.jurisdiction_id, actor))
                           ).scalar_one_or_none()
    if user is None:
        raise NotFound("user")
    return user


def assign_unit(session: Session, actor: User, user_id: uuid.UUID, unit_id: uuid.UUID) -> InspectorUnit:
    """Set the unit an inspector works for (replacing any earlier one); records keep the unit they had."""
    user = _inspector_in_scope(session, actor, user_id)
    if user.role is not Role.inspector:
        raise InvalidInput("user_id", f"{user.display_name} is not an inspector (role {user.role.value}).")
    unit = resolve_live(session, Unit, unit_id, actor, "unit_id", "unit")
    if unit.kind not in INSPECTING_UNIT_KINDS:
        raise InvalidInput("unit_id", f"Inspectors work for a department or a section, not a {unit.kind.value}.")
    if not jurisdiction_in_scope(session.get(Jurisdiction, unit.jurisdiction_id), user):
        raise InvalidInput("unit_id", f"{unit.name} lies outside {user.display_name}'s jurisdiction.")
    row = session.get(InspectorUnit, user.id)
    if row is None:
        row = InspectorUnit(user_id=user.id)
        session.add(row)
    row.unit_id, row.unit, row.assigned_by_id, row.assigned_at = unit.id, unit, actor.id, utcnow()
    session.flush()
    return row


def get_assignment(session: Session, actor: User, user_id: uuid.UUID) -> InspectorUnit:
    user = _inspector_in_scope(session, actor, user_id)
    row = session.get(InspectorUnit, user.id)
    if row is None:
        raise NotFound("unit assignment")
    return row


def own_assignment(session: Session, user: User) -> InspectorUnit:
    row = session.get(InspectorUnit, user.id) if user.role is Role.inspector else None
    if row is None:
        raise NotFound("unit assignment")
    return row


def remove_assignment(session: Session, actor: User, user_id: uuid.UUID) -> None:
    session.delete(get_assignment(session, actor, user_id))
    session.flush()


# -- matching ---------------------------------------------------------------------------------------


def _covering_state() -> ColumnElement[bool]:
    """SQL of ``counts_as_approved``."""
    return or_(InspectionFiling.review_state == ReviewState.accepted,
               and_(InspectionFiling.filing_kind == FilingKind.statutory_exempt,
                    InspectionFiling.review_state != ReviewState.rejected))


def approved_filing_covering(session: Session, *, enterprise_id: uuid.UUID, unit_id: uuid.UUID | None,
                             on: date) -> InspectionFiling | None:
    """The filing that covers an inspection of ``enterprise_id`` by ``unit_id`` (any unit when None) on ``on``.

    Covering: accepted by the office (approved), or statutory-exempt and not rejected;
    naming the enterprise; the planned window contains ``on`` (both ends included).
    Not scoped to a user: it answers for the rules (an inspection record, a liaison's
    report), not for display. The earliest filed of several is returned.
    """
    if isinstance(on, datetime) or not isinstance(on, date):
        # A moment's day depends on the time zone: the caller takes the office's day first (office_date).
        raise TypeError(f"on must be a datetime.date (the office's day), not {type(on).__name__}")
    stmt = (select(InspectionFiling)
            .join(inspection_filing_enterprises, inspection_filing_enterprises.c.filing_id == InspectionFiling.id)
            .where(inspection_filing_enterprises.c.enterprise_id == enterprise_id,
                   InspectionFiling.planned_start <= on, InspectionFiling.planned_end >= on, _covering_state())
            .order_by(InspectionFiling.received_at, InspectionFiling.id).limit(1))
    if unit_id is not None:
        stmt = stmt.where(InspectionFiling.unit_id == unit_id)
    return session.execute(stmt).scalar_one_or_none()


def counts_as_approved(filing: InspectionFiling) -> bool:
    """Whether the filing covers inspections at all: approved, or statutory-exempt and not rejected."""
    return filing.review_state is ReviewState.accepted or (
        filing.filing_kind is FilingKind.statutory_exempt and filing.review_state is not ReviewState.rejected)


def covers(filing: InspectionFiling, *, enterprise_id: uuid.UUID, unit_id: uuid.UUID | None, on: date) -> bool:
    """The rule of ``approved_filing_covering``, for one filing in hand."""
    return (counts_as_approved(filing) and (unit_id is None or filing.unit_id == unit_id)
            and filing.planned_start <= on <= filing.planned_end
            and any(e.id == enterprise_id for e in filing.enterprises))


# -- visibility -------------------------------------------------------------------------------------


def _unit_visible(user: User, jurisdiction_column, unit_column, submitter_column=None) -> ColumnElement[bool]:
    """Office staff: their scope. An inspector: their unit's (and what they submitted). Others: nothing."""
    scope = in_scope(jurisdiction_column, user)
    if user.role in OFFICE_ROLES:
        return scope
    if user.role is not Role.inspector:
        return false()
    mine = unit_column.in_(select(InspectorUnit.unit_id).where(InspectorUnit.user_id == user.id))
    if submitter_column is not None:
        mine = or_(mine, submitter_column == user.id)
    return and_(scope, mine)


def _require_reader(user: User) -> None:
    if user.role not in OFFICE_ROLES and user.role is not Role.inspector:
        raise NotAllowed("Inspection filings and records are for inspectors and office staff.")


def _visible_filings(user: User) -> ColumnElement[bool]:
    return _unit_visible(user, InspectionFiling.jurisdiction_id, InspectionFiling.unit_id,
                         InspectionFiling.submitted_by_id)


def _visible_filing(session: Session, user: User, filing_id: uuid.UUID) -> InspectionFiling | None:
    return session.execute(select(InspectionFiling).where(
        InspectionFiling.id == filing_id, _visible_filings(user))).scalar_one_or_none()


def _resolve_enterprise(session: Session, user: User, enterprise_id: uuid.UUID, field: str) -> Enterprise:
    return resolve_live(session, Enterprise, enterprise_id, user, field, "enterprise")


# -- filings ----------------------------------------------------------------------------------------


def check_window(session: Session, unit: Unit, kind: FilingKind, start: date, end: date, today: date) -> None:
    """The window rules of each kind of filing, for a filing made on ``today`` (see the module docstring)."""
    if end < start:
        raise InvalidInput("planned_end", "The window ends before it starts.")
    if (end - start).days + 1 > MAX_WINDOW_DAYS:
        raise InvalidInput("planned_end", f"A window is at most {MAX_WINDOW_DAYS} days long.")
    if kind is FilingKind.ad_hoc:
        calendar = calendar_for(session, session.get(Jurisdiction, unit.jurisdiction_id))
        earliest = calendar.earliest_date_after_notice(today, AD_HOC_NOTICE_DAYS)
        if start < earliest:
            raise InvalidInput(
                "planned_start",
                f"An ad-hoc inspection is filed {AD_HOC_NOTICE_DAYS} working days ahead: filed on "
                f"{today.isoformat()}, its window may start on {earliest.isoformat()} at the earliest.",
                earliest=earliest.isoformat())
    elif start < today:
        what = "An annual plan is for the year ahead" if kind is FilingKind.annual_plan else \
            "A statutory inspection is filed on the day it starts at the latest"
        raise InvalidInput("planned_start", f"{what}: the window may not start before today ({today.isoformat()}).")
    if kind is FilingKind.annual_plan and end.year != start.year:
        raise InvalidInput("planned_end", "An annual plan's window lies within one calendar year.")


def _resolve_filing(session: Session, user: User, unit: Unit, body: dict, today: date) -> dict:
    """The filing's columns from a loaded body, every rule checked; nothing is changed here."""
    kind = FilingKind(body["filing_kind"])
    exemption = clean(body.get("exemption_basis"))
    if kind is FilingKind.statutory_exempt and exemption is None:
        raise InvalidInput("exemption_basis", "Name the law that mandates this inspection and exempts it from "
                                              "prior approval.")
    if kind is not FilingKind.statutory_exempt and exemption is not None:
        raise InvalidInput("exemption_basis", "Only a statutory_exempt filing has an exemption basis.")
    check_window(session, unit, kind, body["planned_start"], body["planned_end"], today)
    enterprises: list[Enterprise] = []
    for i, enterprise_id in enumerate(body["enterprise_ids"]):
        if enterprise_id in {e.id for e in enterprises}:
            raise InvalidInput(f"enterprise_ids.{i}", "Named twice.")
        enterprises.append(_resolve_enterprise(session, user, enterprise_id, f"enterprise_ids.{i}"))
    inspectors: list[User] = []
    for i, inspector_id in enumerate(body.get("inspector_ids") or [user.id]):
        row = session.get(InspectorUnit, inspector_id)
        if row is None or row.unit_id != unit.id or session.get(User, inspector_id).disabled:
            raise InvalidInput(f"inspector_ids.{i}", f"Not an inspector of {unit.name}.")
        if inspector_id in {u.id for u in inspectors}:
            raise InvalidInput(f"inspector_ids.{i}", "Named twice.")
        inspectors.append(session.get(User, inspector_id))
    return {"filing_kind": kind, "purpose": body["purpose"].strip(), "legal_basis": body["legal_basis"].strip(),
            "exemption_basis": exemption, "planned_start": body["planned_start"], "planned_end": body["planned_end"],
            "filed_on": today, "enterprises": enterprises, "inspectors": inspectors,
            "device_time": body["device_time"], "declared_attachments": canonical_body(body.get("declared_attachments", []))}


def file_inspection(session: Session, receipt: Receipt, filing_id: uuid.UUID, body: dict, *,
                    today: date) -> Submitted[InspectionFiling]:
    """An inspector's filing for their unit, created once per id; ``today`` is the office's date of receipt.

    ``body`` is the loaded request: device_time, filing_kind, enterprise_ids, purpose,
    legal_basis, exemption_basis, planned_start, planned_end, inspector_ids (default: the
    filer), planned_measures ([{enterprise_id, measure, reason}], each becoming a measure
    request of its own), declared_attachments. The rules run only for the sending that
    creates the filing: a repeat after the deadline passed still answers the stored one.
    """
    user = receipt.user

    def build() -> InspectionFiling:
        unit = _require_unit(session, user)
        values = _resolve_filing(session, user, unit, body, today)
        named = {e.id for e in values["enterprises"]}
        filing = InspectionFiling(jurisdiction_id=unit.jurisdiction_id, unit_id=unit.id, **values)
        for i, planned in enumerate(body.get("planned_measures") or []):
            if planned["enterprise_id"] not in named:
                raise InvalidInput(f"planned_measures.{i}.enterprise_id", "Not one of the filing's enterprises.")
            filing.measures.append(CompulsoryMeasureApproval(
                jurisdiction_id=unit.jurisdiction_id, unit_id=unit.id, enterprise_id=planned["enterprise_id"],
                measure=CompulsoryMeasure(planned["measure"]), reason=planned["reason"].strip(),
                state=ApprovalState.requested, requested_by_id=user.id, requested_by=user))
        return filing

    result = records.submit(session, InspectionFiling, filing_id, canonical_body(body), receipt, build)
    if result.created:
        for approval in result.record.measures:
            _log_measure(session, approval, "measure.requested", user)
    return result


def amend_filing(session: Session, user: User, filing: InspectionFiling, body: dict, *, today: date,
                 comment: str | None = None) -> InspectionFiling:
    """The filer's answer to needs_info: every rule again, counted from ``today``; planned measures stay."""
    def apply() -> None:
        unit = session.get(Unit, filing.unit_id)
        for key, value in _resolve_filing(session, user, unit, body, today).items():
            setattr(filing, key, value)

    records.amend(session, user, filing, canonical_body(body), apply, comment)
    return filing


def get_filing(session: Session, user: User, filing_id: uuid.UUID) -> InspectionFiling:
    _require_reader(user)
    return get_one(session, InspectionFiling, filing_id, "inspection filing", _visible_filings(user))


def filings_query(user: User, *, filing_kind: FilingKind | None = None, review_state: ReviewState | None = None,
                  enterprise_id: uuid.UUID | None = None, unit_id: uuid.UUID | None = None,
                  active_on: date | None = None) -> Select:
    _require_reader(user)
    stmt = select(InspectionFiling).where(_unit_visible(
        user, InspectionFiling.jurisdiction_id, InspectionFiling.unit_id, InspectionFiling.submitted_by_id))
    if filing_kind is not None:
        stmt = stmt.where(InspectionFiling.filing_kind == filing_kind)
    if review_state is not None:
        stmt = stmt.where(InspectionFiling.review_state == review_state)
    if enterprise_id is not None:
        stmt = stmt.where(InspectionFiling.id.in_(select(inspection_filing_enterprises.c.filing_id).where(
            inspection_filing_enterprises.c.enterprise_id == enterprise_id)))
    if unit_id is not None:
        stmt = stmt.where(InspectionFiling.unit_id == unit_id)
    if active_on is not None:
        stmt = stmt.where(InspectionFiling.planned_start <= active_on, InspectionFiling.planned_end >= active_on)
    return stmt


# -- compulsory measures ----------------------------------------------------------------------------


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


def get_measure(session: Session, user: User, measure_id: uuid.UUID) -> CompulsoryMeasureApproval:
    _require_reader(user)
    return get_one(session, CompulsoryMeasureApproval, measure_id, "compulsory measure", _visible_measures(user))


def measures_query(user: User, *, state: ApprovalState | None = None, enterprise_id: uuid.UUID | None = None,
                   filing_id: uuid.UUID | None = None) -> Select:
    _require_reader(user)
    stmt = select(CompulsoryMeasureApproval).where(_visible_measures(user))
    if state is not None:
        stmt = stmt.where(CompulsoryMeasureApproval.state == state)
    if enterprise_id is not None:
        stmt = stmt.where(CompulsoryMeasureApproval.enterprise_id == enterprise_id)
    if filing_id is not None:
        stmt = stmt.where(CompulsoryMeasureApproval.filing_id == filing_id)
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


# -- inspection records -----------------------------------------------------------------------------


def _resolve_inspection(session: Session, user: User, unit: Unit, body: dict, *, record_id: uuid.UUID,
                        skew_s: float | None, far_threshold_m: float) -> dict:
    """The record's columns from a loaded body, every rule checked; coverage is judged after."""
    enterprise = _resolve_enterprise(session, user, body["enterprise_id"], "enterprise_id")
    filing_id = body.get("filing_id")
    if filing_id is not None:
        filing = _visible_filing(session, user, filing_id)
        if filing is None or filing.unit_id != unit.id:
            raise InvalidInput("filing_id", "No such filing of your unit.")
        if enterprise.id not in {e.id for e in filing.enterprises}:
            raise InvalidInput("filing_id", f"This filing does not name {enterprise.name}.")
    checkin = body["location"].to_stored("location")
    measure = InspectionMeasure(body["measure"])
    fine = body.get("fine_amount")
    if measure is InspectionMeasure.fine:
        if fine is None:
            raise InvalidInput("fine_amount", "A fine needs its amount in yuan.")
        if fine <= 0:
            raise InvalidInput("fine_amount", "A fine is more than zero yuan.")
    elif fine is not None:
        raise InvalidInput("fine_amount", "Only a fine has an amount.")
    approval_id = body.get("compulsory_measure_id")
    if measure is InspectionMeasure.compulsory_measure:
        if approval_id is None:
            raise InvalidInput("compulsory_measure_id", "Name the approved compulsory measure that was taken.")
        _approval_taken(session, user, unit, enterprise, approval_id, record_id)
    elif approval_id is not None:
        raise InvalidInput("compulsory_measure_id", "Only the compulsory_measure measure names an approval.")
    inspected_at = body["device_time"] + timedelta(seconds=skew_s or 0.0)
    target = enterprise.location
    distance = target.distance_m(checkin.lon, checkin.lat) if target is not None else None
    return {
        "enterprise_id": enterprise.id, "enterprise": enterprise, "filing_id": filing_id,
        "device_time": body["device_time"], "inspected_at": inspected_at, "inspected_on": office_date(inspected_at),
        "location": geo.to_db(Point(checkin.lon, checkin.lat)), "accuracy_m": checkin.accuracy_m,
        "checked": body["checked"].strip(), "found": body["found"].strip(), "measure": measure,
        "fine_amount": fine, "compulsory_measure_id": approval_id, "distance_m": distance,
        # Far only if even the most favourable reading of the fix (accuracy towards the target) is too far.
        "flag_far_from_target": distance is not None and distance - (checkin.accuracy_m or 0.0) > far_threshold_m,
        "declared_attachments": canonical_body(body.get("declared_attachments", [])),
    }


def _covering_for(session: Session, record: InspectionRecord) -> InspectionFiling | None:
    """The filing the phone named if it covers the record, else any covering filing of the unit."""
    if record.filing_id is not None:
        named = session.get(InspectionFiling, record.filing_id)
        if named is not None and covers(named, enterprise_id=record.enterprise_id, unit_id=record.unit_id,
                                        on=record.inspected_on):
            return named
    return approved_filing_covering(session, enterprise_id=record.enterprise_id, unit_id=record.unit_id,
                                    on=record.inspected_on)


def _judge(session: Session, record: InspectionRecord) -> bool:
    """Set the record's covering filing and unfiled flag; whether they changed."""
    covering = _covering_for(session, record)
    covering_id = covering.id if covering is not None else None
    changed = covering_id != record.covering_filing_id or record.flag_unfiled != (covering is None)
    record.covering_filing_id, record.flag_unfiled = covering_id, covering is None
    return changed


def _log_judgement(session: Session, record: InspectionRecord, actor: User | None, because: str) -> None:
    custody.record(session, jurisdiction_id=record.jurisdiction_id, kind="inspection.checked",
                   subject_type=record.kind, subject_id=record.id, actor=actor,
                   data={"because": because, "version": record.version, "unfiled": record.flag_unfiled,
                         "covering_filing_id": str(record.covering_filing_id) if record.covering_filing_id else None,
                         "distance_m": record.distance_m, "far_from_target": record.flag_far_from_target})


def _log_taken(session: Session, record: InspectionRecord, actor: User) -> None:
    if record.compulsory_measure_id is not None:
        approval = session.get(CompulsoryMeasureApproval, record.compulsory_measure_id)
        session.expire(approval, ["taken_in"])
        _log_measure(session, approval, "measure.taken", actor, record_id=str(record.id))


def record_inspection(session: Session, receipt: Receipt, record_id: uuid.UUID, body: dict, *,
                      far_threshold_m: float) -> Submitted[InspectionRecord]:
    """An inspector's on-site inspection record, created once per id.

    ``body`` is the loaded request: device_time, enterprise_id, filing_id (or None),
    location (a ``GivenLocation``), checked, found, measure, fine_amount (``Decimal``, a
    fine only), compulsory_measure_id (compulsory_measure only), declared_attachments.
    """
    user = receipt.user

    def build() -> InspectionRecord:
        unit = _require_unit(session, user)
        # The clock skew field.records.submit will store: the same subtraction, a moment earlier.
        skew = (utcnow() - receipt.device_sent_at).total_seconds() if receipt.device_sent_at else None
        values = _resolve_inspection(session, user, unit, body, record_id=record_id, skew_s=skew,
                                     far_threshold_m=far_threshold_m)
        record = InspectionRecord(jurisdiction_id=unit.jurisdiction_id, unit_id=unit.id, **values)
        _judge(session, record)
        return record

    result = records.submit(session, InspectionRecord, record_id, canonical_body(body), receipt, build)
    if result.created:
        _log_judgement(session, result.record, user, "received")
        _log_taken(session, result.record, user)
    return result


def amend_inspection(session: Session, user: User, record: InspectionRecord, body: dict, *,
                     far_threshold_m: float, comment: str | None = None) -> InspectionRecord:
    """The inspector's answer to needs_info: every rule, the distance and the coverage again."""
    taken_before = record.compulsory_measure_id

    def apply() -> None:
        unit = session.get(Unit, record.unit_id)
        values = _resolve_inspection(session, user, unit, body, record_id=record.id, skew_s=record.clock_skew_s,
                                     far_threshold_m=far_threshold_m)
        for key, value in values.items():
            setattr(record, key, value)
        _judge(session, record)

    version = record.version
    records.amend(session, user, record, canonical_body(body), apply, comment)
    if record.version != version:
        _log_judgement(session, record, user, "amended")
        if record.compulsory_measure_id != taken_before:
            _log_taken(session, record, user)
    return record


def _visible_inspections(user: User) -> ColumnElement[bool]:
    return _unit_visible(user, InspectionRecord.jurisdiction_id, InspectionRecord.unit_id,
                         InspectionRecord.submitted_by_id)


def get_inspection(session: Session, user: User, record_id: uuid.UUID) -> InspectionRecord:
    _require_reader(user)
    return get_one(session, InspectionRecord, record_id, "inspection record", _visible_inspections(user))


#: The flags the inspection list filters by.
INSPECTION_FLAGS = {
    "unfiled": InspectionRecord.flag_unfiled,
    "far_from_target": InspectionRecord.flag_far_from_target,
    "clock_skew": InspectionRecord.flag_clock_skew,
    "implausible_evidence": InspectionRecord.flag_implausible_evidence,
}


def inspections_query(user: User, *, enterprise_id: uuid.UUID | None = None, filing_id: uuid.UUID | None = None,
                      unit_id: uuid.UUID | None = None, measure: InspectionMeasure | None = None,
                      flag: str | None = None, review_state: ReviewState | None = None,
                      start: date | None = None, end: date | None = None) -> Select:
    """Inspection records the user may see; ``start``/``end`` bound the day of the inspection."""
    _require_reader(user)
    stmt = select(InspectionRecord).where(_visible_inspections(user))
    if enterprise_id is not None:
        stmt = stmt.where(InspectionRecord.enterprise_id == enterprise_id)
    if filing_id is not None:
        stmt = stmt.where(or_(InspectionRecord.filing_id == filing_id, InspectionRecord.covering_filing_id == filing_id))
    if unit_id is not None:
        stmt = stmt.where(InspectionRecord.unit_id == unit_id)
    if measure is not None:
        stmt = stmt.where(InspectionRecord.measure == measure)
    if flag is not None:
        if flag not in INSPECTION_FLAGS:
            raise InvalidInput("flag", f"One of: {', '.join(sorted(INSPECTION_FLAGS))}.")
        stmt = stmt.where(INSPECTION_FLAGS[flag].is_(True))
    if review_state is not None:
        stmt = stmt.where(InspectionRecord.review_state == review_state)
    if start is not None:
        stmt = stmt.where(InspectionRecord.inspected_on >= start)
    if end is not None:
        stmt = stmt.where(InspectionRecord.inspected_on <= end)
    return stmt


# -- the office's list of unfiled inspections ------------------------------------------------------


def unfiled_query(user: User, *, kind: str | None = None, unit_id: uuid.UUID | None = None,
                  review_state: ReviewState | None = None) -> Select:
    """Every record flagged unfiled in the office's scope, whatever its kind (inspection records,
    liaisons' enforcement-visit reports, any later kind that sets ``flag_unfiled``)."""
    if user.role not in OFFICE_ROLES:
        raise NotAllowed("The list of unfiled inspections is for office staff.")
    # Each kind's own columns (the enterprise) in one query per kind, not one per row.
    kinds = [m.class_ for m in FieldRecord.__mapper__.self_and_descendants
             if m.local_table is not FieldRecord.__table__]
    stmt = (select(FieldRecord).options(selectin_polymorphic(FieldRecord, kinds))
            .where(FieldRecord.flag_unfiled.is_(True), in_scope(FieldRecord.jurisdiction_id, user)))
    if kind is not None:
        stmt = stmt.where(FieldRecord.kind == kind)
    if unit_id is not None:
        stmt = stmt.where(FieldRecord.unit_id == unit_id)
    if review_state is not None:
        stmt = stmt.where(FieldRecord.review_state == review_state)
    return stmt


# -- re-judging coverage when a filing changes ------------------------------------------------------

#: (session, changed filing) → re-judge the records of one kind that the filing covers or could cover.
CoverageRecheck = Callable[[Session, InspectionFiling], None]
COVERAGE_RECHECKS: list[CoverageRecheck] = []
_CHANGED_FILINGS = "inspections_changed_filings"


def register_coverage_recheck(recheck: CoverageRecheck) -> CoverageRecheck:
    """Have ``recheck`` called, before commit, for every filing the transaction created or changed."""
    COVERAGE_RECHECKS.append(recheck)
    return recheck


@register_coverage_recheck
def _recheck_inspections(session: Session, filing: InspectionFiling) -> None:
    """Inspection records the filing covered, or is of the unit, names the enterprise and spans the day of."""
    stmt = select(InspectionRecord).where(or_(
        InspectionRecord.covering_filing_id == filing.id,
        and_(InspectionRecord.flag_unfiled.is_(True), InspectionRecord.unit_id == filing.unit_id,
             InspectionRecord.enterprise_id.in_([e.id for e in filing.enterprises]),
             InspectionRecord.inspected_on >= filing.planned_start,
             InspectionRecord.inspected_on <= filing.planned_end)))
    for record in session.execute(stmt).scalars().all():
        if _judge(session, record):
            _log_judgement(session, record, None, f"filing {filing.id} changed (now {filing.review_state.value})")


@event.listens_for(Session, "after_flush")
def _note_changed_filings(session: Session, flush_context) -> None:
    # new and dirty still hold the flushed objects here (after_flush, not after_flush_postexec).
    changed = {obj.id for obj in (*session.new, *session.dirty) if isinstance(obj, InspectionFiling)}
    if changed:
        session.info.setdefault(_CHANGED_FILINGS, set()).update(changed)


@event.listens_for(Session, "before_commit")
def _recheck_on_commit(session: Session) -> None:
    """An office that approves a filing after the inspection was recorded (or rejects a statutory
    one, or a filer who amends the window) changes which inspections are covered: re-judge them
    in the same transaction, so ``flag_unfiled`` always says what the filings say now."""
    if not session.info.get(_CHANGED_FILINGS) and not session.new and not session.dirty:
        return
    session.flush()
    changed = session.info.pop(_CHANGED_FILINGS, None)
    if not changed:
        return
    for filing_id in sorted(changed):
        filing = session.get(InspectionFiling, filing_id)
        if filing is None:  # created in a savepoint that was rolled back
            continue
        for recheck in COVERAGE_RECHECKS:
            recheck(session, filing)
    session.flush()
    session.info.pop(_CHANGED_FILINGS, None)  # the re-judged records changed no filing


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_CHANGED_FILINGS, None)


__all__ = [
    "AD_HOC_NOTICE_DAYS",
    "unit_of", "assign_unit", "get_assignment", "own_assignment", "remove_assignment",
    "approved_filing_covering", "covers", "counts_as_approved", "check_window",
    "file_inspection", "amend_filing", "get_filing", "filings_query",
    "request_measure", "decide_measure", "get_measure", "measures_query",
    "record_inspection", "amend_inspection", "get_inspection", "inspections_query", "INSPECTION_FLAGS",
    "unfiled_query", "register_coverage_recheck", "COVERAGE_RECHECKS",
]
