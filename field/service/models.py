"""Key projects and the officials assigned to serve them (docs/service.md §1)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from geoalchemy2 import Geometry
from geoalchemy2.shape import to_shape
from shapely.geometry import mapping
from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, Enum, Float, ForeignKey, Index, Integer, Numeric, String,
                        Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from field.core.locations import Location
from field.core.models.base import Base, IdMixin, JurisdictionScoped, TimestampMixin
from field.core.models.records import FieldRecord, Positioned


def _enum(cls, length=32):
    return Enum(cls, native_enum=False, length=length, validate_strings=True)


class ProjectStage(str, enum.Enum):
    planned = "planned"                        #: 谋划
    negotiating = "negotiating"                #: 洽谈
    landed = "landed"                          #: 落地
    under_construction = "under_construction"  #: 在建
    in_production = "in_production"            #: 投产


class ServiceRole(str, enum.Enum):
    chief = "chief"                      #: 首席负责人 (a district leader)
    secretary = "secretary"              #: 首办秘书
    department_head = "department_head"  #: 部门负责人, linked to one key enterprise


class Campaign(str, enum.Enum):
    year_round = "365"                   #: 365 全年服务
    double_hundred = "double_hundred"    #: 双百
    four_ones = "four_ones"              #: 四个一


class KeyProject(IdMixin, TimestampMixin, JurisdictionScoped, Base):
    __tablename__ = "key_projects"

    name: Mapped[str] = mapped_column(String(200))
    #: 万元 (10,000 yuan): a key project is above 10,000 (100 million yuan).
    investment_10k: Mapped[float] = mapped_column(Numeric(14, 2))
    stage: Mapped[ProjectStage] = mapped_column(_enum(ProjectStage), default=ProjectStage.planned)
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    location = mapped_column(Geometry("POINT", srid=4326), nullable=True)
    footprint = mapped_column(Geometry("MULTIPOLYGON", srid=4326), nullable=True)

    @property
    def position(self) -> Location | None:
        if self.location is None:
            return None
        point = to_shape(self.location)
        return Location(point.x, point.y, None)

    @property
    def footprint_geojson(self) -> dict | None:
        return None if self.footprint is None else mapping(to_shape(self.footprint))


class ServiceAssignment(IdMixin, TimestampMixin, JurisdictionScoped, Base):
    """An official serving a key project or an enterprise, in a role, for a campaign, over a period."""

    __tablename__ = "service_assignments"
    __table_args__ = (
        CheckConstraint("(project_id IS NULL) <> (enterprise_id IS NULL)", name="one_target"),
        Index("ix_service_assignments_official", "official_id", "role"),
    )

    project_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("key_projects.id"), index=True)
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    official_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    role: Mapped[ServiceRole] = mapped_column(_enum(ServiceRole))
    campaign: Mapped[Campaign] = mapped_column(_enum(Campaign))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)


class ProblemCategory(str, enum.Enum):
    procedures = "procedures"  #: 手续办理
    land = "land"              #: 用地与征拆
    funding = "funding"        #: 融资
    utilities = "utilities"    #: 水电气讯
    other = "other"


class ProblemSource(str, enum.Enum):
    liaison = "liaison"        #: the enterprise's liaison
    official = "official"      #: the serving official
    complaint = "complaint"


class ProblemState(str, enum.Enum):
    open = "open"
    solved = "solved"          #: with the enterprise's confirmation
    unsolved = "unsolved"      #: closed without a solution (the enterprise said so)


class ServiceProblem(IdMixin, TimestampMixin, JurisdictionScoped, Base):
    """A problem a key project or enterprise raised, the units that must act, its time limit and outcome."""

    __tablename__ = "service_problems"

    project_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("key_projects.id"), index=True)
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    category: Mapped[ProblemCategory] = mapped_column(_enum(ProblemCategory))
    source: Mapped[ProblemSource] = mapped_column(_enum(ProblemSource))
    description: Mapped[str] = mapped_column(String(4000))
    #: the units that must act: [unit id, ...]
    unit_ids: Mapped[list] = mapped_column(JSON, default=list)
    raised_on: Mapped[date] = mapped_column(Date)
    limit_days: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[date] = mapped_column(Date)
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    raised_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    state: Mapped[ProblemState] = mapped_column(_enum(ProblemState), default=ProblemState.open)
    closed_on: Mapped[date | None] = mapped_column(Date)
    #: working days from raised to closed
    days_to_close: Mapped[int | None] = mapped_column(Integer)
    confirmed_by: Mapped[str | None] = mapped_column(String(100))
    confirmation: Mapped[str | None] = mapped_column(String(2000))
    #: progress notes: [{"on": "2026-05-06", "by": user id, "note": "..."}]
    progress: Mapped[list] = mapped_column(JSON, default=list)
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), index=True)


class OneKind(str, enum.Enum):
    """四个一: each official plans one key project, negotiates one investment, serves one landed project, keeps in
    touch with one key enterprise."""

    plan = "plan"
    negotiate = "negotiate"
    serve = "serve"
    touch = "touch"


class FourOnesEntry(IdMixin, TimestampMixin, JurisdictionScoped, Base):
    """One line of an official's four-ones ledger for a year."""

    __tablename__ = "four_ones_entries"
    __table_args__ = (Index("ix_four_ones_official_year", "official_id", "year"),)

    official_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[OneKind] = mapped_column(_enum(OneKind))
    project_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("key_projects.id"))
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enterprises.id"))
    note: Mapped[str] = mapped_column(String(2000))


class EnterpriseOutcome(IdMixin, TimestampMixin, JurisdictionScoped, Base):
    """What the office tracks of an enterprise under assistance, per period: output growth, loss reduced."""

    __tablename__ = "enterprise_outcomes"
    __table_args__ = (CheckConstraint("period_end >= period_start", name="period_order"),)

    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    output_growth_pct: Mapped[float | None] = mapped_column(Numeric(8, 2))
    loss_reduced_10k: Mapped[float | None] = mapped_column(Numeric(14, 2))
    entered_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))


class ObligationPeriod(str, enum.Enum):
    week = "week"    #: a calendar week, Monday to Sunday (China time)
    month = "month"  #: a calendar month


class VisitObligation(IdMixin, TimestampMixin, JurisdictionScoped, Base):
    """How many visits an official serving in ``role`` owes per week or month, set for a jurisdiction (and the
    jurisdictions below it that have none of their own); without a row the defaults of field/service/obligations.py
    apply (chief and secretary one a week, a department head two a month)."""

    __tablename__ = "visit_obligations"
    __table_args__ = (
        UniqueConstraint("jurisdiction_id", "role"),
        CheckConstraint("visits >= 1 AND visits <= 31", name="visits_range"),
    )

    role: Mapped[ServiceRole] = mapped_column(_enum(ServiceRole))
    #: at least this many visits in each period
    visits: Mapped[int] = mapped_column(Integer)
    per: Mapped[ObligationPeriod] = mapped_column(_enum(ObligationPeriod, length=8))
    set_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))


class ServiceVisit(Positioned, FieldRecord):
    """A serving official's visit to their key project's site or their enterprise (kind ``service_visit``), logged
    from the phone like a leader visit: where (required), when, notes; photos attach through the evidence pipeline
    by the record's id. Counted against the official's assignments by field/service/compliance.py."""

    __tablename__ = "service_visits"
    __table_args__ = (
        CheckConstraint("project_id IS NOT NULL OR enterprise_id IS NOT NULL", name="a_target"),
        Index("ix_service_visits_official_visited", "official_id", "visited_at"),
    )
    __mapper_args__ = {"polymorphic_identity": "service_visit", "polymorphic_load": "selectin"}

    id: Mapped[uuid.UUID] = mapped_column(ForeignKey("field_records.id"), primary_key=True)
    #: the submitter, again: the compliance query groups by it without reading the envelope's other columns
    official_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    #: the project visited (its enterprise is copied into enterprise_id), or null for a visit to an enterprise
    project_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("key_projects.id"), index=True)
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    #: when the visit took place (the phone's clock; the envelope's device_time is when it was recorded)
    visited_at: Mapped[datetime]
    notes: Mapped[str | None] = mapped_column(Text)
    #: great-circle metres from the project's (else the enterprise's) stored location, when both are known
    distance_m: Mapped[float | None] = mapped_column(Float)
