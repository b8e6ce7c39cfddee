"""Undercover visits (明查暗访, brief 3): the office's visit tasks and the visits squads record.

Design of the whole undercover-visit area (brief 3, 4 and 7; docs/visits.md has the API):

Models (field/visits/models.py)
- ``FindingCategory`` (office table): the taxonomy of findings. ``code`` (English
  snake_case), ``label_zh``, ``label_en``, ``group_code`` (five_poisons, three_actions …),
  ``active``. ``jurisdiction_id`` NULL: seeded, shared by every office (field/visits/taxonomy.py
  SEED, loaded by ``fieldwatch seed-taxonomy``); otherwise added by an admin and
  applying to that jurisdiction and everything below it. A code means one category
  wherever it applies: a new code may not shadow one above or below it.
- ``VisitTask`` (office table, scoped): a squad, a target (a unit, section or window, an
  enterprise, a free place with a location, or a callback sample), a theme, a time
  window, a method (follow_the_lead | casual_talk | in_disguise | callback), a state
  (open → done | cancelled; done → open). Its jurisdiction is the squad's.
- ``Visit`` (FieldRecord "visit"): the task (optional), who went (squad member codes,
  the ``visit_members`` table), start and end, where, the narrative.
- ``Finding`` (FieldRecord "finding", field/visits/findings.py): category, severity, unit and
  person, when and where, description, the visit or callback it came from, declared
  evidence. Its jurisdiction is the unit's, so the office over that unit reviews it.
- Callback sampling (field/visits/callbacks.py): ``CallbackBatch`` (one imported CSV, keyed by
  its SHA-256), ``ServiceCase`` (keyed by case number per jurisdiction; the applicant's
  contact is confidential), ``CallbackSample`` (seed, size, the population's digest)
  with ``SampleCase`` rows in draw order, and ``Callback`` (FieldRecord "callback":
  reached, satisfied, problem text), from which a finding can be made.

Who sees what
- Office staff (admin, reviewer): everything of their jurisdiction subtree.
- Squad members: the tasks of their own (active) squad, the cases of samples assigned
  to it, and their own visits, findings and callbacks; always under codes, never names.
- Everyone else (inspector, liaison, leader): nothing. Every endpoint of this area
  answers them 404, as for an id that does not exist, and nothing reaches them through
  lists or the sync feed (tasks sync under the squad's audience only).

Data flow: api/visits.py or api/callbacks.py parses the body with schemas/visits.py
into plain values (a ``GivenLocation`` for a position), calls one function here, in
field/visits/findings.py or field/visits/callbacks.py, and commits. Phone records go through
``field.records.lifecycle.submit``: the checks run inside its ``build`` so that a repeat of a
stored record answers the stored record without re-checking (a monitor who has left
the squad since still gets their receipt), and the body hashed is the canonical form
of the validated values (``canonical_body``), so key order, spacing and time-zone
notation do not make a repeat a conflict. Task changes go to the sync feed (entity
``visit_task``, audience: the squad) and, like every record change, to the custody log.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Iterable

from shapely.geometry import Point
from sqlalchemy import ColumnElement, Select, and_, event, false, select
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.base import NEVER_SET, NO_VALUE

from field.custody import chain as custody

from field.core.memo import remembered
from field.core import geo, sync
from field.records import lifecycle as records
from field.directory import squads  # noqa: F401  (registers the "squad" audience of the sync feed)
from field.core.errors import Conflict, FieldProblem, InvalidInput, InvalidTransition, NotAllowed, NotFound
from field.core.locations import GivenLocation, place
from field.core.models.platform import OFFICE_ROLES, Jurisdiction, Role, User
from field.core.models.base import utcnow
from field.directory.models import Enterprise, Squad, SquadMember, Unit
from .models import CallbackSample, TargetKind, TaskMethod, TaskState, Visit, VisitTask
from field.records.lifecycle import Receipt, Submitted
from field.records.kinds import RecordKind, register
from field.core.pages import keyed
from field.core.scope import get_one, in_scope, visible_records_predicate
from field.core.scoped import clean, resolve_live
from field.records.lifecycle import canonical_body
from field.core.queries import narrowed

#: Roles that may know undercover work exists at all.
UNDERCOVER_ROLES = frozenset(OFFICE_ROLES | {Role.squad_member})

#: A task's state → the states the office may move it to.
TASK_TRANSITIONS: dict[TaskState, tuple[TaskState, ...]] = {
    TaskState.open: (TaskState.done, TaskState.cancelled),
    TaskState.done: (TaskState.open,),
    TaskState.cancelled: (),
}


def require_undercover_role(user: User) -> None:
    """Inspectors, liaisons and leaders are told nothing here: not even that the thing exists."""
    if user.role not in UNDERCOVER_ROLES:
        raise NotFound("resource")


def require_office(user: User, what: str) -> None:
    require_undercover_role(user)
    if user.role not in OFFICE_ROLES:
        raise NotAllowed(f"Only office staff {what}.")


# -- canonical bodies: what is hashed and kept as a record's version --------------------------


def utc(moment: datetime) -> datetime:
    """An aware time in UTC: what the database gives back, so a first answer equals every repeat's."""
    return moment.astimezone(timezone.utc)


def locate(record, given: GivenLocation | None, field: str = "location") -> None:
    """Put a position on a record's envelope (WGS-84; converted once, here)."""
    if given is None:
        record.location, record.accuracy_m = None, None
        return
    stored = given.to_stored(field)
    record.location = geo.to_db(Point(stored.lon, stored.lat))
    record.accuracy_m = stored.accuracy_m


# -- squads, seen from a monitor ---------------------------------------------------------------


def active_squad_ids(user: User) -> Select:
    return select(SquadMember.squad_id).where(SquadMember.user_id == user.id, SquadMember.left_at.is_(None))


def membership(session: Session, user: User) -> SquadMember:
    """The monitor's current membership; a monitor outside any squad records nothing."""
    member = remembered(session, ("membership", user.id), lambda: session.execute(select(SquadMember).where(
        SquadMember.user_id == user.id, SquadMember.left_at.is_(None))).scalar_one_or_none())
    if member is None:
        raise NotAllowed("You are not in a squad: ask the office to add you to one.")
    return member


# -- visit tasks -------------------------------------------------------------------------------


def visible_tasks(user: User) -> ColumnElement[bool]:
    """Office staff: every task of their scope. Monitors: their own squad's. Anyone else: none."""
    base = in_scope(VisitTask.jurisdiction_id, user)
    if user.role in OFFICE_ROLES:
        return base
    if user.role is Role.squad_member:
        return and_(base, VisitTask.squad_id.in_(active_squad_ids(user)))
    return false()


def _inside(session: Session, jurisdiction_id: uuid.UUID, area: Jurisdiction) -> bool:
    j = session.get(Jurisdiction, jurisdiction_id)
    return j is not None and j.path.startswith(area.path)


def _resolve_target(session: Session, actor: User, squad: Squad, method: TaskMethod, target: dict) -> dict:
    """The target's columns, each id checked in the actor's scope and inside the squad's area."""
    area = session.get(Jurisdiction, squad.jurisdiction_id)
    given = [k for k in ("unit_id", "enterprise_id", "place_name", "sample_id") if target.get(k) is not None]
    if len(given) != 1:
        raise InvalidInput("target", "Give exactly one of unit_id, enterprise_id, place_name (with location) "
                                     "or sample_id.")
    key = given[0]
    if (method is TaskMethod.callback) != (key == "sample_id"):
        raise InvalidInput("target.sample_id" if method is TaskMethod.callback else "method",
                           "A callback task is the calling back of a sample of cases, and only that: "
                           "give method callback with target.sample_id.")
    columns = {"target_unit_id": None, "target_enterprise_id": None, "place_name": None, "sample_id": None}
    if key == "unit_id":
        unit = resolve_live(session, Unit, target["unit_id"], actor, "target.unit_id", "unit")
        if not _inside(session, unit.jurisdiction_id, area):
            raise InvalidInput("target.unit_id", "This unit is outside the squad's jurisdiction.")
        columns.update(target_kind=TargetKind.unit, target_unit_id=unit.id)
    elif key == "enterprise_id":
        enterprise = resolve_live(session, Enterprise, target["enterprise_id"], actor, "target.enterprise_id",
                                  "enterprise")
        if not _inside(session, enterprise.jurisdiction_id, area):
            raise InvalidInput("target.enterprise_id", "This enterprise is outside the squad's jurisdiction.")
        columns.update(target_kind=TargetKind.enterprise, target_enterprise_id=enterprise.id)
    elif key == "place_name":
        name = clean(target["place_name"])
        if name is None:
            raise InvalidInput("target.place_name", "Required.")
        if target.get("location") is None:
            raise InvalidInput("target.location", "A free place needs a location.")
        columns.update(target_kind=TargetKind.place, place_name=name,
                       place_location=target["location"].to_stored("target.location"))
    else:
        sample = session.execute(select(CallbackSample).where(
            CallbackSample.id == target["sample_id"], in_scope(CallbackSample.jurisdiction_id, actor))
        ).scalar_one_or_none()
        if sample is None:
            raise InvalidInput("target.sample_id", "No such sample.")
        if not _inside(session, sample.jurisdiction_id, area):
            raise InvalidInput("target.sample_id", "This sample's cases are outside the squad's jurisdiction.")
        if session.execute(select(VisitTask.id).where(VisitTask.sample_id == sample.id,
                                                      VisitTask.state != TaskState.cancelled)).first():
            raise Conflict("This sample is assigned already; cancel that task first.",
                           fields=[FieldProblem("target.sample_id", "Assigned already.")])
        columns.update(target_kind=TargetKind.sample, sample_id=sample.id)
    if key != "place_name" and target.get("location") is not None:
        raise InvalidInput("target.location", "Only a free place takes a location; the directory has the others'.")
    return columns


def _check_window(start: datetime, end: datetime) -> None:
    if end <= start:
        raise InvalidInput("window_end", "The window ends after it starts.")


def _log_task(session: Session, task: VisitTask, kind: str, actor: User, data: dict) -> None:
    sync.record(session, "visit_task", task.id, task.jurisdiction_id, sync.Audience("squad", task.squad_id))
    custody.record(session, jurisdiction_id=task.jurisdiction_id, kind=kind, subject_type="visit_task",
                   subject_id=task.id, actor=actor, data=data)


def create_task(session: Session, actor: User, *, squad_id: uuid.UUID, method: TaskMethod, target: dict,
                theme: str, window_start: datetime, window_end: datetime, instructions: str = "") -> VisitTask:
    require_office(actor, "assign visit tasks")
    method = TaskMethod(method)
    squad = resolve_live(session, Squad, squad_id, actor, "squad_id", "squad")
    _check_window(window_start, window_end)
    columns = _resolve_target(session, actor, squad, method, target)
    location = columns.pop("place_location", None)
    task = VisitTask(squad_id=squad.id, jurisdiction_id=squad.jurisdiction_id, method=method,
                     theme=theme.strip(), instructions=(instructions or "").strip(), window_start=utc(window_start),
                     window_end=utc(window_end), state=TaskState.open, created_by_id=actor.id, **columns)
    place(task, location)
    session.add(task)
    session.flush()
    _log_task(session, task, "visit_task.created", actor,
              {"squad_id": str(squad.id), "method": method.value, "target_kind": task.target_kind.value})
    return task


def update_task(session: Session, actor: User, task: VisitTask, changes: dict) -> VisitTask:
    """The office changes the theme, instructions, window or state of a task (not its squad or target)."""
    require_office(actor, "change visit tasks")
    if "state" in changes and TaskState(changes["state"]) is not task.state:
        wanted = TaskState(changes["state"])
        allowed = TASK_TRANSITIONS[task.state]
        if wanted not in allowed:
            raise InvalidTransition(task.state.value, wanted.value, [s.value for s in allowed])
        if wanted is TaskState.open and task.sample_id is not None and session.execute(
                select(VisitTask.id).where(VisitTask.sample_id == task.sample_id, VisitTask.id != task.id,
                                           VisitTask.state != TaskState.cancelled)).first():
            raise InvalidInput("state", "The sample has been assigned again since.")
    start = changes.get("window_start", task.window_start)
    end = changes.get("window_end", task.window_end)
    _check_window(start, end)
    before = {"state": task.state.value}
    for name in ("theme", "instructions"):
        if name in changes:
            setattr(task, name, (changes[name] or "").strip())
    task.window_start, task.window_end = utc(start), utc(end)
    if "state" in changes:
        task.state = TaskState(changes["state"])
    task.updated_at = utcnow()
    session.flush()
    _log_task(session, task, "visit_task.changed", actor,
              {"from": before["state"], "to": task.state.value, "fields": sorted(changes)})
    return task


def get_task(session: Session, user: User, task_id: uuid.UUID) -> VisitTask:
    require_undercover_role(user)
    return get_one(session, VisitTask, task_id, "visit task", visible_tasks(user))


@keyed(VisitTask.created_at, VisitTask.id)
def tasks_query(user: User, *, state: TaskState | None = None, method: TaskMethod | None = None,
                squad_id: uuid.UUID | None = None) -> Select:
    require_undercover_role(user)
    stmt = select(VisitTask).where(visible_tasks(user))
    stmt = narrowed(stmt, (VisitTask.state, state), (VisitTask.method, method), (VisitTask.squad_id, squad_id))
    return stmt


def load_tasks(session: Session, user: User, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, VisitTask]:
    """The sync feed's view: the tasks among ``ids`` the user may see now."""
    if user.role not in UNDERCOVER_ROLES:
        return {}
    rows = session.execute(select(VisitTask).where(VisitTask.id.in_(list(ids)), visible_tasks(user))).scalars()
    return {t.id: t for t in rows}


sync.register_feed("visit_task", load_tasks)


@event.listens_for(SquadMember.left_at, "set")
def _tombstones_for_a_leaver(member: SquadMember, value, oldvalue, initiator) -> None:
    """A monitor who leaves a squad loses its tasks: their phone gets a tombstone for each."""
    session = object_session(member)
    if value is None or oldvalue not in (None, NO_VALUE, NEVER_SET) or session is None:
        return
    with session.no_autoflush:
        tasks = session.execute(select(VisitTask.id, VisitTask.jurisdiction_id)
                                .where(VisitTask.squad_id == member.squad_id)).all()
    for task_id, jurisdiction_id in tasks:
        sync.record(session, "visit_task", task_id, jurisdiction_id, sync.Audience("user", member.user_id))


# -- visits ------------------------------------------------------------------------------------


def _codes(values: dict) -> dict:
    """The values with member codes as a set would have them: upper case, once each, sorted."""
    return {**values, "members": sorted({c.strip().upper() for c in values.get("members") or []})}


def _members(session: Session, squad_id: uuid.UUID, codes: list[str], me: SquadMember) -> list[SquadMember]:
    """The squad's members (past ones too: a visit may be sent after someone left) by code; me included."""
    wanted = sorted(set(codes) | {me.code})
    found = {m.code: m for m in session.execute(select(SquadMember).where(
        SquadMember.squad_id == squad_id, SquadMember.code.in_(wanted))).scalars()}
    unknown = [c for c in wanted if c not in found]
    if unknown:
        raise InvalidInput("members", f"Not codes of your squad: {', '.join(unknown)}.")
    return [found[c] for c in wanted]


def _visit_values(session: Session, user: User, values: dict) -> dict:
    """Check a visit's values for the monitor ``user``; the columns to write (checked before any is)."""
    me = membership(session, user)
    task = None
    if values.get("task_id") is not None:
        task = session.execute(select(VisitTask).where(VisitTask.id == values["task_id"],
                                                       VisitTask.squad_id == me.squad_id)).scalar_one_or_none()
        if task is None:
            raise InvalidInput("task_id", "No such task of your squad.")
    if values["ended_at"] < values["started_at"]:
        raise InvalidInput("ended_at", "The visit ends after it starts.")
    members = _members(session, me.squad_id, values.get("members") or [], me)
    location = values.get("location")
    if location is not None:
        location.to_stored("location")  # refuse a bad position before anything is written
    squad = session.get(Squad, me.squad_id)
    return {"task": task, "members": members, "squad": squad, "location": location}


def _apply_visit(visit: Visit, values: dict, checked: dict) -> None:
    visit.task_id = checked["task"].id if checked["task"] else None
    visit.squad_id = checked["squad"].id
    visit.started_at, visit.ended_at = utc(values["started_at"]), utc(values["ended_at"])
    visit.narrative = values["narrative"].strip()
    visit.members = checked["members"]
    visit.declared_attachments = [dict(a) for a in values.get("declared_attachments") or []]
    locate(visit, checked["location"])


def record_visit(session: Session, receipt: Receipt, values: dict) -> Submitted[Visit]:
    """A monitor's visit, created once per client id (field.records.lifecycle.submit)."""
    user = receipt.user
    require_undercover_role(user)
    if user.role is not Role.squad_member:
        raise NotAllowed("Visits are recorded by squad members.")
    values = _codes(values)

    def build() -> Visit:
        checked = _visit_values(session, user, values)
        task = checked["task"]
        visit = Visit(jurisdiction_id=task.jurisdiction_id if task else checked["squad"].jurisdiction_id,
                      device_time=utc(values["device_time"]))
        _apply_visit(visit, values, checked)
        return visit

    return records.submit(session, Visit, values["id"], canonical_body(values), receipt, build)


def amend_visit(session: Session, user: User, visit: Visit, values: dict) -> Visit:
    """The monitor's answer to "needs more information": a new version of the visit."""
    values = _codes(values)

    def apply() -> None:
        checked = _visit_values(session, user, values)
        visit.device_time = utc(values["device_time"])
        _apply_visit(visit, values, checked)

    return records.amend(session, user, visit, canonical_body(values), apply, values.get("amendment_note"))


def get_visit(session: Session, user: User, visit_id: uuid.UUID) -> Visit:
    require_undercover_role(user)
    return records.get_record(session, user, visit_id, Visit, "visit")


@keyed(Visit.received_at, Visit.id, descending=True)
def visits_query(user: User, *, task_id: uuid.UUID | None = None, squad_id: uuid.UUID | None = None) -> Select:
    require_undercover_role(user)
    stmt = select(Visit).where(visible_records_predicate(user))
    stmt = narrowed(stmt, (Visit.task_id, task_id), (Visit.squad_id, squad_id))
    return stmt


__all__ = ["UNDERCOVER_ROLES", "canonical_body", "create_task", "update_task", "get_task", "tasks_query",
           "load_tasks", "record_visit", "amend_visit", "get_visit", "visits_query"]


register(RecordKind(
    name="visit", model=Visit, noun="visit", path="visits",
    create=lambda s, receipt, body, ctx: record_visit(s, receipt, body),
    amend=lambda s, user, visit, body, ctx: amend_visit(s, user, visit, body),
    get=get_visit, query=visits_query,
    summary=lambda r: ([], None, r.narrative)))
