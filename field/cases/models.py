"""Accountability cases (问责 / 效能案件): sources, subjects, deadline, delay notices, gates, outcomes.

The tables are shaped for the office's figures, computed by the database: every date a
figure groups by is a ``Date`` column in the office's calendar (Asia/Shanghai), and what
a figure needs from elsewhere at the time of a decision is copied onto the row (the
rank of a sanctioned person, the unit of a person named as a subject, the handling time
in working days, which needs the calendar and so cannot be computed in SQL).

- cases per period: ``cases.opened_on`` / ``cases.closed_on`` / ``cases.ended_on``;
- handling time: ``cases.handling_working_days`` (set when the case ends);
- overdue: ``cases.ended_on IS NULL AND cases.effective_deadline < today``;
- dispositions by rank and by kind: ``case_dispositions.rank_at_decision``, ``kind``, ``grade``;
- cases per unit: ``case_subjects.unit_id`` (a person subject carries their unit too).
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.core.models.base import Base, IdMixin, JurisdictionScoped, TimestampMixin, utcnow
from field.directory.models import Person, PersonRank, Unit
from field.core.models.platform import Jurisdiction, User


def _enum(cls, length=32):
    return Enum(cls, native_enum=False, length=length, validate_strings=True)


class CaseKind(str, enum.Enum):
    """What the case is about; each kind has its own time limit in working days (field/cases/)."""

    efficiency_complaint = "efficiency_complaint"        #: 效能投诉
    work_style = "work_style"                            #: 作风问题: 庸懒散, 五毒, 不作为慢作为乱作为
    arbitrary_charges = "arbitrary_charges"              #: 乱收费、乱罚款、乱摊派
    inspection_irregularity = "inspection_irregularity"  #: 违规涉企检查 (unfiled, excessive)
    discipline = "discipline"                            #: 违反工作纪律 (absent from post …)


class CaseState(str, enum.Enum):
    opened = "opened"                #: 立案
    investigating = "investigating"  #: 调查核实
    deciding = "deciding"            #: 研究处理
    rectifying = "rectifying"        #: 督促整改
    closed = "closed"                #: 办结
    dismissed = "dismissed"          #: 不予立案 / 撤销 (with a reason)


#: States in which a case is still running (on the clock).
OPEN_STATES = frozenset({CaseState.opened, CaseState.investigating, CaseState.deciding, CaseState.rectifying})


class ComplaintChannel(str, enum.Enum):
    phone = "phone"    #: 电话
    letter = "letter"  #: 来信
    visit = "visit"    #: 来访
    online = "online"  #: 网络


class Gate(str, enum.Enum):
    """The four don't-let-go (四个不放过): all four are recorded before a case closes."""

    facts_established = "facts_established"            #: 问题事实未查清不放过
    problem_corrected = "problem_corrected"            #: 问题未纠正不放过
    responsible_dealt_with = "responsible_dealt_with"  #: 责任人未处理不放过
    rectification_done = "rectification_done"          #: 整改措施未落实不放过


class DispositionKind(str, enum.Enum):
    # -- of a person
    admonishment_talk = "admonishment_talk"                  #: 诫勉谈话
    public_criticism = "public_criticism"                    #: 通报批评
    loss_of_award_eligibility = "loss_of_award_eligibility"  #: 取消评先评优资格
    reassignment = "reassignment"                            #: 调离岗位
    removal_from_post = "removal_from_post"                  #: 免职
    dismissal = "dismissal"                                  #: 辞退 / 解聘
    ordered_resignation = "ordered_resignation"              #: 责令辞职
    disciplinary_sanction = "disciplinary_sanction"          #: 政务处分 / 党纪处分, with a grade
    transfer_to_judiciary = "transfer_to_judiciary"          #: 移送司法机关
    # -- of a unit
    yellow_card = "yellow_card"                              #: 黄牌警告
    listed_supervision = "listed_supervision"                #: 挂牌督办
    loss_of_excellent_grade = "loss_of_excellent_grade"      #: 取消评优 (年度考核"优秀"等次)


PERSON_DISPOSITIONS = frozenset({
    DispositionKind.admonishment_talk, DispositionKind.public_criticism, DispositionKind.loss_of_award_eligibility,
    DispositionKind.reassignment, DispositionKind.removal_from_post, DispositionKind.dismissal,
    DispositionKind.ordered_resignation, DispositionKind.disciplinary_sanction, DispositionKind.transfer_to_judiciary,
})
UNIT_DISPOSITIONS = frozenset({
    DispositionKind.yellow_card, DispositionKind.listed_supervision, DispositionKind.loss_of_excellent_grade,
})


class SanctionSystem(str, enum.Enum):
    """Which body of rules a disciplinary sanction is given under; each has its own grades."""

    #: 政务处分, 《中华人民共和国公职人员政务处分法》(2020) 第七条 (the same six as 公务员法 第六十二条).
    administrative = "administrative"
    #: 党纪处分, 《中国共产党纪律处分条例》(2023 修订) 第八条.
    party = "party"


class SanctionGrade(str, enum.Enum):
    warning = "warning"                              #: 警告 (both)
    serious_warning = "serious_warning"              #: 严重警告 (party)
    demerit = "demerit"                              #: 记过 (administrative)
    major_demerit = "major_demerit"                  #: 记大过 (administrative)
    demotion = "demotion"                            #: 降级 (administrative)
    dismissal_from_post = "dismissal_from_post"      #: 撤职 (administrative)
    removal_from_party_post = "removal_from_party_post"  #: 撤销党内职务 (party)
    party_probation = "party_probation"              #: 留党察看 (party)
    expulsion = "expulsion"                          #: 开除 (administrative) / 开除党籍 (party)


#: The grades of each system, lightest first (the order of the laws' own lists).
SANCTION_GRADES: dict[SanctionSystem, tuple[SanctionGrade, ...]] = {
    SanctionSystem.administrative: (SanctionGrade.warning, SanctionGrade.demerit, SanctionGrade.major_demerit,
                                    SanctionGrade.demotion, SanctionGrade.dismissal_from_post,
                                    SanctionGrade.expulsion),
    SanctionSystem.party: (SanctionGrade.warning, SanctionGrade.serious_warning,
                           SanctionGrade.removal_from_party_post, SanctionGrade.party_probation,
                           SanctionGrade.expulsion),
}


class CaseTimeLimit(Base):
    """An office's own time limit for a kind of case; applies to its jurisdiction and everything below."""

    __tablename__ = "case_time_limits"
    __table_args__ = (CheckConstraint("working_days >= 1 AND working_days <= 365", name="working_days_range"),)

    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdictions.id"), primary_key=True)
    kind: Mapped[CaseKind] = mapped_column(_enum(CaseKind), primary_key=True)
    working_days: Mapped[int] = mapped_column(Integer)
    updated_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CaseCounter(Base):
    """The last case number given out per numbering area (6-digit code) and year; locked to allocate."""

    __tablename__ = "case_counters"

    #: The 6-digit division code numbers are made with: a district's own, a street's district's.
    area_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class Case(IdMixin, TimestampMixin, JurisdictionScoped, Base):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("area_code", "year", "seq", name="uq_cases_area_year_seq"),
        # Figures per period and the overdue list, per jurisdiction.
        Index("ix_cases_jurisdiction_opened", "jurisdiction_id", "opened_on"),
        Index("ix_cases_jurisdiction_ended", "jurisdiction_id", "ended_on"),
        Index("ix_cases_open_deadline", "ended_on", "effective_deadline"),
        CheckConstraint("seq >= 1 AND seq <= 9999", name="seq_range"),
    )

    #: ``2026-500107-0012``: year of opening, numbering area, sequence in that area and year.
    number: Mapped[str] = mapped_column(String(20), unique=True)
    area_code: Mapped[str] = mapped_column(String(6))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)

    kind: Mapped[CaseKind] = mapped_column(_enum(CaseKind), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[CaseState] = mapped_column(_enum(CaseState, 16), default=CaseState.opened, index=True)

    opened_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    #: The office user who runs the case and signs its delay notices.
    handler_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The office's calendar day of opening: the day the time limit counts from (not counted itself).
    opened_on: Mapped[date] = mapped_column(Date)
    #: The kind's limit when the case was opened: a later change of the limit moves no running deadline.
    time_limit_days: Mapped[int] = mapped_column(Integer)
    #: ``opened_on`` plus ``time_limit_days`` working days on the jurisdiction's calendar.
    deadline: Mapped[date] = mapped_column(Date)
    #: The latest delay notice's new date, or ``deadline`` when later: what overdue is measured against.
    effective_deadline: Mapped[date] = mapped_column(Date)
    #: ``deadline`` was counted over a year without a declared schedule (weekends alone); it is
    #: recomputed when that year is declared (field/cases/deadlines.py).
    deadline_provisional: Mapped[bool] = mapped_column(default=False)

    #: Set when the case closes or is dismissed; NULL while it runs.
    ended_on: Mapped[date | None] = mapped_column(Date)
    ended_at: Mapped[datetime | None]
    closed_on: Mapped[date | None] = mapped_column(Date)
    dismissed_reason: Mapped[str | None] = mapped_column(Text)
    #: Working days from opening to the end (``working_days_between(opened_on, ended_on)``).
    handling_working_days: Mapped[int | None] = mapped_column(Integer)
    #: Whether the case ended after its effective deadline.
    ended_late: Mapped[bool | None]
    #: ``handling_working_days`` was counted over a year without a declared schedule.
    handling_days_provisional: Mapped[bool] = mapped_column(default=False)

    jurisdiction: Mapped[Jurisdiction] = relationship(lazy="joined")
    handler: Mapped[User] = relationship(lazy="joined", foreign_keys=[handler_id])
    opened_by: Mapped[User] = relationship(lazy="joined", foreign_keys=[opened_by_id])
    sources: Mapped[list[CaseSource]] = relationship(lazy="selectin", order_by="CaseSource.position",
                                                     back_populates="case")
    subjects: Mapped[list[CaseSubject]] = relationship(lazy="selectin", order_by="CaseSubject.added_at",
                                                       back_populates="case")
    # Module-qualified: field/complaints/ has a Complaint of its own (the work order).
    complaint: Mapped[Complaint | None] = relationship("field.cases.models.Complaint", lazy="selectin",
                                                       back_populates="case")
    delay_notices: Mapped[list[DelayNotice]] = relationship(lazy="selectin", order_by="DelayNotice.recorded_at")
    gates: Mapped[list[CaseGate]] = relationship(lazy="selectin", order_by="CaseGate.recorded_at")
    dispositions: Mapped[list[Disposition]] = relationship(lazy="selectin", order_by="Disposition.recorded_at")
    notices: Mapped[list[PublicNotice]] = relationship(lazy="selectin", order_by="PublicNotice.recorded_at")

    def overdue_on(self, day: date) -> bool:
        """The Python twin of ``field.cases.lifecycle.overdue_predicate``."""
        return self.ended_on is None and self.effective_deadline < day

    @property
    def effective_deadline_provisional(self) -> bool:
        """The effective deadline is the computed, provisional one (no delay notice set a later date)."""
        return self.deadline_provisional and self.effective_deadline == self.deadline

    @property
    def provisional_fields(self) -> list[str]:
        """The case's values computed on weekends alone, pending a year's schedule (empty: none)."""
        fields = []
        if self.deadline_provisional:
            fields.append("deadline")
            if self.effective_deadline_provisional:
                fields += ["effective_deadline", "overdue" if self.ended_on is None else "ended_late"]
        if self.handling_days_provisional:
            fields.append("handling_working_days")
        return fields

    @property
    def provisional(self) -> bool:
        return bool(self.provisional_fields)


class CaseSource(Base):
    """A field record the case was opened from (or linked later): a finding, a report, an inspection …"""

    __tablename__ = "case_sources"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("field_records.id"), primary_key=True, index=True)
    #: The record's kind, read from its envelope when linked (figures: cases by origin).
    record_kind: Mapped[str] = mapped_column(String(32))
    #: Order of linking: the first located source places the case on a map.
    position: Mapped[int] = mapped_column(Integer)
    linked_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="sources")


class Complaint(IdMixin, JurisdictionScoped, Base):
    """A complaint the office took by phone, letter, visit or online, that a case was opened from.

    Who complained is not here: ``ComplainantContact`` holds it, read only by the audited unmask.
    """

    __tablename__ = "case_complaints"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), unique=True)
    channel: Mapped[ComplaintChannel] = mapped_column(_enum(ComplaintChannel, 16))
    received_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)
    taken_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))

    case: Mapped[Case] = relationship(back_populates="complaint")


class ComplainantContact(Base):
    """Who complained and how to reach them: confidential, like a monitor's identity.

    Never joined into a case view, an export, a notice or the timeline; read only through
    ``field.cases.complainants.unmask_complainant`` (admins, with a reason, logged in the custody log).
    """

    __tablename__ = "case_complainant_contacts"

    complaint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_complaints.id"), primary_key=True)
    #: Denormalised so the notice check finds every contact of a jurisdiction in one query.
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(100))
    #: Phone number, address or e-mail, as given.
    contact: Mapped[str | None] = mapped_column(String(200))


class CaseSubject(IdMixin, Base):
    """A unit or a person the case is about."""

    __tablename__ = "case_subjects"
    __table_args__ = (
        UniqueConstraint("case_id", "subject_key", name="uq_case_subjects_case_key"),
        Index("ix_case_subjects_unit", "unit_id"),
        Index("ix_case_subjects_person", "person_id"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    #: ``unit:<id>`` or ``person:<id>``: one row per subject and case.
    subject_key: Mapped[str] = mapped_column(String(48))
    #: The unit, or the person's unit when they were named (figures: cases per unit).
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"))
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("persons.id"))
    added_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="subjects")
    unit: Mapped[Unit] = relationship(lazy="joined")
    person: Mapped[Person | None] = relationship(lazy="joined")

    @property
    def subject_type(self) -> str:
        return "person" if self.person_id else "unit"


class DelayNotice(IdMixin, Base):
    """滞办告知书: the handler's notice that the case will miss its deadline, with the new date. Never changed."""

    __tablename__ = "case_delay_notices"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    handler_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    previous_deadline: Mapped[date] = mapped_column(Date)
    new_deadline: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Given after the deadline it moves had already passed.
    late: Mapped[bool] = mapped_column(default=False)

    handler: Mapped[User] = relationship(lazy="joined")


class CaseGate(IdMixin, Base):
    """One of the four don't-let-go, recorded once with a note and its supporting evidence."""

    __tablename__ = "case_gates"
    __table_args__ = (UniqueConstraint("case_id", "gate", name="uq_case_gates_case_gate"),)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    gate: Mapped[Gate] = mapped_column(_enum(Gate))
    note: Mapped[str] = mapped_column(Text)
    #: SHA-256s of evidence of the case (attached to a source record or to the case).
    evidence: Mapped[list] = mapped_column(JSON, default=list)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    recorded_by: Mapped[User] = relationship(lazy="joined")


class Disposition(IdMixin, JurisdictionScoped, Base):
    """What was decided against a person or a unit, by whom and when."""

    __tablename__ = "case_dispositions"
    __table_args__ = (
        Index("ix_case_dispositions_jurisdiction_decided", "jurisdiction_id", "decided_on"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[DispositionKind] = mapped_column(_enum(DispositionKind), index=True)
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("persons.id"), index=True)
    #: The unit disposed of, or the person's unit at the decision.
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"), index=True)
    #: The person's rank when decided (处级 / 科级 / below): history does not move with promotions.
    rank_at_decision: Mapped[PersonRank | None] = mapped_column(_enum(PersonRank, 16))
    sanction_system: Mapped[SanctionSystem | None] = mapped_column(_enum(SanctionSystem, 16))
    grade: Mapped[SanctionGrade | None] = mapped_column(_enum(SanctionGrade))
    decided_on: Mapped[date] = mapped_column(Date)
    #: Who decided: 区纪委监委, 区效能办, the unit's party committee …
    authority: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person | None] = relationship(lazy="joined")
    unit: Mapped[Unit] = relationship(lazy="joined")


class PublicNotice(IdMixin, Base):
    """通报: the decision to make the case public, with its text (checked free of confidential identities)."""

    __tablename__ = "case_notices"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    issued_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
