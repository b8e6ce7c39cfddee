"""A case's events folded into its state, and its working days reckoned (pure: no database, no clock).

Events are applied in ``seq`` order, whatever order they arrived in; an event type that does not
fit the state (a step finished before it started) is kept as given: the source system is the
authority on what happened, the office only measures it.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from field.core.office import office_date
from field.core.workdays import WorkCalendar

EVENT_TYPES = ("accepted", "step_started", "step_finished", "suspended", "resumed", "completed", "notice")
OUTCOMES = ("approved", "refused", "deferred", "withdrawn")
NEEDS_NOTICE = ("refused", "deferred")


@dataclass
class Step:
    key: str
    name: str | None = None
    unit_id: uuid.UUID | None = None
    parallel_group: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass
class Folded:
    matter_code: str | None = None
    applicant: str | None = None
    key_project_id: uuid.UUID | None = None
    accepted_at: datetime | None = None
    completed_at: datetime | None = None
    outcome: str | None = None
    suspended_now: bool = False
    steps: dict[str, Step] = field(default_factory=dict)
    #: (started_at, ended_at or None, reason)
    suspensions: list[tuple[datetime, datetime | None, str | None]] = field(default_factory=list)
    #: (seq, body) of notice events
    notices: list[tuple[int, dict]] = field(default_factory=list)

    @property
    def state(self) -> str | None:
        if self.accepted_at is None:
            return None
        if self.completed_at is not None:
            return "completed"
        return "suspended" if self.suspended_now else "accepted"


def _uuid(value) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


def fold(events: list[tuple[int, str, datetime, dict]]) -> Folded:
    """``events``: (seq, type, at, body) of one case, any order."""
    out = Folded()
    for seq, kind, at, body in sorted(events, key=lambda e: e[0]):
        if kind == "accepted":
            out.accepted_at = at
            out.matter_code = body.get("matter_code", out.matter_code)
            out.applicant = body.get("applicant", out.applicant)
            if body.get("key_project_id"):
                out.key_project_id = _uuid(body["key_project_id"])
        elif kind in ("step_started", "step_finished"):
            step = out.steps.setdefault(body["step"], Step(body["step"]))
            step.name = body.get("step_name") or step.name
            step.unit_id = _uuid(body.get("unit_id")) or step.unit_id
            if body.get("parallel_group") is not None:
                step.parallel_group = int(body["parallel_group"])
            if kind == "step_started":
                step.started_at = at
            else:
                step.finished_at = at
        elif kind == "suspended":
            if not out.suspended_now:
                out.suspensions.append((at, None, body.get("reason")))
                out.suspended_now = True
        elif kind == "resumed":
            if out.suspended_now:
                start, _, reason = out.suspensions[-1]
                out.suspensions[-1] = (start, at, reason)
                out.suspended_now = False
        elif kind == "completed":
            out.completed_at = at
            out.outcome = body.get("outcome", "approved")
        elif kind == "notice":
            out.notices.append((seq, body))
    return out


class DayCounts:
    """A calendar's working days counted once from ``origin`` on: a count between two days is a subtraction.

    The push folds hundreds of cases spanning the same months; asking the calendar day by day for
    each would ask it the same questions again and again. Days before ``origin`` go to the calendar.
    """

    def __init__(self, cal: WorkCalendar, origin: date):
        self.cal, self.origin = cal, origin.toordinal()
        self.cum = [0]  # cum[k]: working days in [origin, origin + k)

    def _cover(self, ordinal: int) -> None:
        need = ordinal - self.origin + 2
        cum, is_working = self.cum, self.cal.is_working_day
        while len(cum) < need:
            cum.append(cum[-1] + is_working(date.fromordinal(self.origin + len(cum) - 1)))

    def is_working_day(self, day: date) -> bool:
        o = day.toordinal()
        if o < self.origin:
            return self.cal.is_working_day(day)
        self._cover(o)
        i = o - self.origin
        return self.cum[i + 1] > self.cum[i]

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b], as WorkCalendar.working_days_between."""
        if b < a:
            return -self.working_days_between(b, a)
        if a.toordinal() + 1 < self.origin:
            return self.cal.working_days_between(a, b)
        self._cover(b.toordinal())
        return self.cum[b.toordinal() - self.origin + 1] - self.cum[a.toordinal() - self.origin + 1]

    def add_working_days(self, start: date, n: int) -> date:
        day, left = start.toordinal(), n
        while left > 0:
            day += 1
            left -= self.is_working_day(date.fromordinal(day))
        return date.fromordinal(day) if n > 0 else self.cal.add_working_days(start, n)

    def provisional_years(self, a: date, b: date) -> frozenset[int]:
        return self.cal.provisional_years(a, b)


@dataclass(frozen=True)
class Reckoning:
    working_days: int
    suspended_days: int
    deadline: date
    within_limit: bool | None
    provisional: bool
    #: the share of the limit used (working days / limit)
    share: float


def _suspended_days(cal: WorkCalendar | DayCounts, accepted: date, end: date,
                    suspensions: list[tuple[date, date]]) -> set[date]:
    """Working days in (accepted, end] that fall in some suspension (its start day excluded, its end included)."""
    days: set[date] = set()
    for start, stop in suspensions:
        lo, hi = max(start, accepted), min(stop, end)
        day = lo
        while day < hi:
            day = date.fromordinal(day.toordinal() + 1)
            if cal.is_working_day(day):
                days.add(day)
    return days


def reckon(folded: Folded, cal: WorkCalendar | DayCounts, limit_days: int, today: date) -> Reckoning | None:
    """Working days used, excluding suspended ones: (accepted day, completion day or today].

    The accepting day is not counted (开始的当日不计入), the completing day is. A suspension counts
    from the day after the request to the applicant to the day the file came back, both within
    the case's span; a suspension still running counts up to the end day.
    """
    if folded.accepted_at is None:
        return None
    accepted = office_date(folded.accepted_at)
    end = office_date(folded.completed_at) if folded.completed_at else max(today, accepted)
    spans = [(office_date(s), office_date(e) if e else end) for s, e, _ in folded.suspensions]
    suspended = len(_suspended_days(cal, accepted, end, spans))
    used = cal.working_days_between(accepted, end) - suspended
    deadline = cal.add_working_days(accepted, limit_days + suspended)
    within = None if folded.completed_at is None else used <= limit_days
    provisional = bool(cal.provisional_years(accepted, max(end, deadline)))
    return Reckoning(used, suspended, deadline, within, provisional, used / limit_days if limit_days else 0.0)


def alert_levels(folded: Folded, reckoning: Reckoning | None, limit_days: int, yellow_share: float,
                 deemed_approval: bool, has_notice: bool) -> list[str]:
    """The alerts a case earns now; alerts once raised stay (the caller never removes them)."""
    if reckoning is None:
        return []
    levels = []
    over = reckoning.working_days > limit_days
    if folded.completed_at is None and not over and reckoning.working_days >= math.ceil(yellow_share * limit_days):
        levels.append("yellow")
    if over:
        levels.append("red")
        if deemed_approval:
            levels.append("deemed")
    if folded.outcome in NEEDS_NOTICE and not has_notice:
        levels.append("no_notice")
    return levels
