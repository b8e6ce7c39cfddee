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
