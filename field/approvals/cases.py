"""Approval cases as the office reads them: lists, one case with its steps, notices, and complaints."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from field.cases import lifecycle as office_cases
from field.core.errors import InvalidInput, NotFound
from field.core.models.platform import Jurisdiction, User
from field.core.scope import get_one

from .ingest import refold
from .models import (AlertLevel, ApprovalAlert, ApprovalCase, ApprovalMatter, ApprovalNotice, ApprovalStep,
                     ApprovalSuspension, NoticeKind)
from .policy import require, visible_cases


def cases_query(actor: User, *, matter_id: uuid.UUID | None = None, unit_id: uuid.UUID | None = None,
                state: str | None = None, key_project_id: uuid.UUID | None = None, overdue: bool | None = None,
                needs_notice: bool | None = None, accepted_from: date | None = None,
                accepted_to: date | None = None) -> Select:
    require(actor, "cases.read")
    stmt = select(ApprovalCase).where(visible_cases(actor))
    for column, value in ((ApprovalCase.matter_id, matter_id), (ApprovalCase.unit_id, unit_id),
                          (ApprovalCase.state, state), (ApprovalCase.key_project_id, key_project_id),
                          (ApprovalCase.needs_notice, needs_notice)):
        if value is not None:
            stmt = stmt.where(column == value)
    if overdue is not None:
        late = ApprovalCase.working_days > ApprovalCase.limit_days
        stmt = stmt.where(late if overdue else ~late)
    if accepted_from is not None:
        stmt = stmt.where(ApprovalCase.accepted_on >= accepted_from)
    if accepted_to is not None:
        stmt = stmt.where(ApprovalCase.accepted_on <= accepted_to)
    return stmt


@dataclass
class CaseView:
    case: ApprovalCase
    matter: ApprovalMatter | None
    steps: list[ApprovalStep]
    suspensions: list[ApprovalSuspension]
    notices: list[ApprovalNotice]
    alerts: list[ApprovalAlert]

    def __getattr__(self, name):  # the schema reads the case's columns through the view
        return getattr(self.case, name)


def get_case(session: Session, actor: User, case_id: uuid.UUID) -> ApprovalCase:
    require(actor, "cases.read")
    return get_one(session, ApprovalCase, case_id, "approval case", visible_cases(actor))


def case_view(session: Session, actor: User, case_id: uuid.UUID) -> CaseView:
    case = get_case(session, actor, case_id)

    def rows(model, *order):
        return list(session.execute(select(model).where(model.case_id == case.id).order_by(*order)).scalars())

    alerts = list(session.execute(select(ApprovalAlert).where(ApprovalAlert.approval_case_id == case.id)
                                  .order_by(ApprovalAlert.raised_at, ApprovalAlert.level)).scalars())
    return CaseView(case, session.get(ApprovalMatter, case.matter_id) if case.matter_id else None,
                    rows(ApprovalStep, ApprovalStep.parallel_group, ApprovalStep.started_at, ApprovalStep.key),
                    rows(ApprovalSuspension, ApprovalSuspension.position),
                    rows(ApprovalNotice, ApprovalNotice.issued_on, ApprovalNotice.created_at), alerts)


def record_notice(session: Session, actor: User, case: ApprovalCase, *, kind: NoticeKind, reason: str,
                  handler_name: str, issued_on: date) -> ApprovalNotice:
    """The office enters a delay-feedback notice it was shown on paper; the case's flag is refolded."""
    require(actor, "notices.write")
    if not reason.strip():
        raise InvalidInput("reason", "Required.")
    if not handler_name.strip():
        raise InvalidInput("handler_name", "The notice names its handler.")
    if case.accepted_on is not None and issued_on < case.accepted_on:
        raise InvalidInput("issued_on", "A notice is issued after the application was accepted.")
    notice = ApprovalNotice(jurisdiction_id=case.jurisdiction_id, case_id=case.id, kind=NoticeKind(kind),
                            reason=reason.strip(), handler_name=handler_name.strip(), issued_on=issued_on,
                            source="entered", entered_by_id=actor.id)
    session.add(notice)
    session.flush()
    refold(session, session.get(Jurisdiction, case.jurisdiction_id), [case.id])
    return notice


def attach_notice(session: Session, actor: User, notice_id: uuid.UUID, case_id: uuid.UUID) -> ApprovalNotice:
    """Attach a notice to the office's case on a complaint about that approval."""
    require(actor, "notices.attach")
    notice = get_one(session, ApprovalNotice, notice_id, "approval notice",
                     ApprovalNotice.case_id.in_(select(ApprovalCase.id).where(visible_cases(actor))))
    try:
        target = office_cases.get_case(session, actor, case_id)
    except NotFound:  # named as the body's field, like any object the caller may not use
        raise InvalidInput("case_id", "No such case.") from None
    if target.complaint is None:
        raise InvalidInput("case_id", "That case was not opened on a complaint.")
    notice.complaint_case_id = target.id
    session.flush()
    return notice


EXPORT_HEADER = ("source_system", "source_number", "matter_code", "matter", "applicant", "state", "outcome",
                 "accepted_on", "completed_on", "limit_days", "working_days", "suspended_days", "deadline",
                 "within_limit", "provisional", "deemed_approved", "needs_notice")


def export_rows(session: Session, stmt: Select, batch: int = 500) -> Iterator[list[tuple]]:
    matters = {}
    rows = []
    for case in session.execute(stmt.order_by(ApprovalCase.accepted_on, ApprovalCase.id)).scalars():
        if case.matter_id and case.matter_id not in matters:
            matters[case.matter_id] = session.get(ApprovalMatter, case.matter_id)
        m = matters.get(case.matter_id)
        rows.append((case.source_system, case.source_number, m.code if m else "", m.name if m else "",
                     case.applicant or "", case.state.value if case.state else "",
                     case.outcome.value if case.outcome else "", case.accepted_on, case.completed_on,
                     case.limit_days, case.working_days, case.suspended_days, case.deadline, case.within_limit,
                     case.provisional, case.deemed_approved, case.needs_notice))
        if len(rows) >= batch:
            yield rows
            rows = []
    if rows:
        yield rows


__all__ = ["AlertLevel", "cases_query", "case_view", "get_case", "record_notice", "attach_notice", "export_rows"]
