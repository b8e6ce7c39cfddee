"""Phones sync the directory: what changed since their cursor, in their scope, with tombstones."""

import pytest
from sqlalchemy import event

from field.directory import enterprises, monitoring, squads, units
from field.core.models.platform import Role
from tests.conftest import PASSWORD
from tests.directory_fixtures import fast_passwords, credit_code, enlist, make_enterprise, make_point, make_squad, make_unit  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture
def pull(client):
    """One sync request; returns (changes as {(entity, id): op}, the whole answer)."""
    def do(headers, cursor=None, **query):
        resp = client.get("/api/v1/sync", headers=headers,
                          query_string={**({"cursor": cursor} if cursor else {}), **query})
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        return {(c["entity"], c["id"]): c["op"] for c in body["changes"]}, body
    return do


@pytest.fixture
def inspector(make_user, login):
    user = make_user(Role.inspector)
    return user, login(user)


def test_a_first_sync_brings_the_directory_of_the_scope_and_a_second_brings_nothing(
        pull, inspector, make_unit, make_enterprise, make_user, tree):
    unit = make_unit("区市场监管局")
    enterprise = make_enterprise("九龙企业", at=(106.5, 29.5))
    make_enterprise("渝中企业", jurisdiction_id=tree["other"].id, actor=make_user(Role.admin, tree["other"]))
    _, headers = inspector
    changes, body = pull(headers)
    assert changes == {("unit", str(unit.id)): "upsert", ("enterprise", str(enterprise.id)): "upsert"}
    data = {c["id"]: c["data"] for c in body["changes"]}
    assert data[str(enterprise.id)]["name"] == "九龙企业"
    assert data[str(enterprise.id)]["location"]["coordinates"] == [106.5, 29.5]
    assert body["has_more"] is False and body["reset"] is False
    again, second = pull(headers, body["cursor"])
    assert again == {} and second["cursor"] == body["cursor"]


def test_an_unchanged_directory_costs_one_query_beyond_the_token_check(app, client, pull, inspector, make_unit,
                                                                       engine):
    make_unit()
    _, headers = inspector
    _, body = pull(headers)
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    connection = app.extensions["SESSION_FACTORY"].kw["bind"]
    event.listen(connection, "before_cursor_execute", count)
    try:
        changes, _ = pull(headers, body["cursor"])
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert changes == {}
    ours = [s for s in statements if "device_tokens" not in s and not s.lstrip().upper().startswith(
        ("SAVEPOINT", "RELEASE", "ROLLBACK"))]
    assert len(ours) == 1 and "change_log" in ours[0], ours


def test_an_unchanged_directory_is_read_in_one_transaction_with_nothing_committed(app, pull, inspector, make_unit):
    make_unit()
    _, headers = inspector
    _, body = pull(headers)  # the token's last-used touch is written by this first request
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement.lstrip().upper().split(" ", 1)[0])

    connection = app.extensions["SESSION_FACTORY"].kw["bind"]
    event.listen(connection, "before_cursor_execute", count)
    try:
        changes, _ = pull(headers, body["cursor"])
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert changes == {}
    # Under the test's outer transaction a session's transaction is a savepoint: one begun, none released.
    assert statements.count("SAVEPOINT") == 1 and "RELEASE" not in statements, statements


def test_edits_come_as_upserts_and_deletions_as_tombstones(pull, inspector, admin, session, make_unit, make_enterprise):
    unit, enterprise = make_unit(), make_enterprise()
    _, headers = inspector
    _, body = pull(headers)
    enterprises.update_enterprise(session, admin, enterprise, {"name": "改名企业"})
    units.delete_unit(session, admin, unit)
    session.commit()
    changes, answer = pull(headers, body["cursor"])
    assert changes == {("enterprise", str(enterprise.id)): "upsert", ("unit", str(unit.id)): "delete"}
    assert [c["data"] for c in answer["changes"] if c["op"] == "delete"] == [None]
    assert [c["data"]["name"] for c in answer["changes"] if c["op"] == "upsert"] == ["改名企业"]


def test_an_enterprise_moved_out_of_the_scope_becomes_a_tombstone_there(pull, make_user, login, admin, session,
                                                                       make_enterprise, tree):
    street_user = make_user(Role.inspector, jurisdiction=tree["home_street"])
    headers = login(street_user)
    enterprise = make_enterprise(jurisdiction_id=tree["home_street"].id)
    changes, body = pull(headers)
    assert changes == {("enterprise", str(enterprise.id)): "upsert"}
    enterprises.update_enterprise(session, admin, enterprise, {"jurisdiction_id": tree["home"].id})
    session.commit()
    changes, _ = pull(headers, body["cursor"])
    assert changes == {("enterprise", str(enterprise.id)): "delete"}


def test_many_changes_come_in_pages_with_has_more(pull, inspector, make_unit):
    made = {str(make_unit().id) for _ in range(5)}
    _, headers = inspector
    seen, cursor, pages = set(), None, 0
    while True:
        changes, body = pull(headers, cursor, limit=2)
        seen |= {i for (_, i) in changes}
        cursor, pages = body["cursor"], pages + 1
        if not body["has_more"]:
            break
    assert seen == made and pages == 3


def test_a_cursor_from_another_scope_restarts_the_feed_with_reset(pull, inspector, make_user, login, make_unit):
    unit = make_unit()
    _, headers = inspector
    _, body = pull(headers)
    other = login(make_user(Role.reviewer))
    changes, answer = pull(other, body["cursor"])
    assert answer["reset"] is True and changes == {("unit", str(unit.id)): "upsert"}


def test_a_forged_cursor_is_a_422_naming_the_cursor(client, inspector):
    resp = client.get("/api/v1/sync", headers=inspector[1], query_string={"cursor": "not-ours"})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "cursor"


def test_locations_in_the_feed_follow_the_requested_crs(pull, inspector, make_enterprise):
    make_enterprise(at=(116.481499, 39.990475))
    _, body = pull(inspector[1], crs="gcj02")
    location = body["changes"][0]["data"]["location"]
    assert location["crs"] == "gcj02" and location["coordinates"][0] == pytest.approx(116.487585, abs=1e-5)


def test_a_liaison_syncs_their_own_points_and_loses_one_they_are_taken_off(
        pull, make_user, login, admin, session, make_point):
    liaison, other_liaison = make_user(Role.liaison), make_user(Role.liaison)
    headers = login(liaison)
    covert = make_point(covert=True, liaisons=[liaison])
    make_point(liaisons=[other_liaison])
    changes, body = pull(headers)
    points = {k: v for k, v in changes.items() if k[0] == "monitoring_point"}
    assert points == {("monitoring_point", str(covert.id)): "upsert"}
    enterprise = [c["data"] for c in body["changes"] if c["id"] == str(covert.enterprise_id)][0]
    assert enterprise["monitoring_point"] == {"id": str(covert.id), "covert": True}
    monitoring.update_point(session, admin, covert, {"liaison_ids": [other_liaison.id]})
    session.commit()
    changes, _ = pull(headers, body["cursor"])
    assert changes[("monitoring_point", str(covert.id))] == "delete"
    assert changes[("enterprise", str(covert.enterprise_id))] == "upsert"


def test_a_liaison_added_to_a_covert_point_receives_it(pull, make_user, login, admin, session, make_point):
    liaison = make_user(Role.liaison)
    headers = login(liaison)
    covert = make_point(covert=True)
    _, body = pull(headers)
    monitoring.update_point(session, admin, covert, {"liaison_ids": [liaison.id]})
    session.commit()
    changes, _ = pull(headers, body["cursor"])
    assert changes[("monitoring_point", str(covert.id))] == "upsert"


def test_a_monitor_syncs_their_squad_and_gets_a_tombstone_when_taken_off(
        client, pull, admin, session, make_squad, enlist, make_user, login):
    squad, elsewhere = make_squad(prefix="JLP"), make_squad(prefix="JLQ")
    member = enlist(squad)
    enlist(elsewhere)
    headers = {"Authorization": "Bearer " + client.post("/api/v1/auth/login", json={
        "username": member.code.lower(), "password": PASSWORD, "device_name": "p"}).get_json()["token"]}
    changes, body = pull(headers)
    assert {k: v for k, v in changes.items() if k[0] == "squad"} == {("squad", str(squad.id)): "upsert"}
    codes = [m["code"] for c in body["changes"] if c["entity"] == "squad" for m in c["data"]["members"]]
    assert codes == ["JLP-A01"]
    inspector_changes, _ = pull(login(make_user(Role.inspector)))
    assert not [k for k in inspector_changes if k[0] == "squad"]
    squads.discharge(session, admin, member)
    session.commit()
    changes, _ = pull(headers, body["cursor"])
    assert changes == {("squad", str(squad.id)): "delete"}
