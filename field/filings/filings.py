"""Inspection filings (涉企检查备案): the windows each kind may have, filing and amending, reading."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from field.core.calendar import calendar_for
from field.core.errors import InvalidInput
from field.core.models.platform import Role, Jurisdiction, User
from field.core.models.records import ReviewState
from field.core.pages import keyed
from field.core.scope import get_one
from field.core.scoped import clean
from field.directory.models import Enterprise, Unit
from field.records import lifecycle as records
from field.records.lifecycle import Receipt, Submitted
from field.records.kinds import RecordKind, register, value_of
from field.records.lifecycle import canonical_body
from field.core.queries import narrowed

from . import coverage
from .inspectors import _require_reader, _require_unit, _resolve_enterprise, _unit_visible, _visible_filings
from .policy import READERS
from .measures import _log_measure
from .models import (
    ApprovalState,
    CompulsoryMeasure,
    CompulsoryMeasureApproval,
    FilingKind,
    InspectionFiling,
    InspectorUnit,
    inspection_filing_enterprises,
)


#: Working days of notice an ad-hoc inspection needs (brief, mechanism 1).
AD_HOC_NOTICE_DAYS = 5


#: No filing window is longer than a year.
MAX_WINDOW_DAYS = 366


def check_window(session: Session, unit: Unit, kind: FilingKind, start: date, end: date, today: date) -> bool:
    """The window rules of each kind of filing, for a filing made on ``today`` (see the package docstring).

    True when the ad-hoc notice was counted over a year without a declared schedule
    (weekends alone): the filing is judged on that count all the same, and says so.
    """
    if end < start:
        raise InvalidInput("planned_end", "The window ends before it starts.")
    if (end - start).days + 1 > MAX_WINDOW_DAYS:
        raise InvalidInput("planned_end", f"A window is at most {MAX_WINDOW_DAYS} days long.")
    provisional = False
    if kind is FilingKind.ad_hoc:
        calendar = calendar_for(session, session.get(Jurisdiction, unit.jurisdiction_id))
        earliest = calendar.earliest_date_after_notice(today, AD_HOC_NOTICE_DAYS)
        provisional = bool(calendar.provisional_years(today, earliest))
        if start < earliest:
            caveat = (f" (counted on weekends alone: {earliest.year}'s holidays are not declared yet)"
                      if provisional else "")
            raise InvalidInput(
                "planned_start",
                f"An ad-hoc inspection is filed {AD_HOC_NOTICE_DAYS} working days ahead: filed on "
                f"{today.isoformat()}, its window may start on {earliest.isoformat()} at the earliest{caveat}.",
                earliest=earliest.isoformat(), earliest_provisional=provisional)
    elif start < today:
        what = "An annual plan is for the year ahead" if kind is FilingKind.annual_plan else \
            "A statutory inspection is filed on the day it starts at the latest"
        raise InvalidInput("planned_start", f"{what}: the window may not start before today ({today.isoformat()}).")
    if kind is FilingKind.annual_plan and end.year != start.year:
        raise InvalidInput("planned_end", "An annual plan's window lies within one calendar year.")
    return provisional


def _resolve_filing(session: Session, user: User, unit: Unit, body: dict, today: date) -> dict:
    """The filing's columns from a loaded body, every rule checked; nothing is changed here."""
    kind = FilingKind(body["filing_kind"])
    exemption = clean(body.get("exemption_basis"))
    if kind is FilingKind.statutory_exempt and exemption is None:
        raise InvalidInput("exemption_basis", "Name the law that mandates this inspection and exempts it from "
                                              "prior approval.")
    if kind is not FilingKind.statutory_exempt and exemption is not None:
        raise InvalidInput("exemption_basis", "Only a statutory_exempt filing has an exemption basis.")
    notice_provisional = check_window(session, unit, kind, body["planned_start"], body["planned_end"], today)
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
            "filed_on": today, "notice_provisional": notice_provisional, "enterprises": enterprises,
            "inspectors": inspectors,
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
        coverage.rejudge(session, result.record)  # a statutory-exempt filing covers at once
    return result


def amend_filing(session: Session, user: User, filing: InspectionFiling, body: dict, *, today: date,
                 comment: str | None = None) -> InspectionFiling:
    """The filer's answer to needs_info: every rule again, counted from ``today``; planned measures stay."""
    def apply() -> None:
        unit = session.get(Unit, filing.unit_id)
        for key, value in _resolve_filing(session, user, unit, body, today).items():
            setattr(filing, key, value)

    records.amend(session, user, filing, canonical_body(body), apply, comment)
    coverage.rejudge(session, filing)  # the window, the enterprises or the kind may have changed
    return filing


def get_filing(session: Session, user: User, filing_id: uuid.UUID) -> InspectionFiling:
    _require_reader(user)
    return get_one(session, InspectionFiling, filing_id, "inspection filing", _visible_filings(user))


@keyed(InspectionFiling.received_at, InspectionFiling.id, descending=True)
def filings_query(user: User, *, filing_kind: FilingKind | None = None, review_state: ReviewState | None = None,
                  enterprise_id: uuid.UUID | None = None, unit_id: uuid.UUID | None = None,
                  active_on: date | None = None) -> Select:
    _require_reader(user)
    stmt = select(InspectionFiling).where(_unit_visible(
        user, InspectionFiling.jurisdiction_id, InspectionFiling.unit_id, InspectionFiling.submitted_by_id))
    stmt = narrowed(stmt, (InspectionFiling.filing_kind, filing_kind), (InspectionFiling.review_state, review_state))
    if enterprise_id is not None:
        stmt = stmt.where(InspectionFiling.id.in_(select(inspection_filing_enterprises.c.filing_id).where(
            inspection_filing_enterprises.c.enterprise_id == enterprise_id)))
    if unit_id is not None:
        stmt = stmt.where(InspectionFiling.unit_id == unit_id)
    if active_on is not None:
        stmt = stmt.where(InspectionFiling.planned_start <= active_on, InspectionFiling.planned_end >= active_on)
    return stmt


register(RecordKind(
    name="filing", model=InspectionFiling, noun="inspection filing", path="inspection-filings",
    create=lambda s, receipt, body, ctx: file_inspection(s, receipt, body.pop("id"), body, today=ctx.today),
    amend=lambda s, user, filing, body, ctx: amend_filing(s, user, filing, body, today=ctx.today,
                                                           comment=body.pop("amendment_note")),
    get=get_filing, query=filings_query,
    roles={"list": READERS, "create": (Role.inspector,), "get": READERS, "amend": READERS},
    summary=lambda r: ([e.id for e in r.enterprises], value_of(r.filing_kind), r.purpose)))
