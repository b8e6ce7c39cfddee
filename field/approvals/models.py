"""Approval matters, cases as the approval systems report them, and what the office derives (docs/service.md §2)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, Enum, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from field.core.models.base import Base, IdMixin, JurisdictionScoped, TimestampMixin, utcnow


def _enum(cls, length=16):
    return Enum(cls, native_enum=False, length=length, validate_strings=True)


class CaseState(str, enum.Enum):
    accepted = "accepted"    #: 受理, running
    suspended = "suspended"  #: 补正: waiting for the applicant, the clock stopped
    completed = "completed"  #: 办结


class Outcome(str, enum.Enum):
    approved = "approved"
    refused = "refused"
    deferred = "deferred"    #: 缓办 / 延期
    withdrawn = "withdrawn"


class NoticeKind(str, enum.Enum):
    deferral = "deferral"
    refusal = "refusal"


class AlertLevel(str, enum.Enum):
    yellow = "yellow"        #: the configured share of the limit used
    red = "red"              #: past the limit
    deemed = "deemed"        #: past the limit on a matter where silence counts as consent (超时默认)
    no_notice = "no_notice"  #: deferred or refused without a delay-feedback notice


class AlertState(str, enum.Enum):
    open = "open"
    dismissed = "dismissed"
    converted = "converted"  #: a case was opened from it


class ApprovalMatter(IdMixin, TimestampMixin, JurisdictionScoped, Base):
    """事项: what can be applied for, with its time limits in working days."""

    __tablename__ = "approval_matters"
    __table_args__ = (
        UniqueConstraint("jurisdiction_id", "code", name="uq_approval_matters_code"),
        CheckConstraint("legal_limit_days > 0", name="legal_limit_positive"),
        CheckConstraint("promised_limit_days IS NULL OR promised_limit_days > 0", name="promised_limit_positive"),
    )

    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"), index=True)
    legal_limit_days: Mapped[int] = mapped_column(Integer)
    promised_limit_days: Mapped[int | None] = mapped_column(Integer)
    deemed_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Share of the limit at which a yellow alert is raised; the app's default when null.
    yellow_share: Mapped[float | None] = mapped_column(Float)

    @property
    def limit_days(self) -> int:
        return self.promised_limit_days or self.legal_limit_days


class ApprovalCase(IdMixin, JurisdictionScoped, Base):
    """One application as an approval system reports it; the folded columns are computed from its events."""

    __tablename__ = "approval_cases"
    __table_args__ = (
        UniqueConstraint("jurisdiction_id", "source_system", "source_number", name="uq_approval_cases_source"),
        Index("ix_approval_cases_accepted", "jurisdiction_id", "accepted_on"),
    )

    source_system: Mapped[str] = mapped_column(String(64))
    source_number: Mapped[str] = mapped_column(String(64))
    matter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("approval_matters.id"), index=True)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"), index=True)
    key_project_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("key_projects.id"), index=True)
    applicant: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[CaseState | None] = mapped_column(_enum(CaseState))
    outcome: Mapped[Outcome | None] = mapped_column(_enum(Outcome))
    accepted_at: Mapped[datetime | None]
    accepted_on: Mapped[date | None] = mapped_column(Date)
    completed_at: Mapped[datetime | None]
    completed_on: Mapped[date | None] = mapped_column(Date)
    limit_days: Mapped[int | None] = mapped_column(Integer)
    #: Working days used (suspended ones excluded), up to completion or to the day of the last fold.
    working_days: Mapped[int | None] = mapped_column(Integer)
    suspended_days: Mapped[int] = mapped_column(Integer, default=0)
    deadline: Mapped[date | None] = mapped_column(Date)
    within_limit: Mapped[bool | None] = mapped_column(Boolean)
    #: The count read a year with no official schedule (Monday to Friday assumed).
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    deemed_approved: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Deferred or refused, and no delay-feedback notice recorded.
    needs_notice: Mapped[bool] = mapped_column(Boolean, default=False)
    events: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApprovalEvent(Base):
    """The log as received: ``seq`` is the event's number within its case in the source system."""

    __tablename__ = "approval_events"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("approval_cases.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    body: Mapped[dict] = mapped_column(JSON)
    body_hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApprovalStep(Base):
    """A step of a case (derived from its events on every fold): steps of one ``parallel_group`` run together."""

    __tablename__ = "approval_steps"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("approval_cases.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"), index=True)
    parallel_group: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    working_days: Mapped[int | None] = mapped_column(Integer)


class ApprovalSuspension(Base):
    """补正: the applicant was asked for more; the clock stops from ``started_at`` to ``ended_at``."""

    __tablename__ = "approval_suspensions"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("approval_cases.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)


class ApprovalNotice(IdMixin, JurisdictionScoped, Base):
    """滞办反馈告知书: the written notice a deferral or refusal owes the applicant."""

    __tablename__ = "approval_notices"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("approval_cases.id"), index=True)
    kind: Mapped[NoticeKind] = mapped_column(_enum(NoticeKind))
    reason: Mapped[str] = mapped_column(Text)
    handler_name: Mapped[str] = mapped_column(String(100))
    issued_on: Mapped[date] = mapped_column(Date)
    #: pushed (the approval system) or entered (the office)
    source: Mapped[str] = mapped_column(String(16), default="entered")
    entered_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    #: The complaint (an office case) about this approval it was attached to.
    complaint_case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApprovalAlert(IdMixin, JurisdictionScoped, Base):
    """An alert in the office's queue; one per case and level (raising it again changes nothing)."""

    __tablename__ = "approval_alerts"
    __table_args__ = (
        UniqueConstraint("approval_case_id", "level", name="uq_approval_alerts_case_level"),
        Index("ix_approval_alerts_queue", "state", "raised_at"),
    )

    approval_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("approval_cases.id"))
    level: Mapped[AlertLevel] = mapped_column(_enum(AlertLevel))
    state: Mapped[AlertState] = mapped_column(_enum(AlertState), default=AlertState.open)
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Working days used and the limit when it was raised.
    working_days: Mapped[int | None] = mapped_column(Integer)
    limit_days: Mapped[int | None] = mapped_column(Integer)
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), index=True)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
