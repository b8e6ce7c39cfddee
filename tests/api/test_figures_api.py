"""GET /api/v1/figures: office staff only, JSON and CSV, a jurisdiction in scope, a valid period."""

from __future__ import annotations

import csv
import io

import pytest

from field.core.models.platform import Role
from tests.integration.test_figures import seed

URL = "/api/v1/figures?from=2026-01-01&to=2026-12-31"


@pytest.fixture
def seeded(session, tree, make_user):
    return seed(session, tree, make_user)


def test_office_staff_get_the_figures_as_json(client, login, seeded):
    resp = client.get(URL, headers=login(seeded["office"]))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["period"] == {"from": "2026-01-01", "to": "2026-12-31"}
    assert body["previous_period"] == {"from": "2025-01-01", "to": "2025-12-31"}
    assert body["cases"]["opened"] == {"current": 5, "previous": 2, "change": 3, "change_pct": 150.0}
    assert body["inspections"]["fines_total"] == {"current": "1200.75", "previous": "500.00", "change": "700.75",
                                                  "change_pct": 140.2}
    assert [u["loses_excellent_grade"] for u in body["units"]] == [True, True, True, False]


def test_the_csv_is_utf8_with_a_bom_and_one_row_per_number(client, login, seeded):
    resp = client.get(URL + "&format=csv", headers=login(seeded["office"]))
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert resp.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows[0] == ["section", "item_id", "item", "figure", "current", "previous", "change", "change_pct",
                       "provisional"]
    assert ["cases", "", "", "opened", "5", "2", "3", "150.0", ""] in rows
    assert any(r[0] == "units" and r[2] == "税务局" and r[3] == "loses_excellent_grade" and r[4] == "True"
               for r in rows)


@pytest.mark.parametrize("role", [Role.inspector, Role.leader, Role.liaison, Role.squad_member])
def test_anyone_but_office_staff_is_told_there_is_nothing(client, login, make_user, seeded, role):
    resp = client.get(URL, headers=login(make_user(role)))
    assert resp.status_code == 404


def test_a_jurisdiction_out_of_scope_is_a_422_on_jurisdiction_id(client, login, seeded, tree):
    resp = client.get(URL + f"&jurisdiction_id={tree['other'].id}", headers=login(seeded["office"]))
    assert resp.status_code == 422
    assert "jurisdiction_id" in str(resp.get_json())


def test_the_other_district_s_office_sees_its_own_figures_only(client, login, seeded):
    resp = client.get(URL, headers=login(seeded["outsider"]))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["cases"]["opened"]["current"] == 1
    assert body["inspections"]["fines_total"]["current"] == "9999.00"


@pytest.mark.parametrize("query", ["?from=2026-01-01", "?from=2026-12-31&to=2026-01-01",
                                   "?from=2026-01-01&to=2026-12-31&format=xlsx"])
def test_a_missing_or_backward_period_or_an_unknown_format_is_a_422(client, login, seeded, query):
    resp = client.get("/api/v1/figures" + query, headers=login(seeded["office"]))
    assert resp.status_code == 422
