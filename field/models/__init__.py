"""All mapped models, imported here so metadata is complete wherever models are used."""

from .base import Base, utcnow
from .calendar import CalendarOverride, CalendarYear, CalendarYearDay
from .custody import CustodyChain, CustodyCheckpoint, CustodyEntry
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
from .directory import (
    Enterprise,
    MonitoringPoint,
    Person,
    PersonRank,
    Squad,
    SquadMember,
    Unit,
    UnitKind,
    VisitFrequency,
)
from .reports import ContactReport, LeaderVisit, ProblemArea, RatingTarget, ReportType
from .evidence import Attachment, Blob, BlobDerivative, DerivativesState, Upload
from .inspections import CompulsoryMeasureApproval, InspectionFiling, InspectionRecord, InspectorUnit

__all__ = [
    "Base", "utcnow", "CustodyChain", "CustodyCheckpoint", "CustodyEntry", "LEVEL_DEPTH", "OFFICE_ROLES",
    "DeviceToken", "Jurisdiction",
    "JurisdictionLevel", "Role", "User", "FieldRecord", "IdempotencyKey", "RecordVersion",
    "ReviewComment", "ReviewState", "CalendarOverride", "CalendarYear", "CalendarYearDay",
    "Enterprise", "MonitoringPoint", "Person", "PersonRank", "Squad", "SquadMember", "Unit", "UnitKind",
    "VisitFrequency",
    "ContactReport", "LeaderVisit", "ProblemArea", "RatingTarget", "ReportType",
    "CompulsoryMeasureApproval", "InspectionFiling", "InspectionRecord", "InspectorUnit",
]
from .visits import (
    Callback,
    CallbackBatch,
    CallbackSample,
    Finding,
    FindingCategory,
    SampleCase,
    ServiceCase,
    Severity,
    TargetKind,
    TaskMethod,
    TaskState,
    Visit,
    VisitTask,
)

__all__ += [
    "Callback", "CallbackBatch", "CallbackSample", "Finding", "FindingCategory", "SampleCase", "ServiceCase",
    "Severity", "TargetKind", "TaskMethod", "TaskState", "Visit", "VisitTask",
]
from .cases import (
    Case,
    CaseCounter,
    CaseGate,
    CaseKind,
    CaseSource,
    CaseState,
    CaseSubject,
    CaseTimeLimit,
    ComplainantContact,
    Complaint,
    ComplaintChannel,
    DelayNotice,
    Disposition,
    DispositionKind,
    Gate,
    PublicNotice,
    SanctionGrade,
    SanctionSystem,
)

__all__ += [
    "Case", "CaseCounter", "CaseGate", "CaseKind", "CaseSource", "CaseState", "CaseSubject", "CaseTimeLimit",
    "ComplainantContact", "Complaint", "ComplaintChannel", "DelayNotice", "Disposition", "DispositionKind", "Gate",
    "PublicNotice", "SanctionGrade", "SanctionSystem",
]
