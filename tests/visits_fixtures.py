"""Factories of undercover work for tests: a district with two squads, units, staff, seeded categories, cases."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from field.visits import callbacks, findings, taxonomy, visits
from field.directory import enterprises, squads, units
from field.records import lifecycle as records
from field.core.locations import GivenLocation
from field.core.models.platform import Role, User
from field.directory.models import SquadMember, UnitKind
from field.visits.models import TaskMethod
from field.core.models.base import utcnow
from tests.directory_fixtures import credit_code

#: Planted in every monitor's real name and phone: no response to anyone may contain it.
MARKER = "ZQX7MARK"
CST = timezone(timedelta(hours=8))


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, 5, day, hour, minute, tzinfo=CST)


@dataclass
class Monitor:
    user: User
    member: SquadMember

    @property
    def code(self) -> str:
        return self.member.code


@dataclass
class World:
    admin: User
    reviewer: User
    squad: object
    other_squad: object
    alice: Monitor
    bob: Monitor
    carol: Monitor  # of the other squad
    bureau: object  # a department in the district
    section: object  # a section of the bureau, in the street below
    window: object
    clerk: object  # a person of the section
    stranger: object  # a person of another unit
    enterprise: object


def enlist(session, admin, squad, n: int) -> Monitor:
    member = squads.enlist(session, admin, squad, real_name=f"真名{MARKER}{n}", phone=f"1380000{MARKER}{n}",
                           password="correct horse battery")
    session.flush()
    return Monitor(session.get(User, member.user_id), member)


def fast_passwords(monkeypatch) -> None:
    """Cheap argon2 parameters: these tests make many accounts, and the hashes are not what they test."""
    from argon2 import PasswordHasher

    from field.accounts import users as accounts

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def world(session, tree, monkeypatch, make_user) -> World:
    fast_passwords(monkeypatch)
    admin = make_user(Role.admin)
    reviewer = make_user(Role.reviewer)
    taxonomy.seed_categories(session)
    squad = squads.create_squad(session, admin, name="第一暗访小分队", code_prefix="JLP")
    other_squad = squads.create_squad(session, admin, name="第二暗访小分队", code_prefix="JLQ")
    alice, bob = enlist(session, admin, squad, 1), enlist(session, admin, squad, 2)
    carol = enlist(session, admin, other_squad, 3)
    bureau = units.create_unit(session, admin, name="区规划自然资源局", kind=UnitKind.department,
                               location=GivenLocation(106.51, 29.50))
    section = units.create_unit(session, admin, name="不动产登记中心", kind=UnitKind.section, parent_id=bureau.id)
    window = units.create_unit(session, admin, name="三号窗口", kind=UnitKind.window, parent_id=section.id)
    other_unit = units.create_unit(session, admin, name="区市场监督管理局", kind=UnitKind.department)
    clerk = units.create_person(session, admin, unit_id=window.id, name="李科员")
    stranger = units.create_person(session, admin, unit_id=other_unit.id, name="王科长")
    enterprise = enterprises.create_enterprise(session, admin, name="重庆某某机械有限公司", credit_code=credit_code(880001),
                                               location=GivenLocation(106.52, 29.51))
    session.commit()
    return World(admin, reviewer, squad, other_squad, alice, bob, carol, bureau, section, window, clerk, stranger,
                 enterprise)


def receipt_for(user: User) -> records.Receipt:
    return records.Receipt(user=user, device_id=None, device_sent_at=None)


def task_for(session, world: World, **overrides):
    values = {"squad_id": world.squad.id, "method": TaskMethod.in_disguise, "target": {"unit_id": world.window.id},
              "theme": "不动产登记窗口办事效率", "window_start": at(11, 8), "window_end": at(15, 18)}
    values.update(overrides)
    task = visits.create_task(session, world.admin, **values)
    session.commit()
    return task


def visit_values(**overrides) -> dict:
    values = {"id": uuid.uuid4(), "device_time": at(12, 10, 30), "task_id": None, "members": [],
              "started_at": at(12, 9, 40), "ended_at": at(12, 10, 10), "location": None,
              "narrative": "三号窗口工作人员离岗约二十分钟。", "declared_attachments": []}
    values.update(overrides)
    return values


def finding_values(world: World, **overrides) -> dict:
    values = {"id": uuid.uuid4(), "device_time": at(12, 10, 40), "category": "absent_from_post",
              "severity": "moderate", "unit_id": world.window.id, "person_id": None, "visit_id": None,
              "occurred_at": at(12, 9, 50), "location": None, "description": "工作时间离岗二十分钟。",
              "declared_attachments": []}
    values.update(overrides)
    return values


CSV_HEADER = "case_no,unit,service,completed_on,applicant_name,applicant_contact\n"


def cases_csv(n: int, *, start: int = 1, unit: str = "区规划自然资源局/不动产登记中心") -> bytes:
    rows = [f"JLP2026-{i:05d},{unit},不动产转移登记,2026-04-{1 + i % 28:02d},申请人{i},139{i:08d}\n"
            for i in range(start, start + n)]
    return (CSV_HEADER + "".join(rows)).encode()


def assigned_sample(session, world: World, n_cases: int = 12, size: int = 4, seed: int = 7):
    """A batch of ``n_cases``, a sample of ``size`` drawn with ``seed``, assigned to the first squad."""
    batch, _ = callbacks.import_batch(session, world.reviewer, cases_csv(n_cases), name="四月办件")
    sample = callbacks.draw_sample(session, world.reviewer, batch, size=size, seed=seed)
    task = visits.create_task(session, world.reviewer, squad_id=world.squad.id, method=TaskMethod.callback,
                              target={"sample_id": sample.id}, theme="四月办件回访",
                              window_start=at(11, 8), window_end=at(22, 18))
    session.commit()
    return batch, sample, task


def foreign_undercover(session, other_admin: User, squad, unit) -> dict:
    """One of each undercover object in another district, for the scope test's ``foreign`` fixture."""
    taxonomy.seed_categories(session)
    category = taxonomy.create_category(session, other_admin, code="foreign_only", label_zh="外区", label_en="Foreign")
    member = squads.enlist(session, other_admin, squad, real_name="外区监督员", password="correct horse battery")
    monitor = session.get(User, member.user_id)
    task = visits.create_task(session, other_admin, squad_id=squad.id, method=TaskMethod.casual_talk,
                              target={"unit_id": unit.id}, theme="外区", window_start=at(1), window_end=at(2))
    visit = visits.record_visit(session, receipt_for(monitor), visit_values(task_id=task.id)).record
    finding = findings.record_finding(session, receipt_for(monitor), {
        "id": uuid.uuid4(), "device_time": utcnow(), "category": "delays", "severity": "minor", "unit_id": unit.id,
        "occurred_at": utcnow(), "description": "外区"}).record
    batch, _ = callbacks.import_batch(session, other_admin, cases_csv(2, start=900), name="外区办件")
    sample = callbacks.draw_sample(session, other_admin, batch, size=1, seed=1)
    visits.create_task(session, other_admin, squad_id=squad.id, method=TaskMethod.callback,
                       target={"sample_id": sample.id}, theme="外区回访", window_start=at(1), window_end=at(2))
    case_id = session.execute(callbacks.sample_cases_query(sample.id)).scalars().first().id
    callback = callbacks.record_callback(session, receipt_for(monitor), {
        "id": uuid.uuid4(), "device_time": utcnow(), "case_id": case_id, "called_at": utcnow(), "reached": True,
        "satisfied": False, "problem": "外区"}).record
    return {"category_id": category.id, "task_id": task.id, "visit_id": visit.id, "finding_id": finding.id,
            "callback_id": callback.id, "batch_id": batch.id, "sample_id": sample.id}


#: Bodies for the id endpoints of undercover work, so that the scope test's answer is about the id.
FOREIGN_BODIES = {
    ("PATCH", "/api/v1/finding-categories/<uuid:category_id>"): {"active": False},
    ("PATCH", "/api/v1/visit-tasks/<uuid:task_id>"): {"theme": "x"},
    ("PUT", "/api/v1/visits/<uuid:visit_id>"): {
        "device_time": "2026-05-12T10:30:00+08:00", "started_at": "2026-05-12T09:40:00+08:00",
        "ended_at": "2026-05-12T10:10:00+08:00", "narrative": "x"},
    ("PUT", "/api/v1/findings/<uuid:finding_id>"): {
        "device_time": "2026-05-12T10:30:00+08:00", "category": "delays", "severity": "minor",
        "occurred_at": "2026-05-12T09:40:00+08:00", "description": "x"},
    ("PUT", "/api/v1/callbacks/<uuid:callback_id>"): {
        "device_time": "2026-05-12T10:30:00+08:00", "case_id": str(uuid.uuid4()),
        "called_at": "2026-05-12T10:00:00+08:00", "reached": False},
    ("POST", "/api/v1/callbacks/<uuid:callback_id>/findings"): {
        "id": str(uuid.uuid4()), "device_time": "2026-05-12T10:30:00+08:00", "category": "delays",
        "severity": "minor", "occurred_at": "2026-05-12T09:40:00+08:00", "description": "x"},
    ("POST", "/api/v1/callback-batches/<uuid:batch_id>/samples"): {"size": 1},
}
