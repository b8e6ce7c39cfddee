"""Inspectors' units, inspection filings, compulsory-measure approvals and on-site inspection records."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Date, Enum, Float, ForeignKey, Index, Numeric, Table, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.core.models.base import Base, IdMixin, JurisdictionScoped, TimestampMixin, utcnow
from field.directory.models import Enterprise, Unit
from field.core.models.platform import User
from field.core.models.records import FieldRecord


class InspectorUnit(Base):
    """The unit an inspector works for: filings and records are made for it."""

    __tablename__ = "inspector_units"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"), index=True)
    assigned_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship(lazy="joined")


class FilingKind(str, enum.Enum):
    annual_plan = "annual_plan"            #: 年度检查计划 (routine, filed at the start of the year)
    ad_hoc = "ad_hoc"                      #: 临时检查, filed 5 working days ahead
    statutory_exempt = "statutory_exempt"  #: mandated by law (安全生产 …): no prior approval, still filed


class CompulsoryMeasure(str, enum.Enum):
    """行政强制措施 an inspection may take (Administrative Compulsion Law art. 9)."""

    sealing = "sealing"    #: 查封场所、设施或者财物
    seizure = "seizure"    #: 扣押财物
    freezing = "freezing"  #: 冻结存款、汇款
    other = "other"        #: 其他行政强制措施 (the reason says which)


class ApprovalState(str, enum.Enum):
    requested = "requested"
    approved = "approved"
    rejected = "rejected"


class InspectionMeasure(str, enum.Enum):
    """What an on-site inspection ended with."""

    none = "none"
    order_to_rectify = "order_to_rectify"                    #: 责令改正
    first_violation_exemption = "first_violation_exemption"  #: 首违免罚
    warning = "warning"                                      #: 警告
    fine = "fine"                                            #: 罚款
    compulsory_measure = "compulsory_measure"                #: 行政强制措施 (approved beforehand)


inspection_filing_enterprises = Table(
    "inspection_filing_enterprises",
    Base.metadata,
    Column("filing_id", Uuid, ForeignKey("inspection_filings.id"), primary_key=True),
    #: Indexed: matching an inspection against filings starts from its enterprise.
    Column("enterprise_id", Uuid, ForeignKey("enterprises.id"), primary_key=True, index=True),
)

inspection_filing_inspectors = Table(
    "inspection_filing_inspectors",
    Base.metadata,
    Column("filing_id", Uuid, ForeignKey("inspection_filings.id"), primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id"), primary_key=True, index=True),
)


class InspectionFiling(FieldRecord):
    """A unit's filed inspection plan (涉企检查备案); approved by the generic review (accepted)."""

    __tablename__ = "inspection_filings"
    __table_args__ = (Index("ix_inspection_filings_window", "planned_start", "planned_end"),)
    # Lists of FieldRecord (the unfiled list, the queue) load this table in one extra query.
    __mapper_args__ = {"polymorphic_identity": "filing", "polymorphic_load": "selectin"}

    id: Mapped[uuid.UUID] = mapped_column(ForeignKey("field_records.id"), primary_key=True)
    filing_kind: Mapped[FilingKind] = mapped_column(Enum(FilingKind, native_enum=False, length=24))
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    #: Why no prior approval is needed (the law mandating the inspection); statutory_exempt only.
    exemption_basis: Mapped[str | None] = mapped_column(Text)
    planned_start: Mapped[date] = mapped_column(Date)
    planned_end: Mapped[date] = mapped_column(Date)
    #: The server's date (Asia/Shanghai) when the filing, or its latest amendment, arrived:
    #: the day the 5-working-day notice counts from.
    filed_on: Mapped[date] = mapped_column(Date)
    #: The ad-hoc notice was counted over a year without a declared schedule (weekends alone):
    #: judged on that rule, and not judged again when the year is declared (docs/inspections.md).
    notice_provisional: Mapped[bool] = mapped_column(default=False)

    enterprises: Mapped[list[Enterprise]] = relationship(
        secondary=inspection_filing_enterprises, lazy="selectin", order_by="Enterprise.name")
    inspectors: Mapped[list[User]] = relationship(
        secondary=inspection_filing_inspectors, lazy="selectin", order_by="User.username")
    measures: Mapped[list[CompulsoryMeasureApproval]] = relationship(
        back_populates="filing", lazy="selectin", order_by="CompulsoryMeasureApproval.created_at")

    def reviewed(self, session) -> None:
        """Approving or rejecting a filing changes which inspections it covers: re-judge them."""
        from .coverage import rejudge  # coverage imports these models

        rejudge(session, self)


class CompulsoryMeasureApproval(IdMixin, TimestampMixin, JurisdictionScoped, Base):
    """Prior approval (报批) of one compulsory measure against one enterprise, by office staff."""

    __tablename__ = "compulsory_measure_approvals"

    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"), index=True)
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"), index=True)
    #: The filing it was planned in; None when requested on its own.
    filing_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inspection_filings.id"), index=True)
    measure: Mapped[CompulsoryMeasure] = mapped_column(Enum(CompulsoryMeasure, native_enum=False, length=16))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[ApprovalState] = mapped_column(
        Enum(ApprovalState, native_enum=False, length=16), default=ApprovalState.requested, index=True)
    requested_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)

    enterprise: Mapped[Enterprise] = relationship(lazy="joined")
    unit: Mapped[Unit] = relationship(lazy="joined")
    requested_by: Mapped[User] = relationship(lazy="joined", foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[decided_by_id])
    filing: Mapped[InspectionFiling | None] = relationship(back_populates="measures", foreign_keys=[filing_id])
    #: The inspection record that recorded the measure as taken, if any.
    taken_in: Mapped[InspectionRecord | None] = relationship(
        primaryjoin="CompulsoryMeasureApproval.id == InspectionRecord.compulsory_measure_id",
        viewonly=True, lazy="selectin", uselist=False)


class InspectionRecord(FieldRecord):
    """An on-site inspection: check-in, what was checked and found, and the measure taken."""

    __tablename__ = "inspection_records"
    __table_args__ = (Index("ix_inspection_records_enterprise_day", "enterprise_id", "inspected_on"),)
    __mapper_args__ = {"polymorphic_identity": "inspection", "polymorphic_load": "selectin"}

    id: Mapped[uuid.UUID] = mapped_column(ForeignKey("field_records.id"), primary_key=True)
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"))
    #: The filing the phone said the inspection belongs to (None: it named none).
    filing_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inspection_filings.id"), index=True)
    #: The approved (or statutory-exempt) filing that covers it, as last judged; None: unfiled.
    covering_filing_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inspection_filings.id"), index=True)
    #: Best estimate of when it happened: device time corrected by the device's clock skew.
    inspected_at: Mapped[datetime]
    #: The office's calendar day (Asia/Shanghai) of ``inspected_at``: what filings are matched on.
    inspected_on: Mapped[date] = mapped_column(Date, index=True)
    checked: Mapped[str] = mapped_column(Text)
    found: Mapped[str] = mapped_column(Text)
    measure: Mapped[InspectionMeasure] = mapped_column(
        Enum(InspectionMeasure, native_enum=False, length=32), index=True)
    #: Yuan, exact; set only for a fine.
    fine_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    #: Unique: one approval is recorded as taken in one record.
    compulsory_measure_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("compulsory_measure_approvals.id"), unique=True)
    #: Great-circle metres from the check-in to the enterprise's stored position (WGS-84 both).
    distance_m: Mapped[float | None] = mapped_column(Float)

    enterprise: Mapped[Enterprise] = relationship(lazy="joined")
    compulsory_measure: Mapped[CompulsoryMeasureApproval | None] = relationship(
        foreign_keys=[compulsory_measure_id], lazy="joined")


__all__ = [
    "InspectorUnit", "FilingKind", "CompulsoryMeasure", "ApprovalState", "InspectionMeasure",
    "InspectionFiling", "CompulsoryMeasureApproval", "InspectionRecord",
    "inspection_filing_enterprises", "inspection_filing_inspectors",
]
