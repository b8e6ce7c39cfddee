"""Evaluations (issue 15): questionnaires, campaigns and their targets, invitations, ballots, rectifications."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, Enum, Float, ForeignKey, Index, Integer, String, Text, \
    UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.core.models.base import Base, IdMixin, JurisdictionScoped, utcnow


class CampaignKind(str, enum.Enum):
    thousand = "thousand"              #: 千人评: enterprises and citizens rate units, sections and windows
    section_chiefs = "section_chiefs"  #: 百名科长: named section chiefs rated; top five praised, bottom five removed
    window_monthly = "window_monthly"  #: 窗口月评: windows ranked month by month


class TargetKind(str, enum.Enum):
    unit = "unit"        #: a department or a public-service company
    section = "section"  #: 科室
    window = "window"    #: 窗口
    person = "person"    #: a named person of a unit (科长)


class RaterKind(str, enum.Enum):
    enterprise = "enterprise"  #: an enterprise of the directory (a letter with its codes)
    liaison = "liaison"        #: a monitoring point's liaison (a user)
    citizen = "citizen"        #: an invited citizen, by name (real-name: called back on a bad rating)
    counter = "counter"        #: an anonymous code printed for a window's counter (一次一评)


class RectificationState(str, enum.Enum):
    open = "open"            #: waiting for the unit's answer
    answered = "answered"    #: the unit answered; the office verifies
    verified = "verified"    #: the office accepted the answer and it went back to the rater
    appealed = "appealed"    #: the unit says the rating is mistaken or malicious; the office decides
    withdrawn = "withdrawn"  #: the appeal was upheld: the rating no longer counts


class Questionnaire(IdMixin, JurisdictionScoped, Base):
    """One version of a questionnaire; versions of one questionnaire share ``family_id``.

    ``questions`` is a list of ``{name, type, required, label: {zh, en}, choices, weight, weights}``
    (field/evaluations/questionnaires.py checks it). Once a campaign using it opens, the version is
    locked: a change makes the next version, and the campaign keeps the one it opened with.
    """

    __tablename__ = "evaluation_questionnaires"
    __table_args__ = (UniqueConstraint("family_id", "version", name="family_version"),)

    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(200))
    questions: Mapped[list] = mapped_column(JSON)
    locked_at: Mapped[datetime | None]
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Campaign(IdMixin, JurisdictionScoped, Base):
    """An evaluation campaign: what is rated, by whom, between which days, with which questionnaire."""

    __tablename__ = "evaluation_campaigns"

    kind: Mapped[CampaignKind] = mapped_column(Enum(CampaignKind, native_enum=False, length=16))
    title: Mapped[str] = mapped_column(String(200))
    #: The window of dates (office local days, both included) in which ballots are taken.
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    questionnaire_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evaluation_questionnaires.id"))
    #: The campaign its results are compared with (the previous one of the same kind, by default).
    previous_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("evaluation_campaigns.id"))
    #: Working days a unit has to answer a bad rating (好差评: 5 is common).
    rectify_days: Mapped[int] = mapped_column(Integer, default=5)
    #: Whether the liaisons' ratings of the targets (contact reports of type rating) made in the window count.
    count_liaison_ratings: Mapped[bool] = mapped_column(Boolean, default=True)
    opened_at: Mapped[datetime | None]
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    questionnaire: Mapped[Questionnaire] = relationship(lazy="joined")
    targets: Mapped[list[Target]] = relationship(lazy="selectin", order_by="Target.position",
                                                 back_populates="campaign")


class Target(IdMixin, Base):
    """One thing a campaign rates: a unit (department, section, window) or a person; ``label`` as it was named."""

    __tablename__ = "evaluation_targets"

    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evaluation_campaigns.id"), index=True)
    kind: Mapped[TargetKind] = mapped_column(Enum(TargetKind, native_enum=False, length=16))
    #: The unit rated, or the person's unit: the one that answers a bad rating.
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"), index=True)
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("persons.id"), index=True)
    label: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=0)

    campaign: Mapped[Campaign] = relationship(back_populates="targets")


class Invitation(IdMixin, JurisdictionScoped, Base):
    """A one-time code bound to a campaign, a target and a rater; used by exactly one ballot."""

    __tablename__ = "evaluation_invitations"

    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evaluation_campaigns.id"), index=True)
    target_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evaluation_targets.id"), index=True)
    #: What the rater types or scans: unique everywhere, never reused.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    rater_kind: Mapped[RaterKind] = mapped_column(Enum(RaterKind, native_enum=False, length=16))
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enterprises.id"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    used_at: Mapped[datetime | None]

    target: Mapped[Target] = relationship(lazy="joined")


class RaterContact(Base):
    """An invited citizen's name and phone: the identity behind a real-name rating, for the callback only.

    Kept apart, like a complainant's contact, so that one table holds it and the office alone
    reads it (POST /rectifications/<id>/rater, logged in custody).
    """

    __tablename__ = "evaluation_rater_contacts"

    invitation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evaluation_invitations.id"), primary_key=True)
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))


class Ballot(IdMixin, JurisdictionScoped, Base):
    """A rater's answers to a campaign's questionnaire about one target. One per invitation (unique)."""

    __tablename__ = "evaluation_ballots"
    __table_args__ = (Index("ix_evaluation_ballots_campaign_month", "campaign_id", "month"),)

    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evaluation_campaigns.id"), index=True)
    target_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evaluation_targets.id"), index=True)
    #: The rater ↔ ballot link: read for the bad-rating callback only, by the office only.
    invitation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evaluation_invitations.id"), unique=True)
    questionnaire_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evaluation_questionnaires.id"))
    answers: Mapped[dict] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The office's day and month of the ballot (monthly rankings group on it).
    local_date: Mapped[date] = mapped_column(Date)
    month: Mapped[str] = mapped_column(String(7))
    #: The Idempotency-Key the page sent: the same key again gets the same receipt.
    client_key: Mapped[str | None] = mapped_column(String(200))
    body_hash: Mapped[str] = mapped_column(String(64))
    #: The submitting address, for the stuffing check (office only).
    address: Mapped[str | None] = mapped_column(String(64), index=True)
    #: Many ballots from one address within the hour: suspected stuffing, for the office to look at.
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    receipt_no: Mapped[str] = mapped_column(String(24), unique=True)
    #: An appeal was upheld: the ballot no longer counts in the results.
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)


class Grade(Base):
    """One five-grade answer of a ballot with its weight for the ballot's target: what the results add up."""

    __tablename__ = "evaluation_grades"
    __table_args__ = (CheckConstraint("grade >= 1 AND grade <= 5", name="grade_range"),)

    ballot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evaluation_ballots.id"), primary_key=True)
    question: Mapped[str] = mapped_column(String(64), primary_key=True)
    grade: Mapped[int] = mapped_column(Integer)
    weight: Mapped[float] = mapped_column(Float, default=1.0)


class Rectification(IdMixin, JurisdictionScoped, Base):
    """差评整改: a bad rating put right by its unit within the working-day limit, verified, answered back."""

    __tablename__ = "evaluation_rectifications"

    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evaluation_campaigns.id"), index=True)
    ballot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evaluation_ballots.id"), unique=True)
    target_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evaluation_targets.id"))
    #: The unit that answers (the target's unit).
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"), index=True)
    state: Mapped[RectificationState] = mapped_column(
        Enum(RectificationState, native_enum=False, length=16), default=RectificationState.open, index=True)
    #: What the rater complained of: the bad grades (question → grade) and the ballot's comments.
    complaint: Mapped[dict] = mapped_column(JSON)
    opened_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    verification_note: Mapped[str | None] = mapped_column(Text)
    verified_at: Mapped[datetime | None]
    verified_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    #: The answer to the rater, shown on their invitation page.
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None]
    appeal_reason: Mapped[str | None] = mapped_column(Text)
    appealed_at: Mapped[datetime | None]
    appeal_upheld: Mapped[bool | None] = mapped_column(Boolean)
    appeal_note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    #: The accountability case an overdue item became.
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
