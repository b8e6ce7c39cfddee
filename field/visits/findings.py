"""Findings (brief 3, 4): what a monitor saw, under the office's taxonomy, from a visit or a callback.

A finding's jurisdiction is its unit's, so the office over that unit reviews it. Its
``unit_id``, ``squad_id`` and ``category_code`` are on the envelope for the review
queue's filters. The checks run inside ``field.records.lifecycle.submit``'s ``build``: a repeat of
a stored finding answers the stored one even if, say, its category was retired since.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from field.custody import chain as custody

from field.records import lifecycle as records
from field.core.errors import InvalidInput, NotAllowed
from field.core.models.platform import OFFICE_ROLES, Jurisdiction, Role, User
from field.directory.models import Person, Unit
from field.core.locations import Area
from .models import Callback, Finding, Severity, Visit
from field.core.pages import Page, keyed
from field.records.lifecycle import Receipt, Submitted
from field.records.kinds import RecordKind, register, value_of
from field.records.exports import envelope_columns
from field.core.scope import scope_legs, visible_records_predicate
from field.core.scoped import located_page, resolve_live
from field.core.queries import narrowed
from .taxonomy import resolve_category
from .visits import canonical_body, locate, membership, require_undercover_role, utc


def _person_of_unit(session: Session, person: Person, unit: Unit) -> bool:
    """Whether ``person`` works in ``unit`` or in a section or window below it."""
    current = person.unit
    while current is not None:
        if current.id == unit.id:
            return True
        current = session.get(Unit, current.parent_id) if current.parent_id else None
    return False


def _check(session: Session, user: User, values: dict, *, squad_id: uuid.UUID | None,
           default_unit_id: uuid.UUID | None = None) -> dict:
    """Every check of a finding's values, before anything is written; the columns to write."""
    unit_id = values.get("unit_id") or default_unit_id
    if unit_id is None:
        raise InvalidInput("unit_id", "Required: the unit the finding is about.")
    unit = resolve_live(session, Unit, unit_id, user, "unit_id", "unit")
    jurisdiction = session.get(Jurisdiction, unit.jurisdiction_id)
    category = resolve_category(session, values["category"], jurisdiction)
    person = None
    if values.get("person_id") is not None:
        person = resolve_live(session, Person, values["person_id"], user, "person_id", "person")
        if not _person_of_unit(session, person, unit):
            raise InvalidInput("person_id", "This person does not work in that unit.")
    visit = None
    if values.get("visit_id") is not None:
        visit = session.execute(select(Visit).where(
            Visit.id == values["visit_id"], Visit.squad_id == squad_id)).scalar_one_or_none()
        if visit is None or squad_id is None:
            raise InvalidInput("visit_id", "No such visit of your squad.")
    if values.get("location") is not None:
        values["location"].to_stored("location")
    return {"unit": unit, "category": category, "person": person, "visit": visit}


def _apply(finding: Finding, values: dict, checked: dict) -> None:
    finding.unit_id = checked["unit"].id
    finding.jurisdiction_id = checked["unit"].jurisdiction_id
    finding.category_id, finding.category = checked["category"].id, checked["category"]
    finding.category_code = checked["category"].code
    finding.severity = Severity(values["severity"])
    finding.person_id = checked["person"].id if checked["person"] else None
    finding.person = checked["person"]
    finding.visit_id = checked["visit"].id if checked["visit"] else None
    finding.occurred_at = utc(values["occurred_at"])
    finding.description = values["description"].strip()
    finding.declared_attachments = [dict(a) for a in values.get("declared_attachments") or []]
    locate(finding, values.get("location"))


def record_finding(session: Session, receipt: Receipt, values: dict) -> Submitted[Finding]:
    """A monitor's finding, created once per client id."""
    user = receipt.user
    require_undercover_role(user)
    if user.role is not Role.squad_member:
        raise NotAllowed("Findings are recorded by squad members (or made from a callback).")

    def build() -> Finding:
        squad_id = membership(session, user).squad_id
        checked = _check(session, user, values, squad_id=squad_id)
        finding = Finding(device_time=utc(values["device_time"]), squad_id=squad_id)
        _apply(finding, values, checked)
        return finding

    return records.submit(session, Finding, values["id"], canonical_body(values), receipt, build)


def record_finding_from_callback(session: Session, receipt: Receipt, callback: Callback,
                                 values: dict) -> Submitted[Finding]:
    """Turn what an applicant told on a callback into a finding, linked to the callback.

    The caller is the callback's own caller or office staff (``callback`` was loaded with
    their visibility). The unit defaults to the case's; the squad is the callback's.
    """
    user = receipt.user
    require_undercover_role(user)
    body = canonical_body(values) | {"callback_id": str(callback.id)}

    def build() -> Finding:
        checked = _check(session, user, values, squad_id=callback.squad_id, default_unit_id=callback.case.unit_id)
        finding = Finding(device_time=utc(values["device_time"]), squad_id=callback.squad_id, callback_id=callback.id)
        _apply(finding, values, checked)
        return finding

    result = records.submit(session, Finding, values["id"], body, receipt, build)
    if result.created:
        custody.record(session, jurisdiction_id=callback.jurisdiction_id, kind="callback.finding_made",
                       subject_type=callback.kind, subject_id=callback.id, actor=user,
                       data={"finding_id": str(result.record.id)})
    return result


def amend_finding(session: Session, user: User, finding: Finding, values: dict) -> Finding:
    """The submitter's answer to "needs more information": a new version of the finding."""
    callback = session.get(Callback, finding.callback_id) if finding.callback_id else None
    body = canonical_body(values) | ({"callback_id": str(callback.id)} if callback else {})

    def apply() -> None:
        squad_id = finding.squad_id
        checked = _check(session, user, values, squad_id=squad_id,
                         default_unit_id=callback.case.unit_id if callback else None)
        finding.device_time = utc(values["device_time"])
        _apply(finding, values, checked)

    return records.amend(session, user, finding, body, apply, values.get("amendment_note"))


def get_finding(session: Session, user: User, finding_id: uuid.UUID) -> Finding:
    require_undercover_role(user)
    return records.get_record(session, user, finding_id, Finding, "finding")


@keyed(Finding.received_at, Finding.id, descending=True)
def findings_query(user: User, *, category: str | None = None, unit_id: uuid.UUID | None = None,
                   severity: Severity | None = None, visit_id: uuid.UUID | None = None,
                   callback_id: uuid.UUID | None = None, squad_id: uuid.UUID | None = None) -> Select:
    """Office staff: the findings of their scope; a monitor: their own."""
    require_undercover_role(user)
    stmt = select(Finding).where(visible_records_predicate(user))
    if category:
        stmt = stmt.where(Finding.category_code == category)
    if unit_id is not None:
        stmt = stmt.where(Finding.unit_id == unit_id)
    if severity is not None:
        stmt = stmt.where(Finding.severity == Severity(severity))
    stmt = narrowed(stmt, (Finding.visit_id, visit_id),
                    (Finding.callback_id, callback_id),
                    (Finding.squad_id, squad_id))
    return stmt


def list_findings(session: Session, user: User, filters: dict, area: Area, *, cursor: str | None,
                  limit: int) -> Page:
    """A page of ``findings_query``, newest first, narrowed to ``area`` through the spatial index."""
    # Office staff of a few jurisdictions read them one at a time along ix_field_records_scope_received.
    legs = (scope_legs(session, Finding.jurisdiction_id, user.jurisdiction.path)
            if user.role in OFFICE_ROLES else None)
    return located_page(session, user, findings_query(user, **filters), [Finding.received_at, Finding.id],
                        Finding.location, area, cursor=cursor, limit=limit, location_of=lambda f: f.position,
                        descending=True, legs=legs)


#: The office's spreadsheet of findings (GET /findings/export.csv, .geojson): monitors by squad only.
FINDING_COLUMNS = envelope_columns() + [
    ("severity", lambda r: r.severity), ("occurred_at", lambda r: r.occurred_at.isoformat()),
    ("person_id", lambda r: r.person_id), ("description", lambda r: r.description),
]

register(RecordKind(
    name="finding", model=Finding, noun="finding", path="findings",
    create=lambda s, receipt, body, ctx: record_finding(s, receipt, body),
    amend=lambda s, user, finding, body, ctx: amend_finding(s, user, finding, body),
    get=get_finding, query=findings_query, page=list_findings,
    roles={"export": tuple(OFFICE_ROLES)},
    batchable=True,
    summary=lambda r: ([], value_of(r.severity), r.description), export_columns=FINDING_COLUMNS))
