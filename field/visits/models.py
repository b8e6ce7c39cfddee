"""Undercover work: finding taxonomy, visit tasks, visits, findings, callback sampling (design: field/visits/visits.py)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.core.models.base import Base, IdMixin, JurisdictionScoped, TimestampMixin
from field.directory.models import Enterprise, Located, Person, SquadMember, Unit
from field.core.models.records import FieldRecord, Positioned


#: Photos of a visit may be taken on the way in or out.
EVIDENCE_MARGIN = timedelta(hours=1)
#: A finding's time is the monitor's estimate of when it happened.
FINDING_EVIDENCE_MARGIN = timedelta(hours=2)


def _enum(cls):
    return Enum(cls, native_enum=False, length=16)


class FindingCategory(IdMixin, TimestampMixin, Base):
    """A kind of misconduct the office records findings under (brief 4)."""

    __tablename__ = "finding_categories"
    __table_args__ = (
        UniqueConstraint("jurisdiction_id", "code"),
        # NULL is distinct in a unique constraint: the seeded (global) codes need their own index.
        Index("uq_finding_categories_global_code", "code", unique=True,
              sqlite_where=text("jurisdiction_id IS NULL"), postgresql_where=text("jurisdiction_id IS NULL")),
    )

    #: NULL: seeded, shared by every office. Otherwise an office's own, applying below it too.
    jurisdiction_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    #: English snake_case; what a finding and the review queue's ``category`` filter carry.
    code: Mapped[str] = mapped_column(String(48))
    label_zh: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(200))
    #: The family a category belongs to (``five_poisons``, ``three_actions`` …), for reports.
    group_code: Mapped[str | None] = mapped_column(String(48))
    #: An inactive category takes no new findings; the findings it has keep it.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class TaskMethod(str, enum.Enum):
    follow_the_lead = "follow_the_lead"  #: 顺藤摸瓜访
    casual_talk = "casual_talk"          #: 茶余饭后访
    in_disguise = "in_disguise"          #: 乔装打扮访
    callback = "callback"                #: 抽件回头访: calling back a sample of completed cases


class TaskState(str, enum.Enum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


class TargetKind(str, enum.Enum):
    unit = "unit"              #: a department, public-service company, section or window
    enterprise = "enterprise"
    place = "place"            #: a street, a village, a market: a name and a location
    sample = "sample"          #: the cases of a callback sample


class VisitTask(IdMixin, TimestampMixin, JurisdictionScoped, Located, Base):
    """The office's order to a squad: where to go (or whom to call), about what, when, and how."""

    __tablename__ = "visit_tasks"
    __table_args__ = (
        Index("ix_visit_tasks_squad_state", "squad_id", "state"),
        # At most one live (not cancelled) assignment of a sample.
        Index("uq_visit_tasks_live_sample", "sample_id", unique=True,
              sqlite_where=text("state <> 'cancelled'"), postgresql_where=text("state <> 'cancelled'")),
        CheckConstraint(
            "(target_kind = 'unit') = (target_unit_id IS NOT NULL)"
            " AND (target_kind = 'enterprise') = (target_enterprise_id IS NOT NULL)"
            " AND (target_kind = 'place') = (place_name IS NOT NULL)"
            " AND (target_kind = 'sample') = (sample_id IS NOT NULL)"
            " AND (method = 'callback') = (target_kind = 'sample')",
            name="one_target"),
    )

    squad_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("squads.id"))
    method: Mapped[TaskMethod] = mapped_column(_enum(TaskMethod))
    target_kind: Mapped[TargetKind] = mapped_column(_enum(TargetKind))
    target_unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"), index=True)
    target_enterprise_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    #: A free place's name; its position is the ``Located`` point.
    place_name: Mapped[str | None] = mapped_column(String(200))
    sample_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("callback_samples.id"))
    theme: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[str] = mapped_column(Text, default="")
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    state: Mapped[TaskState] = mapped_column(_enum(TaskState), default=TaskState.open)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))

    target_unit: Mapped[Unit | None] = relationship(lazy="joined")
    target_enterprise: Mapped[Enterprise | None] = relationship(lazy="joined")


visit_members = Table(
    "visit_members",
    Base.metadata,
    Column("visit_id", Uuid, ForeignKey("visits.id"), primary_key=True),
    Column("member_id", Uuid, ForeignKey("squad_members.id"), primary_key=True, index=True),
)


class Visit(Positioned, FieldRecord):
    """A squad's visit: who went (by code), when, where, and what they saw."""

    __tablename__ = "visits"
    __mapper_args__ = {"polymorphic_identity": "visit"}

    id: Mapped[uuid.UUID] = mapped_column(ForeignKey("field_records.id"), primary_key=True)
    task_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visit_tasks.id"), index=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    narrative: Mapped[str] = mapped_column(Text)

    #: Pseudonymous: a membership carries the code, never the name.
    members: Mapped[list[SquadMember]] = relationship(secondary=visit_members, lazy="selectin",
                                                      order_by="SquadMember.code")

    @property
    def evidence_window(self) -> tuple[datetime, datetime] | None:
        """When its photos should have been taken (field/attachments/links.py): the visit, give or take a margin."""
        if self.started_at is None or self.ended_at is None:
            return None
        return self.started_at - EVIDENCE_MARGIN, self.ended_at + EVIDENCE_MARGIN


class Severity(str, enum.Enum):
    """How grave a finding is (docs/visits.md)."""

    minor = "minor"        #: 一般: discourtesy or carelessness, no harm to the applicant's interests
    moderate = "moderate"  #: 较重: cost the applicant time or money, or broke a rule of service
    serious = "serious"    #: 严重: extortion, collusion, a serious breach of law or discipline: a case


class Finding(Positioned, FieldRecord):
    """A problem a monitor saw (or a callback revealed): what, how grave, who, when, where.

    ``unit_id``, ``squad_id`` and ``category_code`` live on the envelope, for the queue.
    """

    __tablename__ = "findings"
    __mapper_args__ = {"polymorphic_identity": "finding"}

    id: Mapped[uuid.UUID] = mapped_column(ForeignKey("field_records.id"), primary_key=True)
    #: The exact category row (a code may be an office's own); ``category_code`` copies its code.
    category_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("finding_categories.id"), index=True)
    severity: Mapped[Severity] = mapped_column(_enum(Severity))
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("persons.id"), index=True)
    occurred_at: Mapped[datetime]
    description: Mapped[str] = mapped_column(Text)
    visit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visits.id"), index=True)
    callback_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("callbacks.id"), index=True)

    category: Mapped[FindingCategory] = relationship(lazy="joined")
    person: Mapped[Person | None] = relationship(lazy="joined")

    @property
    def evidence_window(self) -> tuple[datetime, datetime] | None:
        """Around when it happened, not when it was typed up: a finding may be written hours later."""
        if self.occurred_at is None:
            return None
        return self.occurred_at - FINDING_EVIDENCE_MARGIN, self.occurred_at + FINDING_EVIDENCE_MARGIN


class CallbackBatch(IdMixin, TimestampMixin, JurisdictionScoped, Base):
    """One imported list of completed service cases; the same file imported again is this batch."""

    __tablename__ = "callback_batches"
    __table_args__ = (UniqueConstraint("jurisdiction_id", "file_sha256"),)

    name: Mapped[str] = mapped_column(String(200))
    #: SHA-256 of the file's bytes: a second import of the same file finds this row.
    file_sha256: Mapped[str] = mapped_column(String(64))
    case_count: Mapped[int] = mapped_column(Integer, default=0)
    #: The rows refused at import: [{"row": 7, "case_no": "…", "reason": "…"}].
    rejected: Mapped[list] = mapped_column(JSON, default=list)
    imported_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))


class ServiceCase(IdMixin, JurisdictionScoped, Base):
    """A completed service case (办件) that may be called back; its applicant's contact is confidential."""

    __tablename__ = "service_cases"
    __table_args__ = (UniqueConstraint("jurisdiction_id", "case_no"),)

    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("callback_batches.id"), index=True)
    #: The row of the file it came from (the header is row 1), to find it in the spreadsheet.
    row: Mapped[int] = mapped_column(Integer)
    #: 办件编号: unique within the jurisdiction, so no import duplicates a case.
    case_no: Mapped[str] = mapped_column(String(64))
    #: The unit as the file names it; ``unit_id`` when it names one directory unit unambiguously.
    unit_name: Mapped[str] = mapped_column(String(300))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"), index=True)
    service: Mapped[str] = mapped_column(String(300))
    completed_on: Mapped[date] = mapped_column(Date)
    #: Confidential: office staff and the squad the case is assigned to, nobody else.
    applicant_name: Mapped[str | None] = mapped_column(String(100))
    applicant_contact: Mapped[str] = mapped_column(String(100))


class CallbackSample(IdMixin, TimestampMixin, JurisdictionScoped, Base):
    """A random draw of a batch's cases, reproducible from what is stored here (field/visits/callbacks.py)."""

    __tablename__ = "callback_samples"

    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("callback_batches.id"), index=True)
    #: 0 ≤ seed < 2**53, so JSON clients (JavaScript numbers) read it exactly.
    seed: Mapped[int] = mapped_column(BigInteger)
    #: What the office asked for: a number of cases, or a percentage of the batch.
    requested_size: Mapped[int | None] = mapped_column(Integer)
    requested_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    size: Mapped[int] = mapped_column(Integer)
    #: The population drawn from: its size and the SHA-256 of its case numbers in draw order.
    population: Mapped[int] = mapped_column(Integer)
    population_sha256: Mapped[str] = mapped_column(String(64))
    #: Names the procedure (field/visits/callbacks.py ALGORITHM), so a later change cannot pass for this one.
    algorithm: Mapped[str] = mapped_column(String(48))
    drawn_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))

    batch: Mapped[CallbackBatch] = relationship(lazy="joined")


class SampleCase(Base):
    """A case drawn into a sample, at its position in the draw (1-based)."""

    __tablename__ = "callback_sample_cases"

    sample_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("callback_samples.id"), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_cases.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)


class Callback(FieldRecord):
    """One call to an applicant of a sampled case: reached or not, satisfied or not, the problem they told."""

    __tablename__ = "callbacks"
    __mapper_args__ = {"polymorphic_identity": "callback"}

    id: Mapped[uuid.UUID] = mapped_column(ForeignKey("field_records.id"), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_cases.id"), index=True)
    #: The assignment the call was made under, when there was one.
    task_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visit_tasks.id"), index=True)
    called_at: Mapped[datetime]
    reached: Mapped[bool] = mapped_column(Boolean)
    #: None when the applicant was not reached (or would not say).
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    problem: Mapped[str | None] = mapped_column(Text)

    case: Mapped[ServiceCase] = relationship(lazy="joined")
