"""Phones resend: 1,000 submissions with duplicates, reorderings and concurrent repeats make one row per UUID."""

import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from api import create_app
from field.accounts import users as accounts
from field.core import migrate
from field.directory import squads, units
from field.visits import taxonomy
from field.visits.models import Finding
from field.core.models.platform import Role, User
from field.directory.models import UnitKind
from stress.world import chongqing
from tests.conftest import PASSWORD, fresh_database_url

SENDS = 1000
RECORDS = 400


@pytest.fixture
def live(backend, tmp_path):
    """A committed database of its own: concurrent requests need real transactions, not savepoints."""
    url = fresh_database_url(backend, tmp_path, "_replay")
    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "EVIDENCE_DIR": str(tmp_path / "evidence")})
    with app.extensions["SESSION_FACTORY"]() as s:
        province, city, district = chongqing(s)
        admin = accounts.create_user(s, actor=None, username="admin", password=PASSWORD, display_name="a",
                                     role=Role.admin, jurisdiction_id=district.id)
        taxonomy.seed_categories(s)
        squad = squads.create_squad(s, admin, name="第一暗访小分队", code_prefix="JLP")
        member = squads.enlist(s, admin, squad, real_name="张三", phone="13800000000", password=PASSWORD)
        s.flush()
        unit = units.create_unit(s, admin, name="区政务服务中心", kind=UnitKind.department)
        token = accounts.issue_token(s, s.get(User, member.user_id), "phone", timedelta(days=1)).token
        s.commit()
        unit_id = unit.id
    yield app, {"Authorization": f"Bearer {token}"}, unit_id
    app.extensions["ENGINE"].dispose()


def _finding(unit_id, rid):
    return {"id": str(rid), "device_time": "2026-05-12T10:40:00+08:00", "category": "absent_from_post",
            "severity": "moderate", "unit_id": str(unit_id), "occurred_at": "2026-05-12T09:50:00+08:00",
            "description": f"工作时间离岗 {rid}"}


def test_a_thousand_resent_submissions_create_exactly_one_row_per_uuid_and_no_5xx(live):
    app, headers, unit_id = live
    rng = random.Random(20261121)
    ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(RECORDS)]
    sends = ids + [rng.choice(ids) for _ in range(SENDS - RECORDS)]
    rng.shuffle(sends)
    # A tenth of the sends go out as bursts of the same record at once (a phone retrying in parallel).
    bursts = [[rid] * 4 for rid in rng.sample(ids, 25)]
    conflicts = rng.sample(ids, 20)

    def send(rid, body=None):
        resp = app.test_client().post("/api/v1/findings", headers=headers, json=body or _finding(unit_id, rid))
        return rid, resp.status_code, resp.get_json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(send, sends))
        for burst in bursts:
            results += list(pool.map(send, burst))
        changed = [send(rid, {**_finding(unit_id, rid), "severity": "serious"}) for rid in conflicts]

    statuses = [status for _, status, _ in results]
    assert not [s for s in statuses if s >= 500], "server errors"
    assert set(statuses) <= {200, 201}, sorted(set(statuses))
    created = [rid for rid, status, _ in results if status == 201]
    assert sorted(created) == sorted(ids), "each record created exactly once"
    assert all(body["id"] == str(rid) for rid, _, body in results)
    assert {status for _, status, _ in changed} == {409}
    with app.extensions["SESSION_FACTORY"]() as s:
        assert s.execute(select(func.count()).select_from(Finding)).scalar() == RECORDS
        severities = set(s.execute(select(Finding.severity).where(Finding.id.in_(conflicts))).scalars())
    assert {getattr(v, "value", v) for v in severities} == {"moderate"}, "a conflicting body changed nothing"
