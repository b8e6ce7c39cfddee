"""Service visits (包保走访) logged from the phone: a serving official at their project's site or their enterprise.

A ``ServiceVisit`` is a field record (kind ``service_visit``), submitted like a leader visit: the phone's id
makes a repeat harmless and another body under the same id a 409; the location is required (it is the
evidence of the visit) and its distance to the project (else the enterprise) is kept, a visit further than
``far_m`` beyond its own accuracy flagged ``far_from_target``, not refused; photos attach by the record's id
through the evidence pipeline (tus or multipart) and are checked for plausibility like any record's.

Who: the official of an assignment to the project (chief, secretary) or the enterprise (department head)
whose period holds the day of the visit; anyone else names a target that is not theirs (422 on the field,
the same as for a project that does not exist). Who sees a visit: office staff in their subtree, and the
official who logged it. Amendment answers needs_info, with every check again.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from shapely.geometry import Point
from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from field.core import geo
from field.core.errors import InvalidInput
from field.core.locations import GivenLocation
from field.core.models.base import utcnow
from field.core.models.platform import OFFICE_ROLES, User
from field.core.office import office_date
from field.core.pages import keyed
from field.core.scope import get_one, in_scope
from field.core.scoped import clean
from field.directory.models import Enterprise
from field.records import lifecycle as records
from field.records.kinds import RecordKind, first_text, register
from field.records.lifecycle import Receipt, Submitted, canonical_body

from .models import KeyProject, ServiceAssignment, ServiceVisit

#: Metres beyond its accuracy a visit may be from the project before it is flagged (the app's FAR_FROM_TARGET_M).
DEFAULT_FAR_M = 300.0
#: How far ahead of the server's clock a visit time may be (phones' clocks drift; offline queues don't).
FUTURE_SLACK = timedelta(days=1)


def _serving(user: User, day, *, project_id=None, enterprise_id=None) -> ColumnElement[bool]:
    target = (ServiceAssignment.project_id == project_id if project_id is not None
              else ServiceAssignment.enterprise_id == enterprise_id)
    return and_(ServiceAssignment.official_id == user.id, target, ServiceAssignment.starts_on <= day,
                or_(ServiceAssignment.ends_on.is_(None), ServiceAssignment.ends_on >= day))


def _target(session: Session, user: User, project_id, enterprise_id, day):
    """(project or None, enterprise or None, the place to measure from) of a target the caller serves on ``day``."""
    if (project_id is None) == (enterprise_id is None):
        raise InvalidInput("project_id", "Name the key project visited, or the enterprise (not both).")
    if project_id is not None:
        project = session.execute(select(KeyProject).where(
            KeyProject.id == project_id, select(ServiceAssignment.id).where(
                _serving(user, day, project_id=project_id)).exists())).scalar_one_or_none()
        if project is None:
            raise InvalidInput("project_id", "No such key project of yours on that day: only its chief responsible "
                                             "or service secretary logs visits to it.")
        enterprise = session.get(Enterprise, project.enterprise_id) if project.enterprise_id else None
        place = project.position or (enterprise.location if enterprise is not None else None)
        return project, enterprise, place
    enterprise = session.execute(select(Enterprise).where(
        Enterprise.id == enterprise_id, Enterprise.deleted_at.is_(None), select(ServiceAssignment.id).where(
            _serving(user, day, enterprise_id=enterprise_id)).exists())).scalar_one_or_none()
    if enterprise is None:
        raise InvalidInput("enterprise_id", "No such enterprise of yours on that day: only its linked department "
                                            "head logs visits to it.")
    return None, enterprise, enterprise.location


def _values(session: Session, user: User, project_id, enterprise_id, visited_at: datetime,
            location: GivenLocation, notes: str | None, far_m: float) -> dict:
    if visited_at > utcnow() + FUTURE_SLACK:
        raise InvalidInput("visited_at", "A visit that has taken place: the time is in the future.")
    project, enterprise, place = _target(session, user, project_id, enterprise_id, office_date(visited_at))
    stored = location.to_stored()
    distance = stored.distance_m(place.lon, place.lat) if place is not None else None
    far = distance is not None and distance - (stored.accuracy_m or 0.0) > far_m
    jurisdiction_id = project.jurisdiction_id if project is not None else enterprise.jurisdiction_id
    return dict(official_id=user.id, project_id=project.id if project else None,
                enterprise_id=enterprise.id if enterprise else None, jurisdiction_id=jurisdiction_id,
                visited_at=visited_at.astimezone(timezone.utc), notes=clean(notes), distance_m=distance,
                flag_far_from_target=far, location=geo.to_db(Point(stored.lon, stored.lat)),
                accuracy_m=stored.accuracy_m)


def _body(visit_id, project_id, enterprise_id, device_time, visited_at, location, notes, declared_attachments):
    return canonical_body({"id": visit_id, "project_id": project_id, "enterprise_id": enterprise_id,
                           "device_time": device_time, "visited_at": visited_at, "location": location,
                           "notes": notes, "declared_attachments": declared_attachments})


def log_visit(session: Session, receipt: Receipt, visit_id: uuid.UUID, *, device_time: datetime,
              visited_at: datetime, location: GivenLocation, project_id: uuid.UUID | None = None,
              enterprise_id: uuid.UUID | None = None, notes: str | None = None,
              declared_attachments: list | tuple = (), far_m: float = DEFAULT_FAR_M) -> Submitted[ServiceVisit]:
    """Create a service visit once per id (the same id and content again answers the stored one)."""
    user = receipt.user

    def build() -> ServiceVisit:
        values = _values(session, user, project_id, enterprise_id, visited_at, location, notes, far_m)
        return ServiceVisit(device_time=device_time.astimezone(timezone.utc),
                            declared_attachments=list(declared_attachments), **values)

    body = _body(visit_id, project_id, enterprise_id, device_time, visited_at, location, notes, declared_attachments)
    return records.submit(session, ServiceVisit, visit_id, body, receipt, build)


def amend_visit(session: Session, user: User, visit: ServiceVisit, *, note: str | None = None,
                device_time: datetime, visited_at: datetime, location: GivenLocation,
                project_id: uuid.UUID | None = None, enterprise_id: uuid.UUID | None = None,
                notes: str | None = None, declared_attachments: list | tuple = (),
                far_m: float = DEFAULT_FAR_M) -> ServiceVisit:
    """The official's amended version of a visit in needs_info; every check again."""

    def apply() -> None:
        for name, value in _values(session, user, project_id, enterprise_id, visited_at, location, notes,
                                   far_m).items():
            setattr(visit, name, value)
        visit.device_time = device_time.astimezone(timezone.utc)
        visit.declared_attachments = list(declared_attachments)

    body = _body(visit.id, project_id, enterprise_id, device_time, visited_at, location, notes, declared_attachments)
    records.amend(session, user, visit, body, apply, note)
    return visit


def visible_visits(user: User) -> ColumnElement[bool]:
    if user.role in OFFICE_ROLES:
        return in_scope(ServiceVisit.jurisdiction_id, user)
    return ServiceVisit.official_id == user.id


def get_visit(session: Session, user: User, visit_id: uuid.UUID) -> ServiceVisit:
    return get_one(session, ServiceVisit, visit_id, "service visit", visible_visits(user))


@keyed(ServiceVisit.visited_at, ServiceVisit.id, descending=True)
def visits_query(user: User, *, project_id: uuid.UUID | None = None, enterprise_id: uuid.UUID | None = None,
                 official_id: uuid.UUID | None = None, since: datetime | None = None,
                 until: datetime | None = None) -> Select:
    stmt = select(ServiceVisit).where(visible_visits(user))
    for column, value in ((ServiceVisit.project_id, project_id), (ServiceVisit.enterprise_id, enterprise_id),
                          (ServiceVisit.official_id, official_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(ServiceVisit.visited_at >= since)
    if until is not None:
        stmt = stmt.where(ServiceVisit.visited_at < until)
    return stmt


# The seam (field/records/kinds.py): the generic list, create, get and amend endpoints, the review
# queue's row and the console's record page. Who may log one is the assignment's, not a role's: no gate.
register(RecordKind(
    name="service_visit", model=ServiceVisit, noun="service visit", path="service-visits",
    create=lambda s, receipt, body, ctx: log_visit(s, receipt, body.pop("id"), far_m=ctx.far_threshold_m, **body),
    amend=lambda s, user, visit, body, ctx: amend_visit(s, user, visit, note=body.pop("amendment_note"),
                                                        far_m=ctx.far_threshold_m, **body),
    get=get_visit, query=visits_query,
    summary=lambda r: ([r.enterprise_id] if r.enterprise_id else [], None, first_text(r.notes))))
