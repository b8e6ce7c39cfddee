"""Receiving complaints: a hotline call recorded by an operator, the public's mailbox and Open311; tracking secrets.

Every channel ends in ``_receive``: the work order in ``complaints`` (what was said, where, about which
unit), who complained in ``complaint_contacts`` (only when something was given), a tracking number and
a secret shown once (``Receipt``), one custody entry that names no one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date

from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from field.core import geo
from field.core.errors import InvalidInput, NotFound
from field.core.locations import GivenLocation
from field.core.models.base import utcnow
from field.core.models.platform import Jurisdiction, JurisdictionLevel, User
from field.core.office import office_today
from field.core.scope import resolve_jurisdiction, subtree
from field.core.scoped import live, resolve_live
from field.custody import chain as custody
from field.directory.models import Enterprise, Unit

from .categories import category
from .models import Channel, Complaint, ComplaintContact, State
from .policy import POLICY

#: Crockford's base 32 without I, L, O, U: read aloud over a phone line without mistakes.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class Receipt:
    """What the complainant is given once: the number to quote and the secret that opens the answer."""

    complaint: Complaint
    tracking_number: str
    secret: str


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _tracking_number(session: Session, day: date) -> str:
    for _ in range(8):
        number = f"TS{day:%Y%m%d}-" + "".join(secrets.choice(_ALPHABET) for _ in range(6))
        taken = session.execute(select(Complaint.id).where(Complaint.tracking_number == number)).first()
        if taken is None:
            return number
    raise RuntimeError("no free tracking number after 8 draws")  # 32^6 a day: never in practice


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _place(location: GivenLocation | None):
    stored = location.to_stored() if location is not None else None
    return geo.to_db(Point(stored.lon, stored.lat)) if stored else None


def _receive(session: Session, *, jurisdiction: Jurisdiction, channel: Channel, body: dict, actor: User | None,
             unit: Unit | None, enterprise: Enterprise | None) -> Receipt:
    found = category(body["category"], "category")
    text = (body.get("text") or "").strip()
    if not text:
        raise InvalidInput("text", "Required.")
    now = utcnow()
    today = office_today()
    number, secret = _tracking_number(session, today), secrets.token_urlsafe(18)
    complaint = Complaint(
        tracking_number=number, secret_hash=_secret_hash(secret), channel=channel, state=State.received,
        category_code=found.code, text=text, unit_id=unit.id if unit else None,
        location=_place(body.get("location")), address=_clean(body.get("address")),
        anonymous=bool(body.get("anonymous")), received_at=now, received_on=today,
        taken_by_id=actor.id if actor else None, jurisdiction_id=jurisdiction.id, round=1,
        due_provisional=False, answers=[], callbacks=[], photos=[])
    session.add(complaint)
    session.flush()
    name, contact = _clean(body.get("name")), _clean(body.get("contact"))
    if name or contact or enterprise is not None:
        session.add(ComplaintContact(complaint_id=complaint.id, jurisdiction_id=jurisdiction.id, name=name,
                                     contact=contact, enterprise_id=enterprise.id if enterprise else None))
    # The entry names the channel and the category, never who complained nor how to reach them.
    custody.record(session, jurisdiction_id=jurisdiction.id, kind="complaint.received", subject_type="complaint",
                   subject_id=complaint.id, actor=actor,
                   data={"tracking_number": number, "channel": channel.value, "category": found.code,
                         "unit_id": str(unit.id) if unit else None})
    session.flush()
    return Receipt(complaint, number, secret)


def record_call(session: Session, actor: User, body: dict) -> Receipt:
    """An operator records a hotline call: the caller's words, the unit concerned, the place, the category,
    whether the caller wants anonymity, and the callback number (kept apart)."""
    POLICY.require(actor, "record_call")
    jurisdiction = (resolve_jurisdiction(session, actor, body["jurisdiction_id"])
                    if body.get("jurisdiction_id") else actor.jurisdiction)
    unit = resolve_live(session, Unit, body["unit_id"], actor, "unit_id", "unit") if body.get("unit_id") else None
    enterprise = (resolve_live(session, Enterprise, body["enterprise_id"], actor, "enterprise_id", "enterprise")
                  if body.get("enterprise_id") else None)
    return _receive(session, jurisdiction=jurisdiction, channel=Channel.hotline, body=body, actor=actor,
                    unit=unit, enterprise=enterprise)


def public_jurisdiction(session: Session, code: str | None, default_code: str | None,
                        field: str = "jurisdiction_code") -> Jurisdiction:
    """The office a member of the public files with: the code they name, or the deployment's own."""
    code = (code or default_code or "").strip()
    if not code:
        raise InvalidInput(field, "Name the district or street (its division code).")
    found = session.execute(select(Jurisdiction).where(Jurisdiction.code == code)).scalar_one_or_none()
    if found is None or found.level not in (JurisdictionLevel.district, JurisdictionLevel.street):
        raise InvalidInput(field, "No such district or street.")
    return found


def file_public(session: Session, jurisdiction: Jurisdiction, body: dict, *, channel: Channel = Channel.mailbox
                ) -> Receipt:
    """A citizen or an enterprise files in the mailbox (the page, its JSON door) or through Open311.

    The unit, when named, must be a live one of the jurisdiction's tree; an unknown id reads like any
    wrong input (no one learns which ids exist elsewhere)."""
    unit = None
    if body.get("unit_id"):
        unit = session.execute(select(Unit).where(Unit.id == body["unit_id"], live(Unit),
                                                  Unit.jurisdiction_id.in_(subtree(jurisdiction.path)))
                               ).scalar_one_or_none()
        if unit is None:
            raise InvalidInput("unit_id", "No such unit.")
    return _receive(session, jurisdiction=jurisdiction, channel=channel, body=body, actor=None, unit=unit,
                    enterprise=None)


def by_secret(session: Session, tracking_number: str, secret: str) -> Complaint:
    """The complaint that ``tracking_number`` and ``secret`` open; a wrong pair reads like a missing number."""
    complaint = session.execute(select(Complaint).where(
        Complaint.tracking_number == (tracking_number or "").strip().upper())).scalar_one_or_none()
    given = _secret_hash((secret or "").strip())
    # Compared in constant time, and a hash is compared even when the number is unknown.
    if not hmac.compare_digest(complaint.secret_hash if complaint else "0" * 64, given) or complaint is None:
        raise NotFound("complaint (check the tracking number and the secret)")
    return complaint


def by_number(session: Session, tracking_number: str) -> Complaint:
    """The complaint with this public number (Open311's service_request_id): status only, no secret needed."""
    complaint = session.execute(select(Complaint).where(
        Complaint.tracking_number == (tracking_number or "").strip().upper())).scalar_one_or_none()
    if complaint is None:
        raise NotFound("service request")
    return complaint
