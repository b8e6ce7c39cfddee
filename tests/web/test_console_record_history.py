"""The record page, part 2: versions side by side with what changed, the photo's and the record's positions on a
small map with the distance between them, and the custody trail of each original."""

from __future__ import annotations

import html
import json
import re
import uuid

from field.core.crs import from_wgs84
from tests.web_fixtures import GPS_PHOTO, console, upload_photo, world  # noqa: F401

#: The record's place in Jiulongpo; the photo (ianare__DSCN0021.jpg) was taken in Tuscany.
PLACE = [106.51, 29.50]


def _finding(client, world, headers, **overrides):
    body = {"id": str(uuid.uuid4()), "device_time": "2026-05-12T10:40:00+08:00", "category": "buck_passing",
            "severity": "moderate", "unit_id": str(world.window.id), "occurred_at": "2026-05-12T09:50:00+08:00",
            "description": "窗口让群众去找科室。", "location": {"type": "Point", "coordinates": PLACE, "accuracy_m": 10},
            **overrides}
    resp = client.post("/api/v1/findings", headers=headers, json=body)
    assert resp.status_code == 201, resp.get_json()
    return body


def _map_spec(page: str) -> dict:
    found = re.search(r'data-map="([^"]+)" data-test="photo-map"', page)
    assert found, "the evidence shows a small map"
    return json.loads(html.unescape(found.group(1)))


def test_an_amended_finding_shows_its_versions_side_by_side_and_what_changed(client, world, login, console):
    alice = login(world.alice.user)
    body = _finding(client, world, alice)
    office = console(world.reviewer)
    page = office.get(f"/console/records/{body['id']}").get_data(as_text=True)
    assert 'data-test="versions"' not in page  # one version: nothing to compare
    office.post_form(f"/console/records/{body['id']}/review", {"state": "needs_info", "comment": "类别再核实。"},
                     from_page=f"/console/records/{body['id']}")
    amended = {k: v for k, v in body.items() if k != "id"} | {"description": "窗口与科室互相推诿三次。"}
    assert client.put(f"/api/v1/findings/{body['id']}", headers=alice, json=amended).status_code == 200
    page = office.get(f"/console/records/{body['id']}").get_data(as_text=True)
    assert 'data-test="versions"' in page
    assert "窗口让群众去找科室。" in page and "窗口与科室互相推诿三次。" in page  # both versions, side by side
    changed = re.findall(r'<td class="changed" data-test="changed-cell">([^<]*)</td>', page)
    assert changed == ["窗口与科室互相推诿三次。"]  # only the description changed, in version 2
    assert re.findall(r'data-test="changed-key">([^<]*)<', page) == ["情况描述"]  # zh-CN first


def test_the_evidence_shows_both_positions_on_a_map_the_distance_and_its_custody_trail(client, world, login, console):
    alice = login(world.alice.user)
    body = _finding(client, world, alice)
    uploaded = upload_photo(client, alice, body["id"], GPS_PHOTO.read_bytes())
    office = console(world.reviewer)
    english = {"Accept-Language": "en"}
    page = office.get(f"/console/records/{body['id']}", headers=english).get_data(as_text=True)
    distance = int(re.search(r'data-test="photo-distance">[^0-9]*([0-9]+)', page).group(1))
    assert 8_000_000 < distance < 9_500_000  # Chongqing to Tuscany
    spec = _map_spec(page)
    record, photo = spec["markers"]
    assert (record["kind"], photo["kind"]) == ("record", "photo")
    assert [record["lon"], record["lat"]] == PLACE  # no basemap configured: WGS-84 as stored
    assert spec["basemap"]["tiles"] is None and spec["lines"] == [[[PLACE[1], PLACE[0]], [photo["lat"], photo["lon"]]]]
    # The custody trail of the original: received, attached ... and the preview the page shows is logged.
    kinds = re.findall(r'<span class="trail-kind">([^<]*)</span>', page)
    assert kinds[:1] == ["received"] and "attached to a record" in kinds
    office.get(f"/console/evidence/{uploaded['sha256']}/preview")
    again = office.get(f"/console/records/{body['id']}", headers=english).get_data(as_text=True)
    assert re.findall(r'<span class="trail-kind">([^<]*)</span>', again).count("viewed") == kinds.count("viewed") + 1
    assert "test phone" not in again  # devices are never named in the trail (a phone's name may be a person's)


def test_with_a_gcj02_basemap_markers_are_shifted_by_the_projects_own_conversion(app, client, world, login, console):
    app.config.update(MAP_TILE_URL="https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}&style=8",
                      MAP_TILE_CRS="gcj02", MAP_TILE_SUBDOMAINS="1234")
    alice = login(world.alice.user)
    body = _finding(client, world, alice)
    upload_photo(client, alice, body["id"], GPS_PHOTO.read_bytes())
    page = console(world.reviewer).get(f"/console/records/{body['id']}").get_data(as_text=True)
    spec = _map_spec(page)
    record = spec["markers"][0]
    lon, lat = from_wgs84(*PLACE, "gcj02")
    assert (record["lon"], record["lat"]) == (round(lon, 7), round(lat, 7))
    assert abs(record["lon"] - PLACE[0]) > 0.002  # the few hundred metres other tools forget
    assert spec["basemap"] == {"tiles": app.config["MAP_TILE_URL"], "crs": "gcj02", "attribution": "",
                               "subdomains": "1234"}
