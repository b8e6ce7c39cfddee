"""Whom a case is about (units and persons of the directory) and what was decided against them."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from field.core.errors import Conflict, FieldProblem, InvalidInput, NotFound
from field.core.models.base import utcnow
from field.core.models.platform import User
from field.core.office import office_today
from field.core.scope import in_scope
from field.core.scoped import live
from field.directory.models import Person, Unit

from .models import (
    PERSON_DISPOSITIONS,
    SANCTION_GRADES,
    Case,
    CaseState,
    CaseSubject,
    Disposition,
    DispositionKind,
    SanctionGrade,
    SanctionSystem,
)
from .rules import _log, _require_open


#: States in which outcomes (dispositions) are decided.
DECIDING_STATES = frozenset({CaseState.deciding, CaseState.rectifying})


def _subject(session: Session, actor: User, case: Case, unit_id: uuid.UUID | None, person_id: uuid.UUID | None,
             field_prefix: str) -> CaseSubject:
    if (unit_id is None) == (person_id is None):
        raise InvalidInput(f"{field_prefix}unit_id", "Name either a unit (unit_id) or a person (person_id).")
    if person_id is not None:
        person = session.execute(select(Person).where(Person.id == person_id, live(Person),
                                                      in_scope(Person.jurisdiction_id, actor))).scalar_one_or_none()
        if person is None:
            raise InvalidInput(f"{field_prefix}person_id", "No such person.")
        key, unit, who = f"person:{person.id}", person.unit, person
    else:
        unit = session.execute(select(Unit).where(Unit.id == unit_id, live(Unit),
                                                  in_scope(Unit.jurisdiction_id, actor))).scalar_one_or_none()
        if unit is None:
            raise InvalidInput(f"{field_prefix}unit_id", "No such unit.")
        key, who = f"unit:{unit.id}", None
    if any(s.subject_key == key for s in case.subjects):
        raise Conflict("This subject is named in the case already.",
                       fields=[FieldProblem(f"{field_prefix}{'person_id' if who else 'unit_id'}", "Already a subject.")])
    subject = CaseSubject(case_id=case.id, subject_key=key, unit_id=unit.id, unit=unit,
                          person_id=who.id if who else None, person=who, added_by_id=actor.id, added_at=utcnow())
    case.subjects.append(subject)
    return subject


def _subject_data(subject: CaseSubject) -> dict:
    return {"subject_id": subject.id, "unit_id": subject.unit_id, "person_id": subject.person_id}


def add_subject(session: Session, actor: User, case: Case, *, unit_id: uuid.UUID | None = None,
                person_id: uuid.UUID | None = None) -> CaseSubject:
    _require_open(case, "naming subjects")
    subject = _subject(session, actor, case, unit_id, person_id, "")
    session.flush()
    _log(session, case, "case.subject_added", actor, **_subject_data(subject))
    return subject


def _disposes_of(disposition: Disposition, subject: CaseSubject) -> bool:
    if subject.person_id is not None:
        return disposition.person_id == subject.person_id
    return disposition.person_id is None and disposition.unit_id == subject.unit_id


def remove_subject(session: Session, actor: User, case: Case, subject_id: uuid.UUID) -> None:
    subject = next((s for s in case.subjects if s.id == subject_id), None)
    if subject is None:
        raise NotFound("subject")
    _require_open(case, "removing subjects")
    if any(_disposes_of(d, subject) for d in case.dispositions):
        raise Conflict("A disposition was recorded against this subject; it stays in the case.")
    data = _subject_data(subject)
    case.subjects.remove(subject)
    session.delete(subject)
    session.flush()
    _log(session, case, "case.subject_removed", actor, **data)


def record_disposition(session: Session, actor: User, case: Case, *, kind: DispositionKind, decided_on: date,
                       authority: str, person_id: uuid.UUID | None = None, unit_id: uuid.UUID | None = None,
                       sanction_system: SanctionSystem | None = None, grade: SanctionGrade | None = None,
                       note: str = "", today: date | None = None) -> Disposition:
    """An outcome for a person or a unit named in the case; the person's rank is copied as it is now."""
    kind = DispositionKind(kind)
    if case.state not in DECIDING_STATES:
        raise Conflict(f"Dispositions are recorded while a case is deciding or rectifying; "
                       f"{case.number} is {case.state.value}.")
    if kind in PERSON_DISPOSITIONS:
        if person_id is None or unit_id is not None:
            raise InvalidInput("person_id", f"{kind.value} is decided about a person: give person_id only.")
        subject = next((s for s in case.subjects if s.person_id == person_id), None)
        if subject is None:
            raise InvalidInput("person_id", "Not a subject of this case: name the person in the case first.")
    else:
        if unit_id is None or person_id is not None:
            raise InvalidInput("unit_id", f"{kind.value} is decided about a unit: give unit_id only.")
        subject = next((s for s in case.subjects if s.person_id is None and s.unit_id == unit_id), None)
        if subject is None:
            raise InvalidInput("unit_id", "Not a subject of this case: name the unit in the case first.")
    if kind is DispositionKind.disciplinary_sanction:
        if sanction_system is None:
            raise InvalidInput("sanction_system", "A disciplinary sanction is administrative (政务处分) or party "
                                                  "(党纪处分).")
        sanction_system = SanctionSystem(sanction_system)
        grades = SANCTION_GRADES[sanction_system]
        if grade is None or SanctionGrade(grade) not in grades:
            raise InvalidInput("grade", f"One of {', '.join(g.value for g in grades)} for {sanction_system.value}.")
        grade = SanctionGrade(grade)
    elif sanction_system is not None or grade is not None:
        raise InvalidInput("grade", "Only a disciplinary sanction has a system and a grade.")
    if decided_on > (today or office_today()):
        raise InvalidInput("decided_on", "A decision cannot be dated in the future.")
    authority = (authority or "").strip()
    if not authority:
        raise InvalidInput("authority", "Name the authority that decided.")
    person = subject.person
    if person is not None:
        # The person's unit and rank today: where they worked and what they were when decided.
        session.refresh(person, ["unit_id", "rank"])
    row = Disposition(case_id=case.id, jurisdiction_id=case.jurisdiction_id, kind=kind,
                      person_id=person.id if person else None, person=person,
                      unit_id=person.unit_id if person else subject.unit_id,
                      rank_at_decision=person.rank if person else None, sanction_system=sanction_system,
                      grade=grade, decided_on=decided_on, authority=authority, note=(note or "").strip(),
                      recorded_by_id=actor.id, recorded_at=utcnow())
    case.dispositions.append(row)
    session.flush()
    _log(session, case, "case.disposition_recorded", actor, disposition_id=row.id, kind=kind.value,
         person_id=row.person_id, unit_id=row.unit_id,
         rank_at_decision=row.rank_at_decision.value if row.rank_at_decision else None,
         sanction_system=sanction_system.value if sanction_system else None,
         grade=grade.value if grade else None, decided_on=decided_on.isoformat(), authority=authority)
    return row
