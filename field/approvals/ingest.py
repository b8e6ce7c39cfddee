"""Events pushed by the approval systems (or imported as CSV): idempotent, in batches, on the fast path.

The path of a batch (docs/service.md §2): the cases' rows upserted by source number, the events
inserted unless their ``(case, seq)`` is stored already, and only the cases that got new events
folded again (field/approvals/fold.py) and written back with executemany. A replayed batch inserts
no event, so it writes nothing at all. SQLAlchemy Core throughout: no ORM object per event.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from field.core.calendar import calendar_for
from field.core.errors import InvalidInput
from field.core.models.base import utcnow
from field.core.models.platform import Jurisdiction, User
from field.core.office import office_date, office_today
from field.core.scope import in_scope
from field.directory.models import Unit
from field.service.models import KeyProject

from . import fold as folding
from .models import (AlertLevel, ApprovalAlert, ApprovalCase, ApprovalEvent, ApprovalMatter, ApprovalNotice,
                     ApprovalStep, ApprovalSuspension)
from .policy import require

#: Events per request at most (a bigger batch is refused, not truncated).
MAX_BATCH = 1000
#: Share of the limit at which a yellow alert is raised unless the matter says otherwise.
DEFAULT_YELLOW_SHARE = 0.8
_CHUNK = 500

_cases, _events, _steps = ApprovalCase.__table__, ApprovalEvent.__table__, ApprovalStep.__table__
_suspensions, _alerts, _notices = ApprovalSuspension.__table__, ApprovalAlert.__table__, ApprovalNotice.__table__
_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _insert(session: Session, table):
    return _INSERT[session.get_bind().dialect.name](table)


def _jsonable(value):
    if isinstance(value, (uuid.UUID, date, datetime)):
        return value.isoformat() if not isinstance(value, uuid.UUID) else str(value)
    return value


def canonical(event: dict) -> dict:
    """The event as stored: JSON values, no absent keys (the same event always hashes the same)."""
    return {k: _jsonable(v) for k, v in sorted(event.items()) if v is not None and k != "case_number"}


def body_hash(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass
class Ingested:
    received: int = 0
    applied: int = 0
    duplicates: int = 0
    #: the same (case number, seq) stored with another body: not applied
    conflicts: list[dict] = field(default_factory=list)
    cases_created: int = 0
    cases_updated: int = 0
    alerts_raised: int = 0


def _chunks(items: Sequence, size: int = _CHUNK) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _check_references(session: Session, actor: User, events: Sequence[dict], prefix: str) -> None:
    """Matter codes, units and key projects named by the batch exist in the caller's scope; else 422 naming one."""
    codes = {e["matter_code"] for e in events if e.get("matter_code")}
    known = set(session.execute(select(ApprovalMatter.code).where(
        ApprovalMatter.jurisdiction_id == actor.jurisdiction_id, ApprovalMatter.code.in_(codes))).scalars()) \
        if codes else set()
    units = {e["unit_id"] for e in events if e.get("unit_id")}
    units_ok = set(session.execute(select(Unit.id).where(Unit.id.in_(units), in_scope(Unit.jurisdiction_id, actor))
                                   ).scalars()) if units else set()
    projects = {e["key_project_id"] for e in events if e.get("key_project_id")}
    projects_ok = set(session.execute(select(KeyProject.id).where(
        KeyProject.id.in_(projects), in_scope(KeyProject.jurisdiction_id, actor))).scalars()) if projects else set()
    for i, e in enumerate(events):
        if e.get("matter_code") and e["matter_code"] not in known:
            raise InvalidInput(f"{prefix}{i}.matter_code", f"No matter {e['matter_code']!r} here: add it first.")
        if e.get("unit_id") and e["unit_id"] not in units_ok:
            raise InvalidInput(f"{prefix}{i}.unit_id", "No such unit.")
        if e.get("key_project_id") and e["key_project_id"] not in projects_ok:
            raise InvalidInput(f"{prefix}{i}.key_project_id", "No such key project.")
        if e["type"] == "accepted" and not e.get("matter_code"):
            raise InvalidInput(f"{prefix}{i}.matter_code", "An accepted event names its matter.")
        if e["type"] in ("step_started", "step_finished") and not e.get("step"):
            raise InvalidInput(f"{prefix}{i}.step", "A step event names its step.")
        if e["type"] == "completed" and not e.get("outcome"):
            raise InvalidInput(f"{prefix}{i}.outcome", "A completed event gives the outcome.")
        if e["type"] == "notice" and not (e.get("notice_kind") and e.get("reason") and e.get("handler_name")):
            raise InvalidInput(f"{prefix}{i}.notice_kind", "A notice gives its kind, reason and handler_name.")


def push(session: Session, actor: User, source_system: str, events: Sequence[dict], *, today: date | None = None,
         yellow_share: float = DEFAULT_YELLOW_SHARE, prefix: str = "events.") -> Ingested:
    """Store a batch of events of ``source_system`` and bring the cases they touch up to date."""
    require(actor, "push")
    if len(events) > MAX_BATCH:
        raise InvalidInput("events", f"At most {MAX_BATCH} events per request.")
    _check_references(session, actor, events, prefix)
    result = Ingested(received=len(events))
    if not events:
        return result
    jid, now = actor.jurisdiction_id, utcnow()
    numbers = list(dict.fromkeys(e["case_number"] for e in events))
    ids = _case_ids(session, jid, source_system, numbers)
    missing = [n for n in numbers if n not in ids]
    if missing:
        session.execute(_insert(session, _cases).on_conflict_do_nothing(
            index_elements=[_cases.c.jurisdiction_id, _cases.c.source_system, _cases.c.source_number]),
            [{"id": uuid.uuid4(), "jurisdiction_id": jid, "source_system": source_system, "source_number": n,
              "suspended_days": 0, "provisional": False, "deemed_approved": False, "needs_notice": False,
              "events": 0, "created_at": now, "updated_at": now} for n in missing])
        ids.update(_case_ids(session, jid, source_system, missing))
        result.cases_created = len(missing)
    stored: dict[tuple[uuid.UUID, int], str] = {}
    for chunk in _chunks(list(ids.values())):
        stored.update({(c, s): h for c, s, h in session.execute(
            select(_events.c.case_id, _events.c.seq, _events.c.body_hash).where(_events.c.case_id.in_(chunk)))})
    new_rows, seen = [], {}
    for e in events:
        body = canonical(e)
        key, digest = (ids[e["case_number"]], e["seq"]), body_hash(body)
        earlier = stored.get(key) or seen.get(key)
        if earlier is None:
            seen[key] = digest
            new_rows.append({"case_id": key[0], "seq": key[1], "type": e["type"], "at": e["at"], "body": body,
                             "body_hash": digest, "received_at": now})
        elif earlier == digest:
            result.duplicates += 1
        else:
            result.conflicts.append({"case_number": e["case_number"], "seq": e["seq"],
                                     "detail": "Another event with this seq is stored; not applied."})
    if new_rows:
        session.execute(_insert(session, _events).on_conflict_do_nothing(
            index_elements=[_events.c.case_id, _events.c.seq]), new_rows)
        notices = [r for r in new_rows if r["type"] == "notice"]
        if notices:
            session.execute(_insert(session, _notices).on_conflict_do_nothing(index_elements=[_notices.c.id]), [{
                "id": uuid.uuid5(r["case_id"], f"notice-{r['seq']}"), "jurisdiction_id": jid, "case_id": r["case_id"],
                "kind": r["body"]["notice_kind"], "reason": r["body"]["reason"],
                "handler_name": r["body"]["handler_name"],
                "issued_on": date.fromisoformat(r["body"]["issued_on"]) if r["body"].get("issued_on")
                else office_date(r["at"]), "source": "pushed", "created_at": now} for r in notices])
    result.applied = len(new_rows)
    touched = list(dict.fromkeys(r["case_id"] for r in new_rows))
    jurisdiction = session.get(Jurisdiction, jid)
    counts = refold(session, jurisdiction, touched, today=today, yellow_share=yellow_share)
    result.cases_updated, result.alerts_raised = counts
    return result


def _case_ids(session: Session, jid, source_system: str, numbers: Sequence[str]) -> dict[str, uuid.UUID]:
    found = {}
    for chunk in _chunks(list(numbers)):
        found.update(dict(session.execute(select(_cases.c.source_number, _cases.c.id).where(
            _cases.c.jurisdiction_id == jid, _cases.c.source_system == source_system,
            _cases.c.source_number.in_(chunk))).all()))
    return found


_UPDATE_CASE = (update(_cases).where(_cases.c.id == bindparam("b_id")).values(
    {c: bindparam(c) for c in ("matter_id", "unit_id", "key_project_id", "applicant", "state", "outcome",
                               "accepted_at", "accepted_on", "completed_at", "completed_on", "limit_days",
                               "working_days", "suspended_days", "deadline", "within_limit", "provisional",
                               "deemed_approved", "needs_notice", "events", "updated_at")}))


def refold(session: Session, jurisdiction: Jurisdiction, case_ids: Sequence[uuid.UUID], *, today: date | None = None,
           yellow_share: float = DEFAULT_YELLOW_SHARE) -> tuple[int, int]:
    """Fold the events of ``case_ids`` again and write the cases, their steps, suspensions and new alerts.

    Returns (cases written, alerts raised). Alerts already raised are kept as they are.
    """
    if not case_ids:
        return 0, 0
    today = today or office_today()
    work_calendar = calendar_for(session, jurisdiction)
    matters = {m.code: m for m in session.execute(select(ApprovalMatter).where(
        ApprovalMatter.jurisdiction_id == jurisdiction.id)).scalars()}
    now, written, raised = utcnow(), 0, 0
    for chunk in _chunks(list(case_ids)):
        events: dict[uuid.UUID, list] = {c: [] for c in chunk}
        for c, seq, kind, at, body in session.execute(select(
                _events.c.case_id, _events.c.seq, _events.c.type, _events.c.at, _events.c.body).where(
                _events.c.case_id.in_(chunk))):
            events[c].append((seq, kind, at, body))
        noticed = set(session.execute(select(_notices.c.case_id).where(_notices.c.case_id.in_(chunk))).scalars())
        firsts = [e[2] for evs in events.values() for e in evs if e[1] == "accepted"]
        cal = folding.DayCounts(work_calendar, office_date(min(firsts)) if firsts else today)
        case_rows, step_rows, suspension_rows, alert_rows = [], [], [], []
        for case_id, evs in events.items():
            f = folding.fold(evs)
            matter = matters.get(f.matter_code)
            limit = matter.limit_days if matter else None
            r = folding.reckon(f, cal, limit, today) if matter else None
            has_notice = case_id in noticed
            case_rows.append({
                "b_id": case_id, "matter_id": matter.id if matter else None,
                "unit_id": matter.unit_id if matter else None, "key_project_id": f.key_project_id,
                "applicant": f.applicant, "state": f.state, "outcome": f.outcome, "accepted_at": f.accepted_at,
                "accepted_on": office_date(f.accepted_at) if f.accepted_at else None, "completed_at": f.completed_at,
                "completed_on": office_date(f.completed_at) if f.completed_at else None, "limit_days": limit,
                "working_days": r.working_days if r else None, "suspended_days": r.suspended_days if r else 0,
                "deadline": r.deadline if r else None, "within_limit": r.within_limit if r else None,
                "provisional": r.provisional if r else False,
                "deemed_approved": bool(r and matter.deemed_approval and r.working_days > limit),
                "needs_notice": f.outcome in folding.NEEDS_NOTICE and not has_notice, "events": len(evs),
                "updated_at": now})
            for step in f.steps.values():
                days = (cal.working_days_between(office_date(step.started_at), office_date(step.finished_at))
                        if step.started_at and step.finished_at else None)
                step_rows.append({"case_id": case_id, "key": step.key, "name": step.name, "unit_id": step.unit_id,
                                  "parallel_group": step.parallel_group, "started_at": step.started_at,
                                  "finished_at": step.finished_at, "working_days": days})
            for i, (start, end, reason) in enumerate(f.suspensions):
                suspension_rows.append({"case_id": case_id, "position": i + 1, "started_at": start, "ended_at": end,
                                        "reason": reason})
            if matter is not None:
                share = matter.yellow_share if matter.yellow_share is not None else yellow_share
                for level in folding.alert_levels(f, r, limit, share, matter.deemed_approval, has_notice):
                    alert_rows.append({"id": uuid.uuid4(), "jurisdiction_id": jurisdiction.id,
                                       "approval_case_id": case_id, "level": AlertLevel(level).value,
                                       "state": "open", "raised_at": now, "working_days": r.working_days,
                                       "limit_days": limit})
        session.execute(_UPDATE_CASE, case_rows)
        session.execute(delete(_steps).where(_steps.c.case_id.in_(chunk)))
        session.execute(delete(_suspensions).where(_suspensions.c.case_id.in_(chunk)))
        if step_rows:
            session.execute(_steps.insert(), step_rows)
        if suspension_rows:
            session.execute(_suspensions.insert(), suspension_rows)
        if alert_rows:
            raised += len(session.execute(_insert(session, _alerts).on_conflict_do_nothing(
                index_elements=[_alerts.c.approval_case_id, _alerts.c.level]).returning(_alerts.c.id),
                alert_rows).all())
        written += len(case_rows)
    # The rows were written with Core: loaded cases of the session would show what they were.
    folded = set(case_ids)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, ApprovalCase) and obj.id in folded:
            session.expire(obj)
    return written, raised

