"""The directory: units, persons, enterprises, monitoring points, squads (the change log phones sync from is
field/core/models/changes.py)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from geoalchemy2 import Geometry
from geoalchemy2.shape import to_shape
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.core.locations import Location
from field.core.models.base import Base, IdMixin, JurisdictionScoped, TimestampMixin, utcnow
from field.core.models.platform import User

_LIVE = text("deleted_at IS NULL")
_ACTIVE = text("left_at IS NULL")


class SoftDeleted:
    """Rows are never removed: field records keep pointing at them and the sync feed sends tombstones."""

    #: Set when deleted; a deleted row is absent from lists and answers 404 by id.
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class Located:
    """A WGS-84 point (EPSG:4326) with the accuracy the device gave, if any."""

    #: Always WGS-84: GCJ-02 and BD-09 input is converted on the way in (field/core/crs.py).
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=True)
    #: Horizontal accuracy in metres as reported by the device or map picker.
    location_accuracy_m: Mapped[float | None] = mapped_column(Float)

    @property
    def location(self) -> Location | None:
        if self.geom is None:
            return None
        point = to_shape(self.geom)
        return Location(point.x, point.y, self.location_accuracy_m)


class UnitKind(str, enum.Enum):
    department = "department"          #: 政府部门
    public_service = "public_service"  #: 公共服务企业 (water, electricity, gas …)
    section = "section"                #: 科室
    window = "window"                  #: 服务窗口


class Unit(IdMixin, TimestampMixin, JurisdictionScoped, SoftDeleted, Located, Base):
    """A department, public-service company, section or service window; sections and windows hang below."""

    __tablename__ = "units"

    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[UnitKind] = mapped_column(Enum(UnitKind, native_enum=False, length=16))
    address: Mapped[str | None] = mapped_column(String(300))


class PersonRank(str, enum.Enum):
    division = "division"            #: 处级
    section = "section"              #: 科级
    below_section = "below_section"  #: 科级以下


class Person(IdMixin, TimestampMixin, JurisdictionScoped, SoftDeleted, Base):
    """Staff of a unit who may be the subject of a finding or a case; not a user of fieldwatch."""

    __tablename__ = "persons"

    #: The person's jurisdiction is always the unit's: they move together.
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    post: Mapped[str | None] = mapped_column(String(100))
    rank: Mapped[PersonRank | None] = mapped_column(Enum(PersonRank, native_enum=False, length=16))

    unit: Mapped[Unit] = relationship(lazy="joined")


class Enterprise(IdMixin, TimestampMixin, JurisdictionScoped, SoftDeleted, Located, Base):
    """An enterprise of the district, keyed by its unified social credit code.

    There is deliberately no relationship to ``MonitoringPoint``: whether an enterprise is a
    (covert) point is read only through ``field.directory.monitoring.visible_points``.
    """

    __tablename__ = "enterprises"
    __table_args__ = (
        # One live enterprise per code; a deleted one keeps its code and does not block a new row.
        Index("uq_enterprises_credit_code_live", "credit_code", unique=True,
              sqlite_where=_LIVE, postgresql_where=_LIVE),
    )

    name: Mapped[str] = mapped_column(String(200))
    #: 统一社会信用代码, normalised and checked (GB 32100-2015, field/core/credit_code.py).
    credit_code: Mapped[str] = mapped_column(String(18))
    address: Mapped[str | None] = mapped_column(String(300))
    #: 规模以上企业.
    above_designated_size: Mapped[bool] = mapped_column(Boolean, default=False)
    #: 重点企业.
    key_enterprise: Mapped[bool] = mapped_column(Boolean, default=False)
    #: 重点项目.
    key_project: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(32))

    #: Not a column: the caller's view of the enterprise's monitoring point, set by
    #: ``field.directory.enterprises.with_point_status`` per request. None (the safe answer) unless set.
    visible_point = None


class VisitFrequency(str, enum.Enum):
    """How often the leader must visit: at least once per calendar week, month or quarter."""

    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"


monitoring_point_liaisons = Table(
    "monitoring_point_liaisons",
    Base.metadata,
    Column("point_id", Uuid, ForeignKey("monitoring_points.id"), primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id"), primary_key=True, index=True),
)


class MonitoringPoint(IdMixin, TimestampMixin, JurisdictionScoped, SoftDeleted, Base):
    """An enterprise the office designated as a monitoring point (监测点), openly or covertly."""

    __tablename__ = "monitoring_points"
    __table_args__ = (
        Index("uq_monitoring_points_enterprise_live", "enterprise_id", unique=True,
              sqlite_where=_LIVE, postgresql_where=_LIVE),
    )

    #: Fixed at creation; the jurisdiction follows the enterprise's.
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"))
    #: A covert point is visible only to the office and its own liaisons and leader.
    covert: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    #: The official assigned to the point (挂包领导), a user with the leader role.
    leader_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    visit_frequency: Mapped[VisitFrequency | None] = mapped_column(
        Enum(VisitFrequency, native_enum=False, length=16))
    active_from: Mapped[date] = mapped_column(Date)
    active_to: Mapped[date | None] = mapped_column(Date)

    enterprise: Mapped[Enterprise] = relationship(lazy="joined")
    leader: Mapped[User | None] = relationship(lazy="joined")
    liaisons: Mapped[list[User]] = relationship(secondary=monitoring_point_liaisons, lazy="selectin",
                                                order_by="User.username")


class Squad(IdMixin, TimestampMixin, JurisdictionScoped, SoftDeleted, Base):
    """An undercover visit squad (暗访小分队); its members are known by pseudonymous codes."""

    __tablename__ = "squads"

    name: Mapped[str] = mapped_column(String(100))
    #: Start of every member code (``JLP`` → ``JLP-A07``); unique, so codes are unique everywhere.
    code_prefix: Mapped[str] = mapped_column(String(8), unique=True)
    #: Codes handed out so far; only ever grows, so a code is never reused.
    codes_issued: Mapped[int] = mapped_column(Integer, default=0)

    members: Mapped[list[SquadMember]] = relationship(
        back_populates="squad", lazy="selectin", order_by="SquadMember.code")

    @property
    def current_members(self) -> list[SquadMember]:
        return [m for m in self.members if m.left_at is None]


class SquadMember(IdMixin, Base):
    """A user's membership of a squad, under a code; leaving keeps the row (and the code) for history."""

    __tablename__ = "squad_members"
    __table_args__ = (
        # A monitor is in at most one squad at a time.
        Index("uq_squad_members_user_active", "user_id", unique=True,
              sqlite_where=_ACTIVE, postgresql_where=_ACTIVE),
    )

    squad_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("squads.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    #: Generated: squad prefix, letter, two digits (``JLP-A07``). Never reused.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    left_at: Mapped[datetime | None]

    squad: Mapped[Squad] = relationship(back_populates="members")


class MonitorIdentity(Base):
    """The real identity behind a squad member's code: read only through the audited unmask."""

    __tablename__ = "monitor_identities"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    real_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IdentityDisclosure(IdMixin, Base):
    """Append-only audit of every unmasking: who saw whose identity, when, why, from which device."""

    __tablename__ = "identity_disclosures"

    actor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    squad_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("squads.id"), index=True)
    #: The device token the request came with.
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("device_tokens.id"))
    reason: Mapped[str] = mapped_column(String(500))
    disclosed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
