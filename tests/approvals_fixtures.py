"""Events of approval cases written the way an approval system sends them, for the approvals' tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

CST = timezone(timedelta(hours=8))


def at(month: int, day: int, hour: int = 10, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=CST)


class Case:
    """The events of one case, numbered as they are added."""

    def __init__(self, number: str):
        self.number, self.events = number, []

    def add(self, type_: str, when: datetime, **fields) -> Case:
        self.events.append({"case_number": self.number, "seq": len(self.events) + 1, "type": type_, "at": when,
                            **fields})
        return self

    def accepted(self, when, matter_code, applicant="重庆某某有限公司", **kw):
        return self.add("accepted", when, matter_code=matter_code, applicant=applicant, **kw)

    def step(self, key, start, end=None, *, group=0, unit_id=None, name=None):
        self.add("step_started", start, step=key, parallel_group=group, unit_id=unit_id, step_name=name or key)
        if end is not None:
            self.add("step_finished", end, step=key)
        return self

    def suspended(self, start, end=None, reason="补正材料"):
        self.add("suspended", start, reason=reason)
        if end is not None:
            self.add("resumed", end)
        return self

    def completed(self, when, outcome="approved"):
        return self.add("completed", when, outcome=outcome)


def as_json(events: list[dict]) -> list[dict]:
    return [{k: (v.isoformat() if isinstance(v, datetime) else str(v) if k.endswith("_id") else v)
             for k, v in e.items() if v is not None} for e in events]


def district_approvals(session, admin, unit, *, number: str = "F-1") -> dict:
    """A matter and an overdue, refused case of ``admin``'s district, with its notice and red alert: their ids."""
    from datetime import date

    from sqlalchemy import select

    from field.approvals import cases as approval_cases, ingest, matters
    from field.approvals.models import AlertLevel, ApprovalAlert, ApprovalCase

    matter = matters.create_matter(session, admin, code="QX-001", name="建设工程规划许可", unit_id=unit.id,
                                   legal_limit_days=20, promised_limit_days=5)
    ingest.push(session, admin, "qx", Case(number).accepted(at(4, 28, 9), "QX-001")
                .completed(at(5, 13), outcome="refused").events)
    case = session.execute(select(ApprovalCase).where(ApprovalCase.source_number == number,
                                                      ApprovalCase.jurisdiction_id == admin.jurisdiction_id)
                           ).scalar_one()
    notice = approval_cases.record_notice(session, admin, case, kind="refusal", reason="材料不全",
                                          handler_name="王经办", issued_on=date(2026, 5, 13))
    alert = session.execute(select(ApprovalAlert).where(ApprovalAlert.approval_case_id == case.id,
                                                        ApprovalAlert.level == AlertLevel.red)).scalar_one()
    return {"matter_id": matter.id, "approval_case_id": case.id, "notice_id": notice.id, "alert_id": alert.id}


def district_commitment(session, admin, person) -> dict:
    """A published letter of ``person`` for 2026 with one item checked as not kept: their ids."""
    from datetime import date

    from field.commitments import letters

    letter = letters.create_letter(session, admin, person_id=person.id, year=2026, title="2026年度服务承诺书",
                                   items=[{"promise": "企业开办一个工作日内办结", "due_on": date(2026, 12, 31)}])
    letters.publish(session, admin, letter, published_on=date(2026, 2, 20), channel="television")
    letters.record_check(session, admin, letter.items[0], verdict="not_kept", note="抽查未兑现",
                         checked_on=date(2026, 5, 1))
    return {"letter_id": letter.id, "item_id": letter.items[0].id}


def district_project(session, admin, unit) -> dict:
    """A key project of ``admin``'s district with an overdue problem: their ids."""
    from datetime import date

    from field.service import problems, projects

    project = projects.create_project(session, admin, name="重点项目", investment_10k=150000)
    problem = problems.raise_problem(session, admin, project, category="procedures", source="official",
                                     description="施工许可卡在消防审验", unit_ids=[unit.id], limit_days=5,
                                     raised_on=date(2026, 4, 28))
    return {"project_id": project.id, "problem_id": problem.id}
