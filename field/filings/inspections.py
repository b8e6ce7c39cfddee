"""On-site inspection records: the check-in, what was checked and found, the measure; whether a filing
covers each (judged on arrival, on amendment and when filings change), and the office's list of unfiled ones."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

from shapely.geometry import Point
from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session, selectin_polymorphic

from field.core import geo
from field.core.errors import InvalidInput, NotAllowed
from field.core.models.base import utcnow
from field.core.models.platform import Role, OFFICE_ROLES, User
from field.core.models.records import FieldRecord, ReviewState
from field.core.office import office_date
from field.core.pages import keyed
from field.core.scope import get_one, in_scope
from field.custody import chain as custody
from field.directory.models import Unit
from field.records import lifecycle as records
from field.records.lifecycle import Receipt, Submitted
from field.records.kinds import RecordKind, first_text, register, value_of
from field.records.lifecycle import canonical_body
from field.core.queries import narrowed

from .coverage import approved_filing_covering, covers, register_coverage_recheck
from .inspectors import _require_reader, _require_unit, _resolve_enterprise, _unit_visible, _visible_filing
from .policy import READERS
from .measures import _approval_taken, _log_measure
from .models import CompulsoryMeasureApproval, InspectionFiling, InspectionMeasure, InspectionRecord


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
        # The clock skew field.records.lifecycle.submit will store: the same subtraction, a moment earlier.
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


@keyed(InspectionRecord.received_at, InspectionRecord.id, descending=True)
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
    stmt = narrowed(stmt, (InspectionRecord.unit_id, unit_id), (InspectionRecord.measure, measure))
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


@keyed(FieldRecord.received_at, FieldRecord.id, descending=True)
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
    stmt = narrowed(stmt, (FieldRecord.kind, kind),
                    (FieldRecord.unit_id, unit_id),
                    (FieldRecord.review_state, review_state))
    return stmt


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


register(RecordKind(
    name="inspection", model=InspectionRecord, noun="inspection record", path="inspection-records",
    create=lambda s, receipt, body, ctx: record_inspection(s, receipt, body.pop("id"), body,
                                                           far_threshold_m=ctx.far_threshold_m),
    amend=lambda s, user, record, body, ctx: amend_inspection(s, user, record, body, far_threshold_m=ctx.far_threshold_m,
                                                              comment=body.pop("amendment_note")),
    get=get_inspection, query=inspections_query,
    roles={"list": READERS, "create": (Role.inspector,), "get": READERS, "amend": READERS},
    summary=lambda r: ([r.enterprise_id], value_of(r.measure), first_text(r.found, r.checked))))
