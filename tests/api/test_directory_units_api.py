"""Units as a tree, and the persons who staff them, over HTTP."""

import pytest

from field.core.models.platform import Role
from field.directory.models import UnitKind
from tests.directory_fixtures import fast_passwords, make_unit  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_passwords")


def _unit(client, headers, **body):
    return client.post("/api/v1/units", headers=headers, json=body)


def test_a_section_is_added_below_its_department_and_takes_its_jurisdiction(client, admin_headers, tree):
    bureau = _unit(client, admin_headers, name="区市场监督管理局", kind="department",
                   jurisdiction_id=str(tree["home_street"].id),
                   location={"type": "Point", "coordinates": [106.51, 29.50], "accuracy_m": 20}).get_json()
    section = _unit(client, admin_headers, name="登记注册科", kind="section", parent_id=bureau["id"])
    assert section.status_code == 201, section.get_json()
    assert section.get_json()["parent_id"] == bureau["id"]
    assert section.get_json()["jurisdiction_id"] == str(tree["home_street"].id)
    below = client.get("/api/v1/units", headers=admin_headers, query_string={"parent_id": bureau["id"]}).get_json()
    assert [u["name"] for u in below["items"]] == ["登记注册科"]
    tops = client.get("/api/v1/units", headers=admin_headers, query_string={"top_level": "true"}).get_json()
    assert [u["name"] for u in tops["items"]] == ["区市场监督管理局"]


def test_the_tree_refuses_what_cannot_be(client, admin_headers, make_unit):
    bureau = make_unit("区住建委")
    window = make_unit("办事窗口", UnitKind.window, parent_id=bureau.id)
    cases = [
        ({"name": "x", "kind": "section"}, "parent_id"),  # a section belongs somewhere
        ({"name": "x", "kind": "section", "parent_id": str(window.id)}, "parent_id"),  # nothing below a window
        ({"name": "x", "kind": "public_service", "parent_id": str(bureau.id)}, "parent_id"),
    ]
    for body, field in cases:
        resp = _unit(client, admin_headers, **body)
        assert resp.status_code == 422, body
        assert resp.get_json()["errors"][0]["field"] == field


def test_a_unit_cannot_be_moved_below_its_own_section(client, admin_headers, make_unit):
    bureau = make_unit("区发改委")
    section = make_unit("综合科", UnitKind.section, parent_id=bureau.id)
    resp = client.patch(f"/api/v1/units/{bureau.id}", headers=admin_headers, json={"parent_id": str(section.id)})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "parent_id"


def test_sibling_units_cannot_share_a_name_but_cousins_can(client, admin_headers, make_unit):
    one, two = make_unit("甲局"), make_unit("乙局")
    make_unit("办公室", UnitKind.section, parent_id=one.id)
    assert _unit(client, admin_headers, name="办公室", kind="section", parent_id=str(two.id)).status_code == 201
    taken = _unit(client, admin_headers, name="办公室", kind="section", parent_id=str(one.id))
    assert taken.status_code == 409 and taken.get_json()["errors"][0]["field"] == "name"


def test_a_unit_with_sections_or_staff_cannot_be_deleted_and_a_bare_one_can(client, admin_headers, make_unit):
    bureau = make_unit("区税务局")
    section = make_unit("征管科", UnitKind.section, parent_id=bureau.id)
    client.post("/api/v1/persons", headers=admin_headers, json={"unit_id": str(section.id), "name": "王五"})
    assert client.delete(f"/api/v1/units/{bureau.id}", headers=admin_headers).status_code == 409
    assert client.delete(f"/api/v1/units/{section.id}", headers=admin_headers).status_code == 409
    lone = make_unit("临时机构")
    assert client.delete(f"/api/v1/units/{lone.id}", headers=admin_headers).status_code == 204
    assert client.get(f"/api/v1/units/{lone.id}", headers=admin_headers).status_code == 404


def test_moving_a_department_to_another_jurisdiction_moves_its_sections_and_staff(
        client, admin_headers, make_unit, tree):
    bureau = make_unit("区人社局")
    section = make_unit("就业科", UnitKind.section, parent_id=bureau.id)
    person = client.post("/api/v1/persons", headers=admin_headers,
                         json={"unit_id": str(section.id), "name": "李四", "post": "科长", "rank": "section"}).get_json()
    moved = client.patch(f"/api/v1/units/{bureau.id}", headers=admin_headers,
                         json={"jurisdiction_id": str(tree["home_street"].id)})
    assert moved.status_code == 200
    street = str(tree["home_street"].id)
    assert client.get(f"/api/v1/units/{section.id}", headers=admin_headers).get_json()["jurisdiction_id"] == street
    assert client.get(f"/api/v1/persons/{person['id']}", headers=admin_headers).get_json()["jurisdiction_id"] == street


def test_a_section_cannot_be_given_a_jurisdiction_other_than_its_departments(client, admin_headers, make_unit, tree):
    bureau = make_unit("区卫健委")
    resp = _unit(client, admin_headers, name="医政科", kind="section", parent_id=str(bureau.id),
                 jurisdiction_id=str(tree["home_street"].id))
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "jurisdiction_id"


def test_everyone_reads_units_of_their_scope_only_admins_write(client, make_user, login, make_unit, tree):
    make_unit("本区单位")
    make_unit("外区单位", jurisdiction_id=tree["other"].id, actor=make_user(Role.admin, tree["other"]))
    for role in (Role.inspector, Role.liaison, Role.squad_member):
        headers = login(make_user(role))
        assert [u["name"] for u in client.get("/api/v1/units", headers=headers).get_json()["items"]] == ["本区单位"]
        assert _unit(client, headers, name="x", kind="department").status_code == 403


def test_a_person_is_staff_of_a_unit_with_post_and_rank(client, admin_headers, make_unit):
    unit = make_unit("区城管局")
    resp = client.post("/api/v1/persons", headers=admin_headers,
                       json={"unit_id": str(unit.id), "name": "王建国", "post": "副局长", "rank": "division"})
    assert resp.status_code == 201
    person = resp.get_json()
    assert person["unit"] == {"id": str(unit.id), "name": "区城管局", "kind": "department"}
    assert person["rank"] == "division"
    listing = client.get("/api/v1/persons", headers=admin_headers, query_string={"rank": "division"}).get_json()
    assert [p["name"] for p in listing["items"]] == ["王建国"]
    assert client.get("/api/v1/persons", headers=admin_headers, query_string={"q": "副局"}).get_json()["items"]
    bad = client.post("/api/v1/persons", headers=admin_headers,
                      json={"unit_id": str(unit.id), "name": "x", "rank": "厅级"})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "rank"


def test_a_person_cannot_join_a_unit_of_another_district(client, admin_headers, make_user, make_unit, tree):
    foreign = make_unit("外区单位", jurisdiction_id=tree["other"].id, actor=make_user(Role.admin, tree["other"]))
    resp = client.post("/api/v1/persons", headers=admin_headers, json={"unit_id": str(foreign.id), "name": "x"})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "unit_id"


def test_a_deleted_person_answers_404(client, admin_headers, make_unit):
    unit = make_unit()
    person = client.post("/api/v1/persons", headers=admin_headers, json={"unit_id": str(unit.id), "name": "x"})
    url = f"/api/v1/persons/{person.get_json()['id']}"
    assert client.delete(url, headers=admin_headers).status_code == 204
    assert client.get(url, headers=admin_headers).status_code == 404
    assert client.get("/api/v1/persons", headers=admin_headers).get_json()["items"] == []
