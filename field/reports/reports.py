"""Contact-point reports (监测点报告): what a monitoring point's liaison reports about their enterprise.

Design
======

Model. ``ContactReport`` (field/reports/models.py) is a field record of kind ``report``:
its own table ``contact_reports`` joined to the ``field_records`` envelope, whose id is
the phone's UUID. A report has one of four types, each with its own fields (``FIELDS``):

- ``enforcement_visit``: ``unit_id`` (who inspected), ``visited_on`` (the local date),
  ``officers`` (free text: names as the liaison knows them), ``filing_shown`` (bool),
  optional ``description``. At submission it is matched against approved filings with
  ``field.filings.coverage.approved_filing_covering(enterprise_id, unit_id, on)``, for the
  unit named and, failing that, the units above and below it (``unit_family``: the
  liaison may name the department where the filing is its section's): a match is
  linked (``filing_id``), no match sets the envelope's ``flag_unfiled``, which puts the
  report in the office's unfiled-inspections list and the queue's ``flag=unfiled``. The
  liaison's ``filing_shown`` is kept as said and does not decide the flag: a filing shown
  but not on record is exactly what the office must see. The match is made at submission,
  on an amendment, and again whenever a filing that covers or could cover the visit is
  filed, approved, rejected or amended (``field.inspections``' coverage recheck, run
  before the commit of the transaction that changed the filing), so the flag always
  says what the filings say now. Each judgement is a ``report.filing_match`` custody entry.
- ``problem``: ``problem_area`` (approvals | enforcement | fees), ``unit_id``, ``description``.
- ``suggestion``: ``text``.
- ``rating``: ``rating_target`` (unit | section | window | person), ``score`` 1–5, optional
  ``comment``; the unit rated in ``unit_id`` (its kind must match: unit = department or
  public-service company, section, window) or the person in ``person_id`` (whose unit
  becomes the envelope's ``unit_id``, so the queue's unit filter finds staff ratings).

Point. The point, and so the enterprise and the record's jurisdiction (the point's), come
from the liaison: their one point, or the ``point_id`` they name when they are liaison of
several. A point that is not theirs (another's, covert, deleted, unknown) is the same 422
on ``point_id``; nothing tells them it exists. Units and persons named in the body are
the live ones in the liaison's jurisdiction subtree (those their phone syncs); any other
id is a 422 naming the field.

Submission is ``field.records.lifecycle.submit``: the same UUID and body any number of times
creates one row, another body is a 409. The checks run only for the sending that creates
the record, so a repeat after the liaison lost the point still answers the stored report.
An amendment (the answer to needs_info) re-runs every check and the filing match.

Visibility (``visible_reports``): office staff (admin, reviewer) see every report in their
jurisdiction subtree, covert points included. A liaison sees the reports of their own
points, by any of the point's liaisons: co-liaisons share the point and should not report
the same inspection twice. The point's leader sees them too (the point's "circle", as
``field.directory.monitoring.visible_points`` defines it for liaisons and leaders, which is why that
rule is reused rather than re-derived). The submitter always sees their own report, as
the generic record endpoints already allow. Inspectors, squad members and everyone else
see none: each id answers 404 and the list is refused (403).

Endpoints (api/records.py, from the kind registered below): ``POST /api/v1/reports`` (liaison; 201 first, 200 repeat,
409 other body), ``GET /api/v1/reports`` (filters, JSON or GeoJSON, ``?crs=``),
``GET /api/v1/reports/<id>``, ``PUT /api/v1/reports/<id>`` (the submitter's amendment
of a report in needs_info). Review, comments and versions are the generic
``/api/v1/records/<id>/…`` endpoints and the review queue (kind ``report``).

Custody: ``submit``/``amend``/``review`` log the record's creation and changes; every
filing match adds a ``report.filing_match`` entry saying what was found and why.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from typing import Any

from shapely.geometry import Point
from sqlalchemy import ColumnElement, Select, and_, false, or_, select
from sqlalchemy.orm import Session

from field.custody import chain as custody

from field.core import geo
from field.filings import coverage
from field.records import lifecycle as records
from field.core.errors import DomainError, FieldProblem, InvalidInput, NotAllowed
from field.core.locations import GivenLocation
from field.core.models.platform import OFFICE_ROLES, Role, User
from field.core.models.records import FieldRecord
from field.directory.models import MonitoringPoint, Person, Unit, UnitKind, monitoring_point_liaisons
from .models import ContactReport, ProblemArea, RatingTarget, ReportType
from field.directory.monitoring import visible_points
from field.records.lifecycle import Receipt, Submitted
from field.records.kinds import RecordKind, first_text, register, value_of
from field.records.exports import envelope_columns
from field.core.pages import keyed
from field.core.scope import get_one, in_scope
from field.core.office import office_date
from field.core.scoped import clean, resolve_live
from field.records.lifecycle import canonical_body
from field.core.queries import narrowed


#: Per report type: the fields it requires and those it may have. Any other kind-specific
#: field is refused, so a phone's mistake (a score on a suggestion) is told, never dropped.
FIELDS: dict[ReportType, tuple[frozenset[str], frozenset[str]]] = {
    ReportType.enforcement_visit: (frozenset({"unit_id", "visited_on", "officers", "filing_shown"}),
                                   frozenset({"description"})),
    ReportType.problem: (frozenset({"problem_area", "unit_id", "description"}), frozenset()),
    ReportType.suggestion: (frozenset({"text"}), frozenset()),
    ReportType.rating: (frozenset({"rating_target", "score"}), frozenset({"unit_id", "person_id", "comment"})),
}
KIND_FIELDS = frozenset().union(*(required | optional for required, optional in FIELDS.values()))

#: Which unit kinds each rating target accepts.
RATED_UNIT_KINDS: dict[RatingTarget, frozenset[UnitKind]] = {
    RatingTarget.unit: frozenset({UnitKind.department, UnitKind.public_service}),
    RatingTarget.section: frozenset({UnitKind.section}),
    RatingTarget.window: frozenset({UnitKind.window}),
}

#: Roles that may see a point's reports when the point is theirs.
POINT_CIRCLE = frozenset({Role.liaison, Role.leader})


# -- which point ----------------------------------------------------------------------------------


def liaison_points_query(user: User) -> Select:
    """The live points ``user`` is a liaison of (and may see: the covert rule applies)."""
    mine = select(monitoring_point_liaisons.c.point_id).where(monitoring_point_liaisons.c.user_id == user.id)
    return select(MonitoringPoint).where(visible_points(user), MonitoringPoint.id.in_(mine))


def reporting_point(session: Session, user: User, point_id: uuid.UUID | None) -> MonitoringPoint:
    """The point a liaison reports for: the one named, or their only one."""
    points = list(session.execute(liaison_points_query(user).order_by(MonitoringPoint.id)).unique().scalars())
    if point_id is not None:
        for point in points:
            if point.id == point_id:
                return point
        raise InvalidInput("point_id", "No such monitoring point of yours.")
    if not points:
        raise InvalidInput("point_id", "You are not the liaison of any monitoring point.")
    if len(points) > 1:
        raise InvalidInput("point_id", f"You are the liaison of {len(points)} points: name the one you report for.")
    return points[0]


# -- the body's kind-specific fields ---------------------------------------------------------------


def _check_fields(report_type: ReportType, given: dict[str, Any]) -> None:
    required, optional = FIELDS[report_type]
    # Blank text is no text: "required" is about content, not about the key being sent.
    present = {name for name, value in given.items()
               if value is not None and not (isinstance(value, str) and not value.strip())}
    problems = [FieldProblem(name, f"Required for a {report_type.value} report.")
                for name in sorted(required - present)]
    problems += [FieldProblem(name, f"Not part of a {report_type.value} report.")
                 for name in sorted(present & (KIND_FIELDS - required - optional))]
    if report_type is ReportType.rating and "rating_target" in present:
        target = RatingTarget(given["rating_target"])
        wanted, unwanted = ("person_id", "unit_id") if target is RatingTarget.person else ("unit_id", "person_id")
        if wanted not in present:
            problems.append(FieldProblem(wanted, f"Required for a rating of a {target.value}."))
        if unwanted in present:
            problems.append(FieldProblem(unwanted, f"Not part of a rating of a {target.value}."))
    if problems:
        raise DomainError(f"Some fields do not fit a {report_type.value} report.", fields=problems)


def _resolve(session: Session, user: User, fields: dict[str, Any], today: date) -> dict[str, Any]:
    """Check the report's fields for ``user`` and return every column of the kind, unset ones as None."""
    report_type = ReportType(fields["report_type"])
    given = {name: fields.get(name) for name in KIND_FIELDS}
    _check_fields(report_type, given)
    point = reporting_point(session, user, fields.get("point_id"))
    values: dict[str, Any] = {name: None for name in KIND_FIELDS}
    values.update(report_type=report_type, point_id=point.id, enterprise_id=point.enterprise_id,
                  jurisdiction_id=point.jurisdiction_id, filing_id=None, flag_unfiled=False)
    unit = resolve_live(session, Unit, given["unit_id"], user, "unit_id", "unit") if given["unit_id"] else None
    values["unit_id"] = unit.id if unit else None
    if report_type is ReportType.enforcement_visit:
        if given["visited_on"] > today:
            raise InvalidInput("visited_on", "A visit that has happened: the date must not be in the future.")
        values.update(visited_on=given["visited_on"], officers=clean(given["officers"]),
                      filing_shown=bool(given["filing_shown"]), description=clean(given["description"]))
    elif report_type is ReportType.problem:
        values.update(problem_area=ProblemArea(given["problem_area"]), description=clean(given["description"]))
    elif report_type is ReportType.suggestion:
        values["text"] = clean(given["text"])
    else:
        target = RatingTarget(given["rating_target"])
        score = given["score"]
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise InvalidInput("score", "A whole number from 1 to 5.")
        if target is RatingTarget.person:
            person = resolve_live(session, Person, given["person_id"], user, "person_id", "person")
            values.update(person_id=person.id, unit_id=person.unit_id)
        elif unit.kind not in RATED_UNIT_KINDS[target]:
            kinds = " or ".join(k.value.replace("_", "-") for k in sorted(RATED_UNIT_KINDS[target]))
            raise InvalidInput("unit_id", f"A rating of a {target.value} names a {kinds} unit, "
                                          f"not a {unit.kind.value.replace('_', '-')}.")
        values.update(rating_target=target, score=score, comment=clean(given["comment"]))
    return values


def unit_family(session: Session, unit_id: uuid.UUID) -> list[uuid.UUID]:
    """The unit, the units above it, then the units below it.

    A liaison names the department (市场监管局) where the filing is its section's (执法大队),
    or the reverse: either way the filing covers the officers who came.
    """
    family = [unit_id]
    unit = session.get(Unit, unit_id)
    while unit is not None and unit.parent_id is not None and unit.parent_id not in family:
        family.append(unit.parent_id)
        unit = session.get(Unit, unit.parent_id)
    frontier = [unit_id]
    while frontier:
        below = session.execute(select(Unit.id).where(Unit.parent_id.in_(frontier)).order_by(Unit.id)).scalars()
        frontier = [u for u in below if u not in family]
        family.extend(frontier)
    return family


def _match_filing(session: Session, values: dict[str, Any]) -> None:
    """Link the approved filing covering an enforcement visit, or flag the visit unfiled."""
    if values["report_type"] is not ReportType.enforcement_visit:
        return
    filing = None
    for unit_id in unit_family(session, values["unit_id"]):
        filing = coverage.approved_filing_covering(session, enterprise_id=values["enterprise_id"],
                                                      unit_id=unit_id, on=values["visited_on"])
        if filing is not None:
            break
    values["filing_id"] = filing.id if filing is not None else None
    values["flag_unfiled"] = filing is None


def _log_match(session: Session, report: ContactReport, actor: User | None, reason: str | None = None) -> None:
    if report.report_type is ReportType.enforcement_visit:
        data = {"filing_id": str(report.filing_id) if report.filing_id else None,
                "unfiled": report.flag_unfiled, "version": report.version}
        if reason:
            data["reason"] = reason
        custody.record(session, jurisdiction_id=report.jurisdiction_id, kind="report.filing_match",
                       subject_type=report.kind, subject_id=report.id, actor=actor, data=data)


@coverage.register_coverage_recheck
def _recheck_reports(session: Session, filing) -> None:
    """A filing was filed, approved, rejected or amended: judge again the enforcement visits it
    covered and the unfiled ones it might cover now (same enterprise, a day in its window)."""
    enterprise_ids = [e.id for e in filing.enterprises]
    stmt = select(ContactReport).where(
        ContactReport.report_type == ReportType.enforcement_visit,
        or_(ContactReport.filing_id == filing.id,
            and_(ContactReport.flag_unfiled.is_(True), ContactReport.enterprise_id.in_(enterprise_ids),
                 ContactReport.visited_on >= filing.planned_start,
                 ContactReport.visited_on <= filing.planned_end)))
    for report in session.execute(stmt).scalars().all():
        values = {"report_type": report.report_type, "enterprise_id": report.enterprise_id,
                  "unit_id": report.unit_id, "visited_on": report.visited_on}
        _match_filing(session, values)
        if (values["filing_id"], values["flag_unfiled"]) != (report.filing_id, report.flag_unfiled):
            report.filing_id, report.flag_unfiled = values["filing_id"], values["flag_unfiled"]
            session.flush()
            _log_match(session, report, None, f"filing {filing.id} changed (now {filing.review_state.value})")


def _place(record: FieldRecord, location: GivenLocation | None) -> None:
    stored = location.to_stored() if location is not None else None
    record.location = geo.to_db(Point(stored.lon, stored.lat)) if stored else None
    record.accuracy_m = stored.accuracy_m if stored else None


# -- verbs -----------------------------------------------------------------------------------------


def submit_report(session: Session, receipt: Receipt, report_id: uuid.UUID, *, report_type: ReportType | str,
                  device_time: datetime, point_id: uuid.UUID | None = None, location: GivenLocation | None = None,
                  declared_attachments: list | tuple = (), **kind_fields) -> Submitted[ContactReport]:
    """Create a liaison's report once per id (the same id and content again answers the stored one).

    ``kind_fields`` are the type's fields (``FIELDS``): unit_id, visited_on, officers,
    filing_shown, description, problem_area, text, rating_target, person_id, score, comment.
    """
    user = receipt.user
    if user.role is not Role.liaison:
        raise NotAllowed("Only a monitoring point's liaison files contact-point reports.")
    unknown = set(kind_fields) - KIND_FIELDS
    if unknown:
        raise TypeError(f"unknown report fields: {sorted(unknown)}")

    def build() -> ContactReport:
        values = _resolve(session, user, {**kind_fields, "report_type": report_type, "point_id": point_id},
                          office_date(device_time))
        _match_filing(session, values)
        report = ContactReport(device_time=device_time.astimezone(timezone.utc),
                               declared_attachments=list(declared_attachments), **values)
        _place(report, location)
        return report

    body = canonical_body({"id": report_id, "report_type": report_type, "device_time": device_time,
                           "point_id": point_id, "location": location,
                           "declared_attachments": declared_attachments, **kind_fields})
    result = records.submit(session, ContactReport, report_id, body, receipt, build)
    if result.created:
        _log_match(session, result.record, user)
    return result


def amend_report(session: Session, user: User, report: ContactReport, *, note: str | None = None,
                 report_type: ReportType | str, device_time: datetime, point_id: uuid.UUID | None = None,
                 location: GivenLocation | None = None, declared_attachments: list | tuple = (),
                 **kind_fields) -> ContactReport:
    """The submitter's amended version of a report in needs_info: every check and the match again."""
    before = report.version

    def apply() -> None:
        values = _resolve(session, user, {**kind_fields, "report_type": report_type, "point_id": point_id},
                          office_date(device_time))
        _match_filing(session, values)
        for name, value in values.items():
            setattr(report, name, value)
        report.device_time = device_time.astimezone(timezone.utc)
        report.declared_attachments = list(declared_attachments)
        _place(report, location)

    body = canonical_body({"id": report.id, "report_type": report_type, "device_time": device_time,
                           "point_id": point_id, "location": location,
                           "declared_attachments": declared_attachments, **kind_fields})
    records.amend(session, user, report, body, apply, note)
    if report.version != before:
        _log_match(session, report, user)
    return report


# -- reading ---------------------------------------------------------------------------------------


def visible_reports(user: User) -> ColumnElement[bool]:
    """Predicate on ``ContactReport``: the reports ``user`` may see (see the module's design)."""
    if user.role in OFFICE_ROLES:
        return in_scope(ContactReport.jurisdiction_id, user)
    if user.role in POINT_CIRCLE:
        return or_(ContactReport.point_id.in_(select(MonitoringPoint.id).where(visible_points(user))),
                   ContactReport.submitted_by_id == user.id)
    return false()


def get_report(session: Session, user: User, report_id: uuid.UUID) -> ContactReport:
    return get_one(session, ContactReport, report_id, "report", visible_reports(user))


@keyed(ContactReport.received_at, ContactReport.id, descending=True)
def reports_query(user: User, *, report_type: ReportType | None = None, point_id: uuid.UUID | None = None,
                  unit_id: uuid.UUID | None = None, unfiled: bool | None = None,
                  review_state=None, since: datetime | None = None) -> Select:
    """The reports ``user`` may see, filtered; the caller orders and pages."""
    if user.role not in OFFICE_ROLES | POINT_CIRCLE:
        raise NotAllowed("Contact-point reports are for the office and the point's liaisons and leader.")
    stmt = select(ContactReport).where(visible_reports(user))
    if report_type is not None:
        stmt = stmt.where(ContactReport.report_type == ReportType(report_type))
    stmt = narrowed(stmt, (ContactReport.point_id, point_id), (ContactReport.unit_id, unit_id))
    if unfiled is not None:
        stmt = stmt.where(ContactReport.flag_unfiled.is_(unfiled))
    if review_state is not None:
        stmt = stmt.where(ContactReport.review_state == review_state)
    if since is not None:
        stmt = stmt.where(ContactReport.received_at >= since)
    return stmt


__all__ = ["FIELDS", "KIND_FIELDS", "liaison_points_query", "reporting_point",
           "submit_report", "amend_report", "visible_reports", "get_report", "reports_query"]


#: The office's spreadsheet of reports (GET /reports/export.csv, .geojson).
REPORT_COLUMNS = envelope_columns() + [
    ("report_type", lambda r: r.report_type), ("point_id", lambda r: r.point_id),
    ("enterprise_id", lambda r: r.enterprise_id), ("visited_on", lambda r: r.visited_on),
    ("filing_shown", lambda r: r.filing_shown), ("filing_id", lambda r: r.filing_id),
    ("person_id", lambda r: r.person_id), ("score", lambda r: r.score),
    ("text", lambda r: r.description or r.text or r.comment),
]

register(RecordKind(
    name="report", model=ContactReport, noun="report", path="reports",
    create=lambda s, receipt, body, ctx: submit_report(s, receipt, body.pop("id"), **body),
    amend=lambda s, user, report, body, ctx: amend_report(s, user, report, note=body.pop("amendment_note"), **body),
    get=get_report, query=reports_query,
    roles={"list": (Role.admin, Role.reviewer, Role.liaison, Role.leader), "create": (Role.liaison,),
           "export": tuple(OFFICE_ROLES)},
    summary=lambda r: ([r.enterprise_id], value_of(r.report_type), first_text(r.description, r.text, r.comment,
                                                                             r.officers)),
    export_columns=REPORT_COLUMNS))
