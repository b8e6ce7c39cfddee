"""Squads over HTTP: members are codes everywhere; only an admin unmasks one, with a reason, and it is logged."""

import pytest
from sqlalchemy import select

from field.core.models.platform import Role
from field.directory.models import IdentityDisclosure
from tests.conftest import PASSWORD
from tests.directory_fixtures import fast_passwords, enlist, make_squad  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_passwords")

REAL_NAME, PHONE = "张卫东", "13912345678"


def _monitor(client, username="jlp-a01"):
    token = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD,
                                                    "device_name": "monitor's phone"}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def _squad(client, headers, **body):
    return client.post("/api/v1/squads", headers=headers,
                       json={"name": "九龙坡区第一暗访小分队", "code_prefix": "JLP", **body})


def _enlist(client, headers, squad_id, **body):
    return client.post(f"/api/v1/squads/{squad_id}/members", headers=headers,
                       json={"real_name": REAL_NAME, "phone": PHONE, "password": PASSWORD, **body})


def test_monitors_get_sequential_codes_and_accounts_that_show_nothing_but_the_code(client, admin_headers):
    squad = _squad(client, admin_headers, code_prefix="jlp").get_json()
    assert squad["code_prefix"] == "JLP"
    first = _enlist(client, admin_headers, squad["id"])
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["code"] == "JLP-A01"
    assert "real_name" not in first.get_json() and "phone" not in first.get_json()
    second = _enlist(client, admin_headers, squad["id"], real_name="李红", phone=None).get_json()
    assert second["code"] == "JLP-A02"
    account = client.get(f"/api/v1/users/{second['user_id']}", headers=admin_headers).get_json()
    assert account["display_name"] == "JLP-A02" and account["username"] == "jlp-a02"
    assert account["role"] == "squad_member"
    monitor = client.post("/api/v1/auth/login", json={"username": "jlp-a01", "password": PASSWORD,
                                                      "device_name": "phone"}).get_json()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {monitor['token']}"}).get_json()
    assert me["display_name"] == "JLP-A01"


def test_the_real_name_appears_in_no_answer_but_the_unmask(client, admin_headers, app, make_user, login):
    # Every GET of the API, as the office and as the monitor: the real name and phone are nowhere.
    squad = _squad(client, admin_headers).get_json()
    member = _enlist(client, admin_headers, squad["id"]).get_json()
    monitor_headers = _monitor(client)
    for headers in (admin_headers, login(make_user(Role.reviewer)), monitor_headers):
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or not rule.rule.startswith("/api/"):
                continue
            url = rule.rule.replace("<uuid:squad_id>", squad["id"]).replace("<uuid:user_id>", member["user_id"])
            if "<" in url:
                continue
            body = client.get(url, headers=headers).get_data(as_text=True)
            assert REAL_NAME not in body and PHONE not in body, url


def test_an_admin_unmasks_a_member_with_a_reason_and_the_disclosure_is_logged(client, admin, admin_headers, session):
    squad = _squad(client, admin_headers).get_json()
    member = _enlist(client, admin_headers, squad["id"]).get_json()
    url = f"/api/v1/squads/{squad['id']}/members/{member['user_id']}/unmask"
    resp = client.post(url, headers=admin_headers, json={"reason": "核实暗访线索来源"})
    assert resp.status_code == 200
    identity = resp.get_json()
    assert identity["real_name"] == REAL_NAME and identity["phone"] == PHONE and identity["code"] == "JLP-A01"
    assert resp.headers["Cache-Control"] == "no-store"
    logged = session.execute(select(IdentityDisclosure)).scalars().all()
    assert len(logged) == 1
    entry = logged[0]
    assert (str(entry.actor_id), str(entry.subject_id), entry.reason) == (str(admin.id), member["user_id"], "核实暗访线索来源")
    assert entry.device_id is not None and str(entry.id) == identity["disclosure_id"]
    listed = client.get(f"/api/v1/squads/{squad['id']}/disclosures", headers=admin_headers).get_json()["items"]
    assert [d["id"] for d in listed] == [identity["disclosure_id"]]


def test_nobody_but_an_admin_unmasks_and_a_refusal_logs_nothing(client, admin_headers, make_user, login, session):
    squad = _squad(client, admin_headers).get_json()
    member = _enlist(client, admin_headers, squad["id"]).get_json()
    url = f"/api/v1/squads/{squad['id']}/members/{member['user_id']}/unmask"
    reviewer = client.post(url, headers=login(make_user(Role.reviewer)), json={"reason": "想知道"})
    assert reviewer.status_code == 403
    monitor = client.post(url, headers=_monitor(client), json={"reason": "想知道"})
    assert monitor.status_code == 403
    inspector = client.post(url, headers=login(make_user(Role.inspector)), json={"reason": "想知道"})
    assert inspector.status_code == 403
    no_reason = client.post(url, headers=admin_headers, json={})
    assert no_reason.status_code == 422 and no_reason.get_json()["errors"][0]["field"] == "reason"
    blank = client.post(url, headers=admin_headers, json={"reason": "   "})
    assert blank.status_code == 422
    replayable = client.post(url, headers={**admin_headers, "Idempotency-Key": "k1"}, json={"reason": "核实"})
    assert replayable.status_code == 422 and replayable.get_json()["errors"][0]["field"] == "Idempotency-Key"
    assert REAL_NAME not in replayable.get_data(as_text=True)
    assert session.execute(select(IdentityDisclosure)).scalars().all() == []
    assert client.get(f"/api/v1/squads/{squad['id']}/disclosures",
                      headers=login(make_user(Role.reviewer))).status_code == 403


def test_an_admin_of_another_district_cannot_unmask(client, admin_headers, make_user, login, tree):
    squad = _squad(client, admin_headers).get_json()
    member = _enlist(client, admin_headers, squad["id"]).get_json()
    other = login(make_user(Role.admin, jurisdiction=tree["other"]))
    resp = client.post(f"/api/v1/squads/{squad['id']}/members/{member['user_id']}/unmask", headers=other,
                       json={"reason": "核实"})
    assert resp.status_code == 404


def test_codes_are_never_handed_out_again(client, admin_headers):
    squad = _squad(client, admin_headers).get_json()
    first = _enlist(client, admin_headers, squad["id"]).get_json()
    assert client.delete(f"/api/v1/squads/{squad['id']}/members/{first['user_id']}",
                         headers=admin_headers).status_code == 204
    assert _enlist(client, admin_headers, squad["id"]).get_json()["code"] == "JLP-A02"
    everyone = client.get(f"/api/v1/squads/{squad['id']}/members", headers=admin_headers,
                          query_string={"include_former": "true"}).get_json()
    assert [(m["code"], m["left_at"] is None) for m in everyone] == [("JLP-A01", False), ("JLP-A02", True)]
    assert [m["code"] for m in client.get(f"/api/v1/squads/{squad['id']}", headers=admin_headers)
            .get_json()["members"]] == ["JLP-A02"]


def test_a_taken_prefix_is_a_409(client, admin_headers):
    _squad(client, admin_headers)
    again = _squad(client, admin_headers, name="第二小分队")
    assert again.status_code == 409 and again.get_json()["errors"][0]["field"] == "code_prefix"


def test_an_existing_squad_member_account_joins_under_a_code_and_loses_its_name(client, admin_headers, make_user):
    account = make_user(Role.squad_member, display_name="王老师")
    squad = _squad(client, admin_headers).get_json()
    resp = _enlist(client, admin_headers, squad["id"], password=None, user_id=str(account.id))
    assert resp.status_code == 201
    shown = client.get(f"/api/v1/users/{account.id}", headers=admin_headers).get_json()
    assert shown["display_name"] == "JLP-A01"
    other_squad = _squad(client, admin_headers, code_prefix="JLQ").get_json()
    twice = _enlist(client, admin_headers, other_squad["id"], password=None, user_id=str(account.id))
    assert twice.status_code == 409
    inspector = make_user(Role.inspector)
    wrong_role = _enlist(client, admin_headers, squad["id"], password=None, user_id=str(inspector.id))
    assert wrong_role.status_code == 422 and wrong_role.get_json()["errors"][0]["field"] == "user_id"
    neither = _enlist(client, admin_headers, squad["id"], password=None)
    assert neither.status_code == 422


def test_a_monitor_sees_only_their_own_squad_and_other_roles_none(client, admin_headers, make_user, login):
    mine = _squad(client, admin_headers).get_json()
    theirs = _squad(client, admin_headers, name="第二小分队", code_prefix="JLQ").get_json()
    _enlist(client, admin_headers, mine["id"])
    monitor = _monitor(client)
    assert [s["id"] for s in client.get("/api/v1/squads", headers=monitor).get_json()["items"]] == [mine["id"]]
    assert client.get(f"/api/v1/squads/{theirs['id']}", headers=monitor).status_code == 404
    assert client.get(f"/api/v1/squads/{mine['id']}", headers=monitor).get_json()["members"][0]["code"] == "JLP-A01"
    for role in (Role.inspector, Role.liaison, Role.leader):
        headers = login(make_user(role))
        assert client.get("/api/v1/squads", headers=headers).get_json()["items"] == []
        assert client.get(f"/api/v1/squads/{mine['id']}", headers=headers).status_code == 404
    reviewer = login(make_user(Role.reviewer))
    assert len(client.get("/api/v1/squads", headers=reviewer).get_json()["items"]) == 2


def test_correcting_an_identity_shows_in_the_next_unmask(client, admin_headers):
    squad = _squad(client, admin_headers).get_json()
    member = _enlist(client, admin_headers, squad["id"]).get_json()
    base = f"/api/v1/squads/{squad['id']}/members/{member['user_id']}"
    assert client.patch(base, headers=admin_headers, json={"phone": "13700000000"}).status_code == 200
    identity = client.post(base + "/unmask", headers=admin_headers, json={"reason": "核实"}).get_json()
    assert (identity["real_name"], identity["phone"]) == (REAL_NAME, "13700000000")


def test_a_squad_with_members_cannot_be_disbanded(client, admin_headers):
    squad = _squad(client, admin_headers).get_json()
    member = _enlist(client, admin_headers, squad["id"]).get_json()
    assert client.delete(f"/api/v1/squads/{squad['id']}", headers=admin_headers).status_code == 409
    client.delete(f"/api/v1/squads/{squad['id']}/members/{member['user_id']}", headers=admin_headers)
    assert client.delete(f"/api/v1/squads/{squad['id']}", headers=admin_headers).status_code == 204
