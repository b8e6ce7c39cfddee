"""The office exports findings as CSV and GeoJSON, streamed; nobody else can."""

import csv
import io
import json

from field.visits import findings
from field.core.locations import GivenLocation
from tests.visits_fixtures import finding_values, receipt_for, world  # noqa: F401


def _two_findings(session, world):
    findings.record_finding(session, receipt_for(world.alice.user), finding_values(
        world, description="=HYPERLINK(\"x\")", location=GivenLocation(106.51, 29.50)))
    findings.record_finding(session, receipt_for(world.bob.user), finding_values(world, description="三号窗口离岗"))
    session.commit()


def test_findings_export_as_csv_with_a_bom_and_formulas_defused(client, session, world, login):
    _two_findings(session, world)
    resp = client.get("/api/v1/findings/export.csv", headers=login(world.reviewer))
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert len(rows) == 2
    assert {r["description"] for r in rows} == {"'=HYPERLINK(\"x\")", "三号窗口离岗"}
    assert {r["kind"] for r in rows} == {"finding"}


def test_findings_export_as_geojson_in_the_asked_crs(client, session, world, login):
    _two_findings(session, world)
    resp = client.get("/api/v1/findings/export.geojson", headers=login(world.reviewer), query_string={"crs": "gcj02"})
    doc = json.loads(resp.data)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 2
    located = [f for f in doc["features"] if f["geometry"]]
    lon, lat = located[0]["geometry"]["coordinates"]
    assert abs(lon - 106.51) > 1e-4  # shifted into GCJ-02 for a Chinese base map


def test_a_monitor_cannot_export_findings(client, session, world, login):
    assert client.get("/api/v1/findings/export.csv", headers=login(world.alice.user)).status_code == 403
