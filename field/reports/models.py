"""Contact-point reports of liaisons and visits of leaders: two kinds of field record about a monitoring point."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, Enum, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from field.core.models.records import FieldRecord, Positioned


class ReportType(str, enum.Enum):
    enforcement_visit = "enforcement_visit"  #: an inspection of the enterprise, as the liaison saw it
    problem = "problem"                      #: a problem with approvals, enforcement or fees
    suggestion = "suggestion"                #: 意见建议
    rating = "rating"                        #: 企业评机关、评科长、评窗口


class ProblemArea(str, enum.Enum):
    approvals = "approvals"      #: 审批
    enforcement = "enforcement"  #: 执法
    fees = "fees"                #: 收费


class RatingTarget(str, enum.Enum):
    unit = "unit"        #: a department or public-service company
    section = "section"  #: 科室
    window = "window"    #: 窗口
    person = "person"    #: a member of a unit's staff (科长 …)


class ContactReport(Positioned, FieldRecord):
    """A liaison's report about their monitoring point's enterprise (kind ``report``).

    Which columns are set depends on ``report_type`` (field/reports/reports.py ``FIELDS``); the
    envelope's ``unit_id`` is the unit reported on (for a person, the person's unit).
    """

    __tablename__ = "contact_reports"
    __table_args__ = (CheckConstraint("score IS NULL OR (score >= 1 AND score <= 5)", name="score_range"),)
    # Lists of FieldRecord (the queue, the unfiled list) load this table in one extra query.
    __mapper_args__ = {"polymorphic_identity": "report", "polymorphic_load": "selectin"}

    id: Mapped[uuid.UUID] = mapped_column(ForeignKey("field_records.id"), primary_key=True)
    report_type: Mapped[ReportType] = mapped_column(Enum(ReportType, native_enum=False, length=24), index=True)
    #: The liaison's point; its enterprise is the one the report is about.
    point_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("monitoring_points.id"), index=True)
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"), index=True)

    #: enforcement_visit: the day of the visit (the office's local date).
    visited_on: Mapped[date | None] = mapped_column(Date)
    #: enforcement_visit: who came, as the liaison knows them (free text: names, numbers, "two officers").
    officers: Mapped[str | None] = mapped_column(String(500))
    #: enforcement_visit: whether the officers showed a filing (备案) — the liaison's word.
    filing_shown: Mapped[bool | None] = mapped_column(Boolean)
    #: enforcement_visit: the approved filing that covers the visit (judged again when filings change).
    filing_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inspection_filings.id"), index=True)

    #: problem: what the problem is about.
    problem_area: Mapped[ProblemArea | None] = mapped_column(Enum(ProblemArea, native_enum=False, length=16))
    #: rating: what is rated; the unit (unit_id) or the person (person_id).
    rating_target: Mapped[RatingTarget | None] = mapped_column(Enum(RatingTarget, native_enum=False, length=16))
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("persons.id"), index=True)
    #: rating: 1 (worst) to 5 (best).
    score: Mapped[int | None] = mapped_column(Integer)

    #: enforcement_visit (optional) and problem (required): what happened.
    description: Mapped[str | None] = mapped_column(Text)
    #: suggestion: the suggestion.
    text: Mapped[str | None] = mapped_column(Text)
    #: rating: the comment on the score.
    comment: Mapped[str | None] = mapped_column(Text)


class LeaderVisit(Positioned, FieldRecord):
    """A visit of a point's leader (挂包领导) to it (kind ``leader_visit``); counted by field/reports/leader_visits.py."""

    __tablename__ = "leader_visits"
    __table_args__ = (Index("ix_leader_visits_point_visited", "point_id", "visited_at"),)
    __mapper_args__ = {"polymorphic_identity": "leader_visit", "polymorphic_load": "selectin"}

    id: Mapped[uuid.UUID] = mapped_column(ForeignKey("field_records.id"), primary_key=True)
    point_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("monitoring_points.id"))
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"), index=True)
    #: When the visit took place (the phone's clock; the envelope's device_time is when it was recorded).
    visited_at: Mapped[datetime]
    notes: Mapped[str | None] = mapped_column(Text)
    #: Great-circle metres from the enterprise's stored location, when both are known.
    distance_m: Mapped[float | None] = mapped_column(Float)
