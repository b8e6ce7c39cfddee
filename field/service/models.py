"""Key projects and the officials assigned to serve them (docs/service.md §1)."""

from __future__ import annotations

import enum
import uuid
from datetime import date

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from field.core.models.base import Base, IdMixin, JurisdictionScoped, TimestampMixin


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
