"""Commitment letters of unit heads, their items, the office's follow-up checks and the yearly report."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Date, Enum, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.core.models.base import Base, IdMixin, JurisdictionScoped, TimestampMixin, utcnow


def _enum(cls, length=16):
    return Enum(cls, native_enum=False, length=length, validate_strings=True)


class LetterState(str, enum.Enum):
    draft = "draft"
    published = "published"


class Channel(str, enum.Enum):
    television = "television"  #: 电视公开承诺
    newspaper = "newspaper"
    website = "website"
    meeting = "meeting"        #: 大会公开承诺
    other = "other"


class Verdict(str, enum.Enum):
    kept = "kept"
    partly = "partly"
    not_kept = "not_kept"


class Assessment(str, enum.Enum):
    excellent = "excellent"  #: 优秀
    good = "good"            #: 良好
    fair = "fair"            #: 一般
    poor = "poor"            #: 较差


class CommitmentLetter(IdMixin, TimestampMixin, JurisdictionScoped, Base):
    __tablename__ = "commitment_letters"
    __table_args__ = (UniqueConstraint("person_id", "year", name="uq_commitment_letters_person_year"),)

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"), index=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[LetterState] = mapped_column(_enum(LetterState), default=LetterState.draft)
    published_on: Mapped[date | None] = mapped_column(Date)
    channel: Mapped[Channel | None] = mapped_column(_enum(Channel))
    #: 述职: the head's yearly report and the office's assessment of it
    report_text: Mapped[str | None] = mapped_column(Text)
    reported_on: Mapped[date | None] = mapped_column(Date)
    assessment: Mapped[Assessment | None] = mapped_column(_enum(Assessment))
    assessment_note: Mapped[str | None] = mapped_column(Text)
    assessed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    items: Mapped[list[CommitmentItem]] = relationship(lazy="selectin", order_by="CommitmentItem.position",
                                                       back_populates="letter")


class CommitmentItem(IdMixin, JurisdictionScoped, Base):
    __tablename__ = "commitment_items"
    __table_args__ = (UniqueConstraint("letter_id", "position", name="uq_commitment_items_position"),)

    letter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("commitment_letters.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    promise: Mapped[str] = mapped_column(Text)
    target: Mapped[str | None] = mapped_column(String(200))
    target_value: Mapped[float | None] = mapped_column(Numeric(14, 2))
    target_unit: Mapped[str | None] = mapped_column(String(32))
    due_on: Mapped[date | None] = mapped_column(Date)
    #: the latest check's verdict
    verdict: Mapped[Verdict | None] = mapped_column(_enum(Verdict))
    checked_on: Mapped[date | None] = mapped_column(Date)
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), index=True)

    letter: Mapped[CommitmentLetter] = relationship(back_populates="items")
    checks: Mapped[list[CommitmentCheck]] = relationship(lazy="selectin", order_by="CommitmentCheck.created_at")


class CommitmentCheck(IdMixin, JurisdictionScoped, Base):
    """The office's follow-up of an item: kept, partly or not, with its evidence (SHA-256s of stored originals)."""

    __tablename__ = "commitment_checks"

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("commitment_items.id"), index=True)
    verdict: Mapped[Verdict] = mapped_column(_enum(Verdict))
    note: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list] = mapped_column(JSON, default=list)
    checked_on: Mapped[date] = mapped_column(Date)
    checked_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
