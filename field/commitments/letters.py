"""Commitment letters: written, published, checked item by item, reported on and assessed; a broken item opens a case.

Who: office staff (admin, reviewer) of the jurisdiction keep the letters of the unit heads in their
scope (policy.py); the letters are the heads' words, entered by the office from the published text.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Integer, Select, cast, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from field.cases import lifecycle as office_cases
from field.cases.models import Case, CaseKind
from field.core.errors import Conflict, InvalidInput, NotAllowed
from field.core.models.evidence import Blob
from field.core.models.platform import OFFICE_ROLES, User
from field.core.office import office_today
from field.core.scope import get_in_scope, in_scope
from field.directory.models import Person, Unit

from .models import Assessment, Channel, CommitmentCheck, CommitmentItem, CommitmentLetter, LetterState, Verdict

ITEM_FIELDS = ("promise", "target", "target_value", "target_unit", "due_on")


def require_office(actor: User) -> None:
    """The one rule of this package: commitments are kept by the office (policy: office staff, their scope)."""
    if actor.role not in OFFICE_ROLES:
        raise NotAllowed("Commitment letters are kept by the office.")


def letters_query(actor: User, *, year: int | None = None, unit_id: uuid.UUID | None = None,
                  state: LetterState | None = None) -> Select:
    require_office(actor)
    stmt = select(CommitmentLetter).where(in_scope(CommitmentLetter.jurisdiction_id, actor))
    for column, value in ((CommitmentLetter.year, year), (CommitmentLetter.unit_id, unit_id),
                          (CommitmentLetter.state, state)):
        if value is not None:
            stmt = stmt.where(column == value)
    return stmt


def get_letter(session: Session, actor: User, letter_id: uuid.UUID) -> CommitmentLetter:
    require_office(actor)
    return get_in_scope(session, CommitmentLetter, letter_id, actor, "commitment letter")


def get_item(session: Session, actor: User, item_id: uuid.UUID) -> CommitmentItem:
    require_office(actor)
    return get_in_scope(session, CommitmentItem, item_id, actor, "commitment item")


def _item(letter: CommitmentLetter, position: int, values: dict, field: str) -> CommitmentItem:
    if not (values.get("promise") or "").strip():
        raise InvalidInput(f"{field}promise", "Required.")
    due = values.get("due_on")
    if due is not None and due.year not in (letter.year, letter.year + 1):
        raise InvalidInput(f"{field}due_on", f"A commitment of {letter.year} falls due in {letter.year} "
                                             f"(or early {letter.year + 1}).")
    return CommitmentItem(jurisdiction_id=letter.jurisdiction_id, letter_id=letter.id, position=position,
                          **{k: values.get(k) for k in ITEM_FIELDS})


def create_letter(session: Session, actor: User, *, person_id: uuid.UUID, year: int, title: str,
                  items: Iterable[dict] = ()) -> CommitmentLetter:
    require_office(actor)
    person = session.execute(select(Person).where(Person.id == person_id, Person.deleted_at.is_(None),
                                                  in_scope(Person.jurisdiction_id, actor))).scalar_one_or_none()
    if person is None:
        raise InvalidInput("person_id", "No such person.")
    unit = session.get(Unit, person.unit_id)
    letter = CommitmentLetter(jurisdiction_id=unit.jurisdiction_id, person_id=person.id, unit_id=unit.id, year=year,
                              title=title.strip(), state=LetterState.draft, items=[])
    try:
        with session.begin_nested():
            session.add(letter)
    except IntegrityError:
        raise InvalidInput("year", f"{person.name} has a letter for {year} already.") from None
    for i, values in enumerate(items):
        letter.items.append(_item(letter, i + 1, values, f"items.{i}."))
    session.flush()
    return letter


def add_item(session: Session, actor: User, letter: CommitmentLetter, values: dict) -> CommitmentItem:
    require_office(actor)
    if letter.state is LetterState.published:
        raise Conflict("A published letter is not changed; items are added before publication.")
    item = _item(letter, max((i.position for i in letter.items), default=0) + 1, values, "")
    letter.items.append(item)
    session.flush()
    return item


def publish(session: Session, actor: User, letter: CommitmentLetter, *, published_on: date,
            channel: Channel) -> CommitmentLetter:
    require_office(actor)
    if letter.state is LetterState.published:
        raise Conflict(f"Published on {letter.published_on} already.")
    if not letter.items:
        raise InvalidInput("items", "A letter is published with at least one commitment.")
    if published_on > office_today():
        raise InvalidInput("published_on", "A day that has come.")
    letter.state, letter.published_on, letter.channel = LetterState.published, published_on, Channel(channel)
    session.flush()
    return letter


def record_check(session: Session, actor: User, item: CommitmentItem, *, verdict: Verdict, note: str,
                 checked_on: date, evidence: list[str] = ()) -> CommitmentCheck:
    """The office's follow-up; the item's verdict is its latest check's."""
    require_office(actor)
    if session.get(CommitmentLetter, item.letter_id).state is not LetterState.published:
        raise Conflict("Only a published commitment is checked.")
    if checked_on > office_today():
        raise InvalidInput("checked_on", "A day that has come.")
    if not note.strip():
        raise InvalidInput("note", "Say what was found.")
    evidence = list(dict.fromkeys(evidence))
    if evidence:
        known = set(session.execute(select(Blob.sha256).where(Blob.sha256.in_(evidence),
                                                               in_scope(Blob.jurisdiction_id, actor))).scalars())
        for i, sha in enumerate(evidence):
            if sha not in known:
                raise InvalidInput(f"evidence.{i}", "No such evidence: upload it first.")
    check = CommitmentCheck(jurisdiction_id=item.jurisdiction_id, item_id=item.id, verdict=Verdict(verdict),
                            note=note.strip(), evidence=evidence, checked_on=checked_on, checked_by_id=actor.id)
    session.add(check)
    if item.checked_on is None or checked_on >= item.checked_on:
        item.verdict, item.checked_on = Verdict(verdict), checked_on
    session.flush()
    return check


def open_case(session: Session, actor: User, item: CommitmentItem, *, handler_id: uuid.UUID | None = None) -> Case:
    """A broken (or partly kept) commitment opens a work-style case naming the head."""
    require_office(actor)
    if item.verdict not in (Verdict.not_kept, Verdict.partly):
        raise Conflict("Only a commitment checked as not kept (or partly) opens a case.")
    if item.case_id is not None:
        raise Conflict("A case was opened from this commitment already.", case_id=str(item.case_id))
    letter = session.get(CommitmentLetter, item.letter_id)
    person = session.get(Person, letter.person_id)
    case = office_cases.open_case(
        session, actor, kind=CaseKind.work_style, title=f"未兑现服务承诺：{person.name}（{letter.year}）",
        summary=f"承诺：{item.promise}" + (f"；目标：{item.target}" if item.target else ""),
        subjects=[{"person_id": letter.person_id}], handler_id=handler_id,
        jurisdiction_id=letter.jurisdiction_id,
        origin={"commitment_item": str(item.id), "verdict": item.verdict.value, "year": letter.year})
    item.case_id = case.id
    session.flush()
    return case


def report(session: Session, actor: User, letter: CommitmentLetter, *, text: str | None = None,
           reported_on: date | None = None, assessment: Assessment | None = None,
           assessment_note: str | None = None) -> CommitmentLetter:
    """The yearly report (述职) on the letter, and the office's assessment of it."""
    require_office(actor)
    if letter.state is not LetterState.published:
        raise Conflict("A report is on a published letter.")
    if text is not None:
        letter.report_text, letter.reported_on = text.strip(), reported_on or office_today()
    if assessment is not None:
        if not letter.report_text:
            raise InvalidInput("assessment", "Assess a report once it is in.")
        letter.assessment, letter.assessment_note = Assessment(assessment), (assessment_note or "").strip()
        letter.assessed_by_id = actor.id
    session.flush()
    return letter


def figures(session: Session, actor: User, *, year: int) -> list[dict[str, Any]]:
    """Per unit, over the published letters of ``year``: items, checked, kept, partly, not kept, kept rate (SQL)."""
    require_office(actor)

    def count(verdict: Verdict):
        return func.sum(cast(CommitmentItem.verdict == verdict, Integer))

    stmt = (select(CommitmentLetter.unit_id, Unit.name, func.count(CommitmentItem.id),
                   func.count(CommitmentItem.verdict), count(Verdict.kept), count(Verdict.partly),
                   count(Verdict.not_kept))
            .join(CommitmentItem, CommitmentItem.letter_id == CommitmentLetter.id)
            .join(Unit, Unit.id == CommitmentLetter.unit_id)
            .where(in_scope(CommitmentLetter.jurisdiction_id, actor), CommitmentLetter.year == year,
                   CommitmentLetter.state == LetterState.published)
            .group_by(CommitmentLetter.unit_id, Unit.name).order_by(Unit.name, CommitmentLetter.unit_id))
    out = []
    for unit_id, name, items, checked, kept, partly, not_kept in session.execute(stmt):
        out.append({"unit_id": unit_id, "unit": name, "items": items, "checked": checked, "kept": kept or 0,
                    "partly": partly or 0, "not_kept": not_kept or 0,
                    "kept_rate": round((kept or 0) * 100 / checked, 1) if checked else None})
    return out
