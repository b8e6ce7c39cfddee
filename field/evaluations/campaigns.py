"""Campaigns, their targets and their invitations (one-time codes), for office staff."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from field.core.errors import Conflict, InvalidInput
from field.core.models.base import utcnow
from field.core.models.platform import Role, User
from field.core.scope import get_in_scope, in_scope
from field.directory.models import Enterprise, Person, Unit, UnitKind
from field.core.office import office_today

from . import policy
from .models import Campaign, CampaignKind, Invitation, Questionnaire, RaterContact, RaterKind, Target, TargetKind
from .questionnaires import get_questionnaire, lock

#: Code alphabet: no 0/O, 1/I/L, so a code read aloud or typed from paper comes out right.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
MAX_INVITATIONS = 500
#: The kinds of target each kind of campaign takes.
TAKES = {CampaignKind.thousand: {TargetKind.unit, TargetKind.section, TargetKind.window},
         CampaignKind.section_chiefs: {TargetKind.person},
         CampaignKind.window_monthly: {TargetKind.window}}
_UNIT_TARGET = {UnitKind.department: TargetKind.unit, UnitKind.public_service: TargetKind.unit,
                UnitKind.section: TargetKind.section, UnitKind.window: TargetKind.window}


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def campaigns_query(actor: User, kind: CampaignKind | None = None) -> Select:
    policy.require(actor, "campaign.read", "campaign")
    query = select(Campaign).where(in_scope(Campaign.jurisdiction_id, actor))
    return query.where(Campaign.kind == kind) if kind else query


def get_campaign(session: Session, actor: User, campaign_id: uuid.UUID) -> Campaign:
    policy.require(actor, "campaign.read", "campaign")
    return get_in_scope(session, Campaign, campaign_id, actor, "campaign")


def _live(session: Session, actor: User, model, object_id, field: str, what: str):
    row = session.execute(select(model).where(model.id == object_id, model.deleted_at.is_(None),
                                              in_scope(model.jurisdiction_id, actor))).unique().scalar_one_or_none()
    if row is None:
        raise InvalidInput(field, f"No such {what}.")
    return row


def _targets(session: Session, actor: User, kind: CampaignKind, named: list[dict]) -> list[Target]:
    if not named:
        raise InvalidInput("targets", "At least one target.")
    targets, seen = [], set()
    for i, t in enumerate(named):
        if t.get("person_id"):
            person = _live(session, actor, Person, t["person_id"], f"targets.{i}.person_id", "person")
            target = Target(kind=TargetKind.person, unit_id=person.unit_id, person_id=person.id,
                            label=f"{person.unit.name} {person.post or ''} {person.name}".replace("  ", " ").strip())
            key = ("person", person.id)
        elif t.get("unit_id"):
            unit = _live(session, actor, Unit, t["unit_id"], f"targets.{i}.unit_id", "unit")
            target = Target(kind=_UNIT_TARGET[unit.kind], unit_id=unit.id, label=_unit_path(session, unit))
            key = ("unit", unit.id)
        else:
            raise InvalidInput(f"targets.{i}", "A target names a unit_id or a person_id.")
        if target.kind not in TAKES[kind]:
            raise InvalidInput(f"targets.{i}", f"A {kind.value} campaign rates "
                                               f"{', '.join(sorted(k.value for k in TAKES[kind]))}.")
        if key in seen:
            raise InvalidInput(f"targets.{i}", "Named twice.")
        seen.add(key)
        target.position = i
        targets.append(target)
    return targets


def _unit_path(session: Session, unit: Unit) -> str:
    names, current = [unit.name], unit
    while current.parent_id is not None and len(names) < 4:
        current = session.get(Unit, current.parent_id)
        names.append(current.name)
    return "/".join(reversed(names))


def _previous(session: Session, jurisdiction_id: uuid.UUID, kind: CampaignKind, opens_on: date) -> uuid.UUID | None:
    return session.execute(select(Campaign.id).where(
        Campaign.jurisdiction_id == jurisdiction_id, Campaign.kind == kind, Campaign.closes_on < opens_on)
        .order_by(Campaign.closes_on.desc(), Campaign.id).limit(1)).scalar_one_or_none()


def create_campaign(session: Session, actor: User, *, kind: CampaignKind, title: str, opens_on: date,
                    closes_on: date, questionnaire_id: uuid.UUID, targets: list[dict], rectify_days: int = 5,
                    count_liaison_ratings: bool = True, previous_id: uuid.UUID | None = None) -> Campaign:
    policy.require(actor, "campaign.write", "campaign")
    kind = CampaignKind(kind)
    title = (title or "").strip()
    if not title:
        raise InvalidInput("title", "Required.")
    if closes_on < opens_on:
        raise InvalidInput("closes_on", "The window closes on or after the day it opens.")
    if not 1 <= rectify_days <= 60:
        raise InvalidInput("rectify_days", "From 1 to 60 working days.")
    try:
        questionnaire = get_questionnaire(session, actor, questionnaire_id)
    except Exception:
        raise InvalidInput("questionnaire_id", "No such questionnaire.") from None
    if previous_id is not None:
        previous = session.execute(select(Campaign).where(Campaign.id == previous_id, in_scope(
            Campaign.jurisdiction_id, actor))).scalar_one_or_none()
        if previous is None or previous.kind is not kind:
            raise InvalidInput("previous_id", "No such campaign of the same kind.")
    else:
        previous_id = _previous(session, actor.jurisdiction_id, kind, opens_on)
    campaign = Campaign(kind=kind, title=title, opens_on=opens_on, closes_on=closes_on,
                        questionnaire_id=questionnaire.id, questionnaire=questionnaire, previous_id=previous_id,
                        rectify_days=rectify_days, count_liaison_ratings=count_liaison_ratings,
                        jurisdiction_id=actor.jurisdiction_id, created_by_id=actor.id,
                        targets=_targets(session, actor, kind, targets))
    session.add(campaign)
    session.flush()
    return campaign


def open_campaign(session: Session, actor: User, campaign: Campaign) -> Campaign:
    """Open for ballots (within its window of dates); its questionnaire version is locked from now on."""
    policy.require(actor, "campaign.write", "campaign")
    if campaign.opened_at is None:
        campaign.opened_at = utcnow()
        lock(campaign.questionnaire)
        session.flush()
    return campaign


def is_open(campaign: Campaign, today: date | None = None) -> bool:
    today = today or office_today()
    return campaign.opened_at is not None and campaign.opens_on <= today <= campaign.closes_on


# -- invitations -------------------------------------------------------------------------------


@dataclass
class RaterInput:
    kind: RaterKind
    enterprise_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    name: str | None = None
    phone: str | None = None


def _rater(session: Session, actor: User, rater: RaterInput) -> None:
    if rater.kind is RaterKind.enterprise:
        if not rater.enterprise_id:
            raise InvalidInput("rater.enterprise_id", "Required for an enterprise.")
        _live(session, actor, Enterprise, rater.enterprise_id, "rater.enterprise_id", "enterprise")
    elif rater.kind is RaterKind.liaison:
        user = session.get(User, rater.user_id) if rater.user_id else None
        if user is None or user.role is not Role.liaison or not user.jurisdiction.path.startswith(
                actor.jurisdiction.path):
            raise InvalidInput("rater.user_id", "No such liaison.")
    elif rater.kind is RaterKind.citizen:
        if not (rater.name or "").strip():
            raise InvalidInput("rater.name", "A citizen is invited by name (a real-name rating is called back).")


def issue_invitations(session: Session, actor: User, campaign: Campaign, *, target_id: uuid.UUID,
                      rater: RaterInput, count: int = 1) -> list[Invitation]:
    """``count`` one-time codes for a target: one for a named rater, up to MAX_INVITATIONS for a counter."""
    policy.require(actor, "invitation.issue", "campaign")
    target = next((t for t in campaign.targets if t.id == target_id), None)
    if target is None:
        raise InvalidInput("target_id", "No such target of this campaign.")
    if campaign.closes_on < office_today():
        raise Conflict("The campaign's window has closed.")
    if rater.kind is not RaterKind.counter and count != 1:
        raise InvalidInput("count", "A named rater gets one code; several are for a counter.")
    if not 1 <= count <= MAX_INVITATIONS:
        raise InvalidInput("count", f"From 1 to {MAX_INVITATIONS}.")
    _rater(session, actor, rater)
    made = []
    for _ in range(count):
        for attempt in range(5):
            invitation = Invitation(campaign_id=campaign.id, target_id=target.id, target=target, code=new_code(),
                                    rater_kind=rater.kind, jurisdiction_id=campaign.jurisdiction_id,
                                    enterprise_id=rater.enterprise_id if rater.kind is RaterKind.enterprise else None,
                                    user_id=rater.user_id if rater.kind is RaterKind.liaison else None,
                                    created_by_id=actor.id)
            try:
                with session.begin_nested():
                    session.add(invitation)
                    session.flush()
                break
            except IntegrityError:  # a code drawn twice (31**10 codes: never in practice)
                if attempt == 4:
                    raise
        if rater.kind is RaterKind.citizen:
            session.add(RaterContact(invitation_id=invitation.id, jurisdiction_id=campaign.jurisdiction_id,
                                     name=(rater.name or "").strip() or None, phone=(rater.phone or "").strip() or None))
        made.append(invitation)
    session.flush()
    return made


def invitations_query(actor: User, campaign: Campaign) -> Select:
    policy.require(actor, "invitation.read", "campaign")
    return select(Invitation).where(Invitation.campaign_id == campaign.id)


def get_invitation(session: Session, actor: User, invitation_id: uuid.UUID) -> Invitation:
    policy.require(actor, "invitation.read", "invitation")
    return get_in_scope(session, Invitation, invitation_id, actor, "invitation")


def invitation_by_code(session: Session, code: str) -> Invitation | None:
    """The public side: the invitation a code names (codes are case-insensitive), or None."""
    code = (code or "").strip().upper()
    if not code or len(code) > 16:
        return None
    return session.execute(select(Invitation).where(Invitation.code == code)).unique().scalar_one_or_none()


def questionnaire_of(session: Session, campaign_id: uuid.UUID) -> tuple[Campaign, Questionnaire]:
    campaign = session.get(Campaign, campaign_id)
    return campaign, campaign.questionnaire
