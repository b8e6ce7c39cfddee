"""A small committed world for harnesses that need real concurrent transactions.

``build`` makes a district with an admin, a squad with one monitor and a unit; ``add_phones``
adds phones of their own (monitors sending findings, inspectors of a bureau sending filings for
an enterprise), each with its own device token, for harnesses that play many phones at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from api import create_app
from field.accounts import users as accounts, jurisdictions
from field.directory import enterprises, squads, units
from field.filings import inspectors
from field.core import migrate
from field.visits import taxonomy
from field.directory.models import Enterprise, Squad, Unit, UnitKind
from field.core.models.platform import JurisdictionLevel, Role, User

PASSWORD = "correct horse battery"


@dataclass
class World:
    app: object
    admin_headers: dict
    monitor_headers: dict
    unit_id: uuid.UUID
    monitor_id: uuid.UUID | None = None  # the monitor's user id
    district_id: uuid.UUID | None = None
    squad_id: uuid.UUID | None = None

    def close(self) -> None:
        self.app.extensions["ENGINE"].dispose()

    def session(self):
        return self.app.extensions["SESSION_FACTORY"]()

    def device(self, user_id: uuid.UUID, name: str) -> dict:
        """A bearer-token header for another device of the same user (tus uploads are the user's)."""
        with self.session() as s:
            token = accounts.issue_token(s, s.get(User, user_id), name, timedelta(days=1)).token
            s.commit()
        return {"Authorization": f"Bearer {token}"}


@dataclass
class Phone:
    """One phone of a harness: who holds it, what it sends (``finding`` or ``filing``), its token."""

    name: str
    kind: str
    user_id: uuid.UUID
    headers: dict
    #: For a filing phone: the enterprise it files inspections of.
    enterprise_id: uuid.UUID | None = None


#: A well-formed unified social credit code (both check characters right) in Jiulongpo (500107).
ENTERPRISE_CREDIT_CODE = "91500107000000019C"
#: The inspecting department the world's inspectors work for.
BUREAU = "九龙坡区市场监督管理局"


def chongqing(session) -> tuple:
    """重庆市 › 市辖区 › 九龙坡区: the province, city and district every harness's world starts from."""
    province = jurisdictions.create_jurisdiction(session, actor=None, code="500000", name="重庆市",
                                                 level=JurisdictionLevel.province)
    city = jurisdictions.create_jurisdiction(session, actor=None, code="500100", name="市辖区",
                                             level=JurisdictionLevel.city, parent_id=province.id)
    district = jurisdictions.create_jurisdiction(session, actor=None, code="500107", name="九龙坡区",
                                                 level=JurisdictionLevel.district, parent_id=city.id)
    return province, city, district


def build(url: str, evidence_dir: str) -> World:
    """Migrate ``url`` (an empty database), add a district, an admin, a monitor and a unit."""
    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "stress", "EVIDENCE_DIR": evidence_dir})
    with app.extensions["SESSION_FACTORY"]() as s:
        province, city, district = chongqing(s)
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
        unit_id, monitor_id, district_id, squad_id = unit.id, member.user_id, district.id, squad.id
    return World(app, {"Authorization": f"Bearer {admin_token}"}, {"Authorization": f"Bearer {monitor_token}"},
                 unit_id, monitor_id, district_id, squad_id)


def add_phones(world: World, count: int) -> list[Phone]:
    """``count`` phones, alternately a monitor of the world's squad (findings on its unit) and an
    inspector of a market-supervision bureau (filings of one enterprise), each with a device token."""
    phones: list[Phone] = []
    with world.session() as s:
        admin = s.execute(select(User).where(User.username == "admin")).scalar_one()
        bureau = s.execute(select(Unit).where(Unit.name == BUREAU)).scalar_one_or_none()
        if bureau is None:
            bureau = units.create_unit(s, admin, name=BUREAU, kind=UnitKind.department)
            enterprises.create_enterprise(s, admin, name="重庆九龙精密机械有限公司", credit_code=ENTERPRISE_CREDIT_CODE)
        enterprise_id = s.execute(select(Enterprise.id).where(
            Enterprise.credit_code == ENTERPRISE_CREDIT_CODE)).scalar_one()
        squad = s.get(Squad, world.squad_id)
        for i in range(count):
            if i % 2 == 0:
                member = squads.enlist(s, admin, squad, real_name=f"监督员{i}", password=PASSWORD)
                s.flush()
                user = s.get(User, member.user_id)
                kind, target = "finding", None
            else:
                user = accounts.create_user(s, actor=admin, username=f"inspector-{uuid.uuid4().hex[:10]}",
                                            password=PASSWORD, display_name=f"执法人员{i}", role=Role.inspector,
                                            jurisdiction_id=world.district_id)
                inspectors.assign_unit(s, admin, user.id, bureau.id)
                kind, target = "filing", enterprise_id
            token = accounts.issue_token(s, user, f"phone {i}", timedelta(days=1)).token
            phones.append(Phone(f"phone-{i:03d}", kind, user.id, {"Authorization": f"Bearer {token}"}, target))
        s.commit()
    return phones


def finding(unit_id, rid, **overrides) -> dict:
    body = {"id": str(rid), "device_time": "2026-05-12T10:40:00+08:00", "category": "absent_from_post",
            "severity": "moderate", "unit_id": str(unit_id), "occurred_at": "2026-05-12T09:50:00+08:00",
            "description": f"工作时间离岗 {rid}"}
    body.update(overrides)
    return body


def filing(enterprise_id, rid, today: date, n: int = 0, **overrides) -> dict:
    """An inspection filing of one enterprise whose window lies 30 to 90 days after ``today``
    (the office's date): far enough for the 5-working-day notice of ad-hoc filings, and an annual
    plan's one-day window never straddles a year."""
    start = today + timedelta(days=30 + n % 60)
    body = {"id": str(rid), "device_time": "2026-05-12T10:40:00+08:00",
            "filing_kind": "ad_hoc" if n % 2 else "annual_plan", "enterprise_ids": [str(enterprise_id)],
            "purpose": f"核查食品经营许可及进货查验记录 {rid}", "legal_basis": "《中华人民共和国食品安全法》第一百一十条",
            "planned_start": start.isoformat(), "planned_end": start.isoformat()}
    body.update(overrides)
    return body
