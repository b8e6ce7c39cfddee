"""The office's queue of approval alerts: raised by folds and scans, dismissed or turned into a case."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Select, case as when, select
from sqlalchemy.orm import Session

from field.cases import lifecycle as office_cases
from field.cases.models import Case, CaseKind
from field.core.errors import Conflict
from field.core.models.base import utcnow
from field.core.models.platform import Jurisdiction, User
from field.core.scope import get_in_scope, in_scope

from .ingest import DEFAULT_YELLOW_SHARE, refold
from .models import AlertLevel, AlertState, ApprovalAlert, ApprovalCase, ApprovalMatter, CaseState
from .policy import require

#: The queue's order: open before decided, red and deemed before no-notice before yellow, oldest first.
_URGENCY = when({AlertLevel.deemed.value: 0, AlertLevel.red.value: 0, AlertLevel.no_notice.value: 1},
                value=ApprovalAlert.level, else_=2)

TITLES = {AlertLevel.red: "审批超期", AlertLevel.deemed: "审批超期（超时默认）",
          AlertLevel.no_notice: "缓办或不予许可未出具滞办反馈告知书", AlertLevel.yellow: "审批临近时限"}


def alerts_query(actor: User, *, state: AlertState | None = AlertState.open, level: AlertLevel | None = None) -> Select:
    require(actor, "alerts")
    stmt = select(ApprovalAlert).where(in_scope(ApprovalAlert.jurisdiction_id, actor))
    if state is not None:
        stmt = stmt.where(ApprovalAlert.state == state)
    if level is not None:
        stmt = stmt.where(ApprovalAlert.level == level)
    return stmt


def scan(session: Session, actor: User, *, today: date | None = None,
         yellow_share: float = DEFAULT_YELLOW_SHARE) -> tuple[int, int]:
    """Fold every running case of the caller's jurisdiction again as of ``today``: aged cases get their alerts.

    Returns (cases folded, alerts raised). Safe to run any number of times.
    """
    require(actor, "alerts")
    rows = session.execute(select(ApprovalCase.id, ApprovalCase.jurisdiction_id).where(
        in_scope(ApprovalCase.jurisdiction_id, actor),
        ApprovalCase.state.in_((CaseState.accepted, CaseState.suspended)))).all()
    by_jurisdiction: dict[uuid.UUID, list[uuid.UUID]] = {}
    for case_id, jid in rows:
        by_jurisdiction.setdefault(jid, []).append(case_id)
    folded = raised = 0
    for jid, ids in by_jurisdiction.items():
        f, r = refold(session, session.get(Jurisdiction, jid), ids, today=today, yellow_share=yellow_share)
        folded, raised = folded + f, raised + r
    return folded, raised


def get_alert(session: Session, actor: User, alert_id: uuid.UUID) -> ApprovalAlert:
    require(actor, "alerts")
    return get_in_scope(session, ApprovalAlert, alert_id, actor, "approval alert")


def open_case(session: Session, actor: User, alert: ApprovalAlert, *, handler_id: uuid.UUID | None = None,
              kind: CaseKind = CaseKind.efficiency_complaint, title: str | None = None) -> Case:
    """An office case from the alert: its subject the matter's unit, the alert marked converted."""
    require(actor, "alerts")
    if alert.state is AlertState.converted:
        raise Conflict("A case was opened from this alert already.", case_id=str(alert.case_id))
    approval = session.get(ApprovalCase, alert.approval_case_id)
    matter = session.get(ApprovalMatter, approval.matter_id) if approval.matter_id else None
    what = f"{matter.name}（{approval.source_number}）" if matter else approval.source_number
    summary = (f"办件 {approval.source_system}/{approval.source_number}，受理 {approval.accepted_on}，"
               f"时限 {approval.limit_days} 个工作日，已用 {approval.working_days} 个工作日"
               f"（补正 {approval.suspended_days} 个工作日不计）。")
    case = office_cases.open_case(
        session, actor, kind=kind, title=title or f"{TITLES[alert.level]}：{what}", summary=summary,
        subjects=[{"unit_id": approval.unit_id}] if approval.unit_id else [], handler_id=handler_id,
        jurisdiction_id=alert.jurisdiction_id,
        origin={"approval_alert": str(alert.id), "level": alert.level.value,
                "approval_case": f"{approval.source_system}/{approval.source_number}"})
    alert.state, alert.case_id = AlertState.converted, case.id
    alert.decided_by_id, alert.decided_at = actor.id, utcnow()
    session.flush()
    return case


def dismiss(session: Session, actor: User, alert: ApprovalAlert) -> ApprovalAlert:
    require(actor, "alerts")
    if alert.state is not AlertState.open:
        raise Conflict(f"The alert is {alert.state.value} already.")
    alert.state, alert.decided_by_id, alert.decided_at = AlertState.dismissed, actor.id, utcnow()
    session.flush()
    return alert

