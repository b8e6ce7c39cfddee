"""Complaints and what happens to them: the work order, who complained (kept apart), answers, callbacks.

Every day a figure groups or judges by is a ``Date`` in the office's calendar, set by the domain when
the thing happens (received, dispatched, first acknowledged, answered), so the rates are plain SQL over
this table (field/complaints/rates.py); the handling time in working days needs the calendar and is
stored when the answer comes.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.core.models.base import Base, IdMixin, JurisdictionScoped, TimestampMixin, utcnow


#: A callback that carries a rating (the complainant was reached, or rated themselves).
_RATED = text("rating IS NOT NULL")


def _enum(cls, length=24):
    return Enum(cls, native_enum=False, length=length, validate_strings=True)


class Channel(str, enum.Enum):
    hotline = "hotline"  #: 经济110 / 12345, recorded by an operator
    mailbox = "mailbox"  #: 民情信箱, the public page or its JSON door
    open311 = "open311"  #: an Open311 GeoReport v2 client


class State(str, enum.Enum):
    received = "received"      #: waiting for triage
    accepted = "accepted"      #: waiting for dispatch
    rejected = "rejected"      #: not taken (with a reason)
    merged = "merged"          #: a duplicate of another complaint
    dispatched = "dispatched"  #: with the unit, waiting for its answer
    answered = "answered"      #: the unit answered: waiting for the callback or the complainant's rating
    closed = "closed"          #: rated satisfied or basically satisfied, or closed by the office


#: States in which the unit still owes an answer.
WITH_UNIT = frozenset({State.dispatched})
#: States that end the work order: no transition leaves them.
ENDED = frozenset({State.rejected, State.merged, State.closed})


class Rating(str, enum.Enum):
    satisfied = "satisfied"                      #: 满意
    basically_satisfied = "basically_satisfied"  #: 基本满意
    dissatisfied = "dissatisfied"                #: 不满意


class CallbackSource(str, enum.Enum):
    callback = "callback"  #: the office called the complainant back (回访)
    self = "self"          #: the complainant rated through the tracking secret


class Complaint(IdMixin, TimestampMixin, JurisdictionScoped, Base):
    __tablename__ = "complaints"
    __table_args__ = (
        # The office's list and the figures: a jurisdiction's complaints by day received.
        Index("ix_complaints_scope_received", "jurisdiction_id", "received_at", "id"),
        Index("ix_complaints_unit_received_on", "unit_id", "received_on"),
        Index("ix_complaints_unit_state", "unit_id", "state"),
        CheckConstraint("round >= 1", name="round_positive"),
    )

    #: ``TS20260512-7K3M9Q``: given to the complainant with the secret; the Open311 service_request_id.
    tracking_number: Mapped[str] = mapped_column(String(24), unique=True)
    #: SHA-256 of the secret shown once to the complainant; the secret itself is not kept.
    secret_hash: Mapped[str] = mapped_column(String(64))
    channel: Mapped[Channel] = mapped_column(_enum(Channel, 16))
    state: Mapped[State] = mapped_column(_enum(State, 16), default=State.received, index=True)
    category_code: Mapped[str] = mapped_column(String(48), index=True)
    #: What the complainant said (the caller's words, the mailbox's text).
    text: Mapped[str] = mapped_column(Text)
    #: The unit complained about, then the unit it is dispatched to.
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"))
    location = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=True)
    address: Mapped[str | None] = mapped_column(String(300))
    #: The complainant asked that their identity not be used even by the office beyond the callback.
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_on: Mapped[date] = mapped_column(Date)
    #: The operator who took the call (hotline); NULL for the public channels.
    taken_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    triaged_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    triaged_at: Mapped[datetime | None]
    reject_reason: Mapped[str | None] = mapped_column(Text)
    duplicate_of_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("complaints.id"))

    #: 1, then +1 each time a dissatisfied rating reopens it.
    round: Mapped[int] = mapped_column(Integer, default=1)
    #: The first dispatch's day and limits (the rates judge the first round); later rounds move the dues.
    dispatched_on: Mapped[date | None] = mapped_column(Date)
    response_due: Mapped[date | None] = mapped_column(Date)
    answer_due: Mapped[date | None] = mapped_column(Date)
    #: A due day counted over a year without a declared schedule (weekends alone).
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The handler's first acknowledgement (the response) and the latest answer.
    responded_on: Mapped[date | None] = mapped_column(Date)
    answered_on: Mapped[date | None] = mapped_column(Date)
    #: Working days from the first dispatch to the latest answer.
    handling_working_days: Mapped[int | None] = mapped_column(Integer)

    #: The latest callback's or self rating's word on it (NULL: not said yet).
    resolved: Mapped[bool | None] = mapped_column(Boolean)
    rating: Mapped[Rating | None] = mapped_column(_enum(Rating, 24))
    closed_on: Mapped[date | None] = mapped_column(Date)

    #: The accountability case opened from it (field/cases), once escalated.
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), unique=True)

    answers: Mapped[list[ComplaintAnswer]] = relationship(lazy="selectin", order_by="ComplaintAnswer.answered_at")
    callbacks: Mapped[list[ComplaintCallback]] = relationship(lazy="selectin",
                                                              order_by="ComplaintCallback.recorded_at")
    photos: Mapped[list[ComplaintPhoto]] = relationship(lazy="selectin", order_by="ComplaintPhoto.attached_at")


class ComplaintContact(Base):
    """Who complained and how to reach them: confidential, like a monitor's identity.

    Read only by the office's callback view (``field.complaints.views.callback_contact``) and the
    escalation, which hands it to the case's own kept-apart table; never by a handler, a list, an
    export, the figures, Open311 or the sync feed.
    """

    __tablename__ = "complaint_contacts"

    complaint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("complaints.id"), primary_key=True)
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(100))
    #: Phone number, e-mail or address, as given.
    contact: Mapped[str | None] = mapped_column(String(200))
    #: The enterprise that complains (the retaliation watch follows its inspections).
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enterprises.id"), index=True)


class ComplaintAnswer(IdMixin, Base):
    """The unit handler's answer for one round: never changed (a reopening asks for a new one)."""

    __tablename__ = "complaint_answers"

    complaint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("complaints.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    #: The handler's own word: the problem is solved (the complainant's callback judges).
    resolved: Mapped[bool] = mapped_column(Boolean)
    handler_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class ComplaintCallback(IdMixin, Base):
    """A callback by the office, or the complainant's own rating through the tracking secret."""

    __tablename__ = "complaint_callbacks"
    __table_args__ = (
        # One rating per answer (round): two requests that both found the complaint answered cannot both rate it.
        Index("uq_complaint_callbacks_one_rating_per_round", "complaint_id", "round", unique=True,
              sqlite_where=_RATED, postgresql_where=_RATED),
    )

    complaint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("complaints.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    source: Mapped[CallbackSource] = mapped_column(_enum(CallbackSource, 16))
    reached: Mapped[bool] = mapped_column(Boolean)
    resolved: Mapped[bool | None] = mapped_column(Boolean)
    rating: Mapped[Rating | None] = mapped_column(_enum(Rating, 24))
    text: Mapped[str] = mapped_column(Text, default="")
    #: The operator or reviewer who called; NULL for a self rating.
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ComplaintPhoto(Base):
    """An original (by SHA-256, in ``blobs``) sent with a complaint."""

    __tablename__ = "complaint_photos"

    complaint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("complaints.id"), primary_key=True)
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), primary_key=True, index=True)
    filename: Mapped[str | None] = mapped_column(String(255))
    attached_at: Mapped[datetime] = mapped_column(default=utcnow)


class ComplaintHandler(Base):
    """Which unit a handler answers for."""

    __tablename__ = "complaint_handlers"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"), index=True)
    assigned_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)


class ComplaintTimeLimit(Base):
    """An office's own limits for a category; applies to its jurisdiction and everything below."""

    __tablename__ = "complaint_time_limits"
    __table_args__ = (
        CheckConstraint("response_days >= 1 AND response_days <= 30", name="response_days_range"),
        CheckConstraint("answer_days >= 1 AND answer_days <= 90", name="answer_days_range"),
    )

    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdictions.id"), primary_key=True)
    category_code: Mapped[str] = mapped_column(String(48), primary_key=True)
    response_days: Mapped[int] = mapped_column(Integer)
    answer_days: Mapped[int] = mapped_column(Integer)
    updated_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
