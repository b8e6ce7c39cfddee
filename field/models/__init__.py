"""All mapped models, imported here so metadata is complete wherever models are used."""

from .base import Base, utcnow
from .calendar import CalendarOverride, CalendarYear
from .custody import CustodyChain, CustodyEntry
from .records import FieldRecord, IdempotencyKey, RecordVersion, ReviewComment, ReviewState
from .platform import (
    LEVEL_DEPTH,
    OFFICE_ROLES,
    DeviceToken,
    Jurisdiction,
    JurisdictionLevel,
    Role,
    User,
)

__all__ = [
    "Base", "utcnow", "CustodyChain", "CustodyEntry", "LEVEL_DEPTH", "OFFICE_ROLES", "DeviceToken", "Jurisdiction",
    "JurisdictionLevel", "Role", "User", "FieldRecord", "IdempotencyKey", "RecordVersion",
    "ReviewComment", "ReviewState", "CalendarOverride", "CalendarYear",
]
