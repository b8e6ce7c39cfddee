"""Enterprises over HTTP: credit codes, coordinates in three CRSs, flags, search, GeoJSON and the CSV export."""

import csv
import io

import pytest

from field.core.crs import distance_m
from field.core.models.platform import Role
from tests.directory_fixtures import fast_passwords, credit_code, make_enterprise, make_point  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_passwords")

# AMap's own documentation example (lbs.amap.com coordinate/convert, coordsys=gps): this
# WGS-84 point is this GCJ-02 point (the pair tests/unit/test_crs.py also checks).
AMAP_WGS = (116.481499, 39.990475)
AMAP_GCJ = (116.487585177952, 39.991754014757)


def _create(client, headers, **body):
    body.setdefault("name", "重庆九龙精密机械有限公司")
    body.setdefault("credit_code", credit_code())
    return client.post("/api/v1/enterprises", headers=headers, json=body)


def test_a_gcj02_point_from_a_chinese_map_is_stored_as_the_right_wgs84_and_comes_back_as_the_same_gcj02(
        client, admin_headers):
    resp = _create(client, admin_headers, location={"type": "Point", "coordinates": list(AMAP_GCJ), "crs": "gcj02",
                                                    "accuracy_m": 12.5})
    assert resp.status_code == 201, resp.get_json()
    stored = resp.get_json()["location"]
    assert stored["crs"] == "wgs84" and stored["accuracy_m"] == 12.5
    assert distance_m(*stored["coordinates"], *AMAP_WGS) < 1.0
    url = f"/api/v1/enterprises/{resp.get_json()['id']}"
    for_amap = client.get(url, headers=admin_headers, query_string={"crs": "gcj02"}).get_json()["location"]
    assert for_amap["crs"] == "gcj02"
    assert distance_m(*for_amap["coordinates"], *AMAP_GCJ) < 0.05


def test_a_bd09_point_from_baidu_is_stored_as_wgs84(client, admin_headers):
    # The same place in Baidu's system: BD-09 of the AMap pair (through our converter, checked in test_crs).
    from field.core.crs import from_wgs84

    bd = from_wgs84(*AMAP_WGS, "bd09")
    resp = _create(client, admin_headers, location={"type": "Point", "coordinates": list(bd), "crs": "bd09"})
    assert distance_m(*resp.get_json()["location"]["coordinates"], *AMAP_WGS) < 1.0


def test_a_location_without_crs_is_wgs84_and_an_unknown_crs_is_refused_naming_the_field(client, admin_headers):
    plain = _create(client, admin_headers, location={"type": "Point", "coordinates": list(AMAP_WGS)})
    assert plain.get_json()["location"]["coordinates"] == list(AMAP_WGS)
    bad = _create(client, admin_headers, location={"type": "Point", "coordinates": [106.5, 29.5], "crs": "bd09mc"})
    assert bad.status_code == 422
    assert bad.get_json()["errors"][0]["field"] == "location.crs"


def test_a_swapped_latitude_is_refused_naming_the_coordinates(client, admin_headers):
    resp = _create(client, admin_headers, location={"type": "Point", "coordinates": [29.5, 106.5]})
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == "location.coordinates"
    assert "swapped" in resp.get_json()["errors"][0]["message"]


def test_a_credit_code_with_a_wrong_check_digit_is_refused_naming_the_field_and_the_expected_digit(
        client, admin_headers):
    good = credit_code()
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    resp = _create(client, admin_headers, credit_code=wrong)
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["errors"][0]["field"] == "credit_code"
    assert body["position"] == 18 and body["expected"] == good[-1]
    assert client.get("/api/v1/enterprises", headers=admin_headers).get_json()["items"] == []


def test_a_full_width_lower_case_code_is_normalised_and_a_second_enterprise_with_it_is_a_409(client, admin_headers):
    code = credit_code()
    typed = "".join(chr(ord(c) + 0xFEE0) for c in code.lower())
    first = _create(client, admin_headers, credit_code=typed)
    assert first.status_code == 201 and first.get_json()["credit_code"] == code
    second = _create(client, admin_headers, credit_code=code, name="另一家")
    assert second.status_code == 409
    assert second.get_json()["errors"][0]["field"] == "credit_code"


def test_a_deleted_enterprise_is_gone_from_lists_and_ids_and_frees_its_code(client, admin_headers):
    code = credit_code()
    made = _create(client, admin_headers, credit_code=code).get_json()
    assert client.delete(f"/api/v1/enterprises/{made['id']}", headers=admin_headers).status_code == 204
    assert client.get(f"/api/v1/enterprises/{made['id']}", headers=admin_headers).status_code == 404
    assert client.get("/api/v1/enterprises", headers=admin_headers).get_json()["items"] == []
    assert _create(client, admin_headers, credit_code=code).status_code == 201


def test_an_enterprise_that_is_a_monitoring_point_cannot_be_deleted(client, admin_headers, make_point):
    point = make_point()
    resp = client.delete(f"/api/v1/enterprises/{point.enterprise_id}", headers=admin_headers)
    assert resp.status_code == 409


def test_everyone_in_scope_reads_enterprises_but_only_admins_write(client, make_user, login, make_enterprise, tree):
    mine = make_enterprise("九龙坡企业")
    make_enterprise("渝中企业", jurisdiction_id=tree["other"].id, actor=make_user(Role.admin, tree["other"]))
    for role in (Role.inspector, Role.liaison, Role.leader, Role.squad_member, Role.reviewer):
        headers = login(make_user(role))
        names = [e["name"] for e in client.get("/api/v1/enterprises", headers=headers).get_json()["items"]]
        assert names == ["九龙坡企业"], role
        assert client.patch(f"/api/v1/enterprises/{mine.id}", headers=headers, json={"name": "x"}).status_code == 403


def test_an_admin_cannot_put_an_enterprise_in_another_district(client, admin_headers, tree):
    resp = _create(client, admin_headers, jurisdiction_id=str(tree["other"].id))
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == "jurisdiction_id"


def test_search_and_flags_filter_the_list(client, admin_headers, make_enterprise):
    make_enterprise("长安汽车配件厂", above_designated_size=True, address="九龙坡区西彭镇")
    make_enterprise("山城火锅店", key_project=True)
    code = make_enterprise("巴渝机电").credit_code

    def names(**query):
        items = client.get("/api/v1/enterprises", headers=admin_headers, query_string=query).get_json()["items"]
        return sorted(e["name"] for e in items)

    assert names(q="火锅") == ["山城火锅店"]
    assert names(q="西彭") == ["长安汽车配件厂"]
    assert names(q=code.lower()) == ["巴渝机电"]
    assert names(above_designated_size="true") == ["长安汽车配件厂"]
    assert names(key_project="true", above_designated_size="false") == ["山城火锅店"]
    assert names(q="100%") == []


def test_patch_changes_only_what_it_names_and_null_clears_a_location(client, admin_headers):
    made = _create(client, admin_headers, location={"type": "Point", "coordinates": [106.5, 29.5]},
                   contact_name="陈经理").get_json()
    url = f"/api/v1/enterprises/{made['id']}"
    changed = client.patch(url, headers=admin_headers, json={"key_enterprise": True, "location": None}).get_json()
    assert changed["key_enterprise"] is True and changed["location"] is None
    assert changed["contact_name"] == "陈经理" and changed["name"] == made["name"]


def test_the_list_is_a_geojson_feature_collection_on_request(client, admin_headers, make_enterprise):
    make_enterprise("有位置", at=(106.5, 29.5))
    make_enterprise("没有位置")
    for kwargs in ({"query_string": {"format": "geojson"}}, {"headers": {"Accept": "application/geo+json"}}):
        headers = {**admin_headers, **kwargs.pop("headers", {})}
        resp = client.get("/api/v1/enterprises", headers=headers, **kwargs)
        assert resp.status_code == 200 and resp.mimetype == "application/geo+json"
        doc = resp.get_json()
        assert doc["type"] == "FeatureCollection" and doc["next_cursor"] is None
        by_name = {f["properties"]["name"]: f for f in doc["features"]}
        assert by_name["有位置"]["geometry"] == {"type": "Point", "coordinates": [106.5, 29.5]}
        assert by_name["有位置"]["properties"]["location_crs"] == "wgs84"
        assert by_name["没有位置"]["geometry"] is None
    plain = client.get("/api/v1/enterprises", headers=admin_headers)
    assert plain.mimetype == "application/json" and "items" in plain.get_json()


def test_the_geojson_list_draws_on_amap_in_gcj02(client, admin_headers, make_enterprise):
    make_enterprise("有位置", at=AMAP_WGS)
    doc = client.get("/api/v1/enterprises", headers=admin_headers,
                     query_string={"format": "geojson", "crs": "gcj02"}).get_json()
    feature = doc["features"][0]
    assert feature["properties"]["location_crs"] == "gcj02"
    assert distance_m(*feature["geometry"]["coordinates"], *AMAP_GCJ) < 0.05


def test_the_csv_export_uses_the_import_header_and_round_trips_the_values(client, admin_headers, make_enterprise):
    made = make_enterprise("出口企业", at=(106.5, 29.5), key_enterprise=True, contact_phone="023-1")
    resp = client.get("/api/v1/enterprises/export", headers=admin_headers)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows == [{
        "id": str(made.id), "credit_code": made.credit_code, "name": "出口企业", "jurisdiction_code": "500107",
        "address": "", "lon": "106.5", "lat": "29.5", "crs": "wgs84", "accuracy_m": "",
        "above_designated_size": "0", "key_enterprise": "1", "key_project": "0", "contact_name": "",
        "contact_phone": "023-1", "monitoring_point": ""}]


def test_unknown_body_fields_and_a_bad_flag_are_refused(client, admin_headers):
    resp = _create(client, admin_headers, flags="all", key_project="maybe")
    assert resp.status_code == 422
    assert {e["field"] for e in resp.get_json()["errors"]} == {"flags", "key_project"}


def test_a_radius_search_reads_its_centre_in_the_requested_crs(client, admin_headers, make_enterprise):
    make_enterprise("高德上的点", at=AMAP_WGS)
    centre = f"{AMAP_GCJ[0]},{AMAP_GCJ[1]}"

    def found(**query):
        resp = client.get("/api/v1/enterprises", headers=admin_headers, query_string={"near": centre, **query})
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()["items"]

    on_amap = found(radius_m=5, crs="gcj02")
    assert [e["name"] for e in on_amap] == ["高德上的点"] and on_amap[0]["distance_m"] < 1
    assert found(radius_m=5) == []  # the same numbers read as WGS-84 are ~570 m away
    assert [e["name"] for e in found(nearest=1, crs="gcj02")] == ["高德上的点"]


def test_a_radius_without_a_centre_and_a_bad_box_are_refused_naming_the_field(client, admin_headers):
    no_centre = client.get("/api/v1/enterprises", headers=admin_headers, query_string={"radius_m": 100})
    assert no_centre.status_code == 422 and no_centre.get_json()["errors"][0]["field"] == "near"
    bad_box = client.get("/api/v1/enterprises", headers=admin_headers, query_string={"bbox": "106.6,29.4,106.5,29.6"})
    assert bad_box.status_code == 422 and bad_box.get_json()["errors"][0]["field"] == "bbox"
    bad_crs = client.get("/api/v1/enterprises", headers=admin_headers, query_string={"crs": "mercator"})
    assert bad_crs.status_code == 422 and bad_crs.get_json()["errors"][0]["field"] == "crs"
