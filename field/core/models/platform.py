"""Jurisdictions, users and device tokens: who may see what, and from which phone."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import Boolean, CheckConstraint, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, IdMixin, JurisdictionScoped, TimestampMixin


class JurisdictionLevel(str, enum.Enum):
    province = "province"
    city = "city"
    district = "district"
    street = "street"


#: How deep each level sits; a child is always exactly one level below its parent.
LEVEL_DEPTH = {JurisdictionLevel.province: 0, JurisdictionLevel.city: 1,
               JurisdictionLevel.district: 2, JurisdictionLevel.street: 3}


class Role(str, enum.Enum):
    admin = "admin"
    reviewer = "reviewer"
    inspector = "inspector"
    squad_member = "squad_member"
    liaison = "liaison"
    leader = "leader"
    #: The office's hotline operator: records calls, calls complainants back (docs/complaints.md).
    operator = "operator"
    #: The person who answers complaints for a unit (field/complaints/ ``complaint_handlers``).
    handler = "handler"


#: Roles that work for the supervision office itself.
OFFICE_ROLES = frozenset({Role.admin, Role.reviewer})


class Jurisdiction(IdMixin, TimestampMixin, Base):
    __tablename__ = "jurisdictions"

    #: Administrative division code: 6 digits down to district level (GB/T 2260),
    #: 9 digits for streets and towns (GB/T 10114).
    code: Mapped[str] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[JurisdictionLevel] = mapped_column(Enum(JurisdictionLevel, native_enum=False, length=16))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    #: Materialised path of codes, ``/500000/500100/500107/``: the subtree is one prefix match.
    path: Mapped[str] = mapped_column(String(200), index=True)
    boundary = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=True)

    parent: Mapped[Jurisdiction | None] = relationship(remote_side="Jurisdiction.id")


class User(IdMixin, TimestampMixin, JurisdictionScoped, Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("length(username) >= 3", name="username_length"),)

    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16), index=True)
    #: argon2id, parameters kept in the hash string so they can be raised later.
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)

    jurisdiction: Mapped[Jurisdiction] = relationship(lazy="joined")


class DeviceToken(IdMixin, Base):
    __tablename__ = "device_tokens"
    __table_args__ = (Index("ix_device_tokens_user_active", "user_id", "revoked_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    #: What the phone calls itself ("Li's Huawei P60"); shown in the device list.
    device_name: Mapped[str] = mapped_column(String(100))
    #: SHA-256 of the opaque token: tokens have 256 bits of entropy, so a plain hash suffices.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    #: Why it stopped working: logout, revoked, disabled, role_changed, jurisdiction_changed.
    revoked_reason: Mapped[str | None] = mapped_column(String(32))

    user: Mapped[User] = relationship(lazy="joined")
