"""A small committed world for harnesses that need real concurrent transactions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from api import create_app
from field import accounts, jurisdictions, migrate, squads, taxonomy, units
from field.models import JurisdictionLevel, Role, UnitKind, User

PASSWORD = "correct horse battery"


@dataclass
class World:
    app: object
    admin_headers: dict
    monitor_headers: dict
    unit_id: uuid.UUID

    def close(self) -> None:
        self.app.extensions["ENGINE"].dispose()


def build(url: str, evidence_dir: str) -> World:
    """Migrate ``url`` (an empty database), add a district, an admin, a monitor and a unit."""
    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "stress", "EVIDENCE_DIR": evidence_dir})
    with app.extensions["SESSION_FACTORY"]() as s:
        province = jurisdictions.create_jurisdiction(s, actor=None, code="500000", name="重庆市",
                                                     level=JurisdictionLevel.province)
        city = jurisdictions.create_jurisdiction(s, actor=None, code="500100", name="市辖区",
                                                 level=JurisdictionLevel.city, parent_id=province.id)
        district = jurisdictions.create_jurisdiction(s, actor=None, code="500107", name="九龙坡区",
                                                     level=JurisdictionLevel.district, parent_id=city.id)
        admin = accounts.create_user(s, actor=None, username="admin", password=PASSWORD, display_name="a",
                                     role=Role.admin, jurisdiction_id=district.id)
        taxonomy.seed_categories(s)
        squad = squads.create_squad(s, admin, name="第一暗访小分队", code_prefix="JLP")
        member = squads.enlist(s, admin, squad, real_name="张三", phone="13800000000", password=PASSWORD)
        s.flush()
        unit = units.create_unit(s, admin, name="区政务服务中心", kind=UnitKind.department)
        monitor_token = accounts.issue_token(s, s.get(User, member.user_id), "phone", timedelta(days=1)).token
        admin_token = accounts.issue_token(s, admin, "pc", timedelta(days=1)).token
        s.commit()
        unit_id = unit.id
    return World(app, {"Authorization": f"Bearer {admin_token}"}, {"Authorization": f"Bearer {monitor_token}"},
                 unit_id)


def finding(unit_id, rid, **overrides) -> dict:
    body = {"id": str(rid), "device_time": "2026-05-12T10:40:00+08:00", "category": "absent_from_post",
            "severity": "moderate", "unit_id": str(unit_id), "occurred_at": "2026-05-12T09:50:00+08:00",
            "description": f"工作时间离岗 {rid}"}
    body.update(overrides)
    return body
