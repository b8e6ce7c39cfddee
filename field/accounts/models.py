"""One-time enrollment codes: an admin's QR code that a phone exchanges for a device token."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.core.models.base import Base, IdMixin
from field.core.models.platform import DeviceToken, User


class EnrollmentCode(IdMixin, Base):
    """A code shown once as a QR code; only its SHA-256 is kept (like a device token's)."""

    __tablename__ = "enrollment_codes"

    #: The account the phone will act as.
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    #: The admin who made it.
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    #: Set once, when a phone exchanged it; never usable again.
    used_at: Mapped[datetime | None]
    #: The device token it became.
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("device_tokens.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    device: Mapped[DeviceToken | None] = relationship()
