"""Factories of the directory for tests: valid credit codes, units, enterprises, points, squads, people in roles."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from field.directory import enterprises, monitoring, squads, units
from field.core.credit_code import _check_character, _organization_check_character
from field.core.locations import GivenLocation
from field.core.models.platform import Role
from field.directory.models import UnitKind

_serial = itertools.count(1)


def credit_code(n: int | None = None, division: str = "500107") -> str:
    """A well-formed unified social credit code (both check characters right) for number ``n``."""
    body = f"{next(_serial) if n is None else n:08d}"
    first17 = "91" + division + body + _organization_check_character(body)
    return first17 + _check_character(first17)


@pytest.fixture
def make_enterprise(session, admin):
    def make(name="重庆测试企业有限公司", *, at=None, actor=None, **kw):
        location = GivenLocation(*at) if at else None
        e = enterprises.create_enterprise(session, actor or admin, name=name,
                                          credit_code=kw.pop("credit_code", None) or credit_code(),
                                          location=location, **kw)
        session.commit()
        return e
    return make


@pytest.fixture
def make_unit(session, admin):
    def make(name=None, kind=UnitKind.department, *, at=None, actor=None, **kw):
        u = units.create_unit(session, actor or admin, name=name or f"单位{next(_serial)}", kind=kind,
                              location=GivenLocation(*at) if at else None, **kw)
        session.commit()
        return u
    return make


@pytest.fixture
def make_point(session, admin, make_enterprise):
    def make(enterprise=None, *, covert=False, liaisons=(), leader=None, actor=None, **kw):
        enterprise = enterprise or make_enterprise()
        p = monitoring.create_point(
            session, actor or admin, enterprise_id=enterprise.id, covert=covert,
            liaison_ids=[u.id for u in liaisons], leader_id=leader.id if leader else None,
            visit_frequency="monthly" if leader else None, active_from=kw.pop("active_from", date(2025, 1, 1)), **kw)
        session.commit()
        return p
    return make


@pytest.fixture
def make_squad(session, admin):
    def make(name="第一暗访小分队", prefix=None, *, actor=None, **kw):
        s = squads.create_squad(session, actor or admin, name=name,
                                code_prefix=prefix or "T" + "".join(chr(65 + int(d)) for d in f"{next(_serial):03d}"),
                                **kw)
        session.commit()
        return s
    return make


@pytest.fixture
def enlist(session, admin):
    def make(squad, real_name="张卫东", phone="13800000000", *, actor=None):
        m = squads.enlist(session, actor or admin, squad, real_name=real_name, phone=phone,
                          password="correct horse battery")
        session.commit()
        return m
    return make


@pytest.fixture
def roles(make_user):
    """One user per role in the home district."""
    return {role: make_user(role) for role in Role}


@pytest.fixture
def fast_passwords(monkeypatch):
    """Cheap argon2 for tests that make many accounts: the hashing cost is not what they test."""
    from argon2 import PasswordHasher

    from field.accounts import users as accounts

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
