"""Streamed exports on a real engine: the body is read after the request ended, and its session ends with it.

Found by the canary scan: GET /enterprises/export answered 500 (its query was built only when
the server read the body, from a user the ended request had let go), and every streamed export
left a transaction open once read, so on SQLite the next write waited and answered 503.
The savepoint fixtures of the other API tests cannot see either: they need a committed database.
"""

import pytest
from sqlalchemy import event

from field.core.models.platform import Role
from stress.district import build
from tests.conftest import fresh_database_url


@pytest.fixture(scope="module")
def district(backend, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("streamed")
    district = build(fresh_database_url(backend, tmp, "_streamed"), str(tmp / "evidence"))
    yield district
    district.close()


def _exports(district):
    case_id = district.ids["case_id"]
    return ["/api/v1/enterprises/export", "/api/v1/findings/export.csv", "/api/v1/findings/export.geojson",
            "/api/v1/reports/export.csv", "/api/v1/reports/export.geojson", "/api/v1/cases/export.csv",
            "/api/v1/cases/export.geojson", f"/api/v1/cases/{case_id}/evidence.zip"]


def test_the_enterprise_export_is_read_after_the_request_has_ended(district):
    with district.app.test_client().get("/api/v1/enterprises/export", headers=district.headers[Role.inspector]) as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "重庆九龙精密机械有限公司" in body and district.ids["enterprise_id"] in body


def test_after_each_streamed_export_no_connection_is_held_and_a_write_goes_through(district):
    client, office = district.app.test_client(), district.headers[Role.reviewer]
    engine, held = district.app.extensions["ENGINE"], []
    event.listen(engine, "checkout", lambda *a: held.append(1))
    event.listen(engine, "checkin", lambda *a: held.pop())
    for url in _exports(district):
        with client.get(url, headers=office) as resp:
            assert resp.status_code == 200 and len(resp.data) > 100, url
        assert held == [], f"{url} left a connection (and its transaction) open"
        comment = client.post(f"/api/v1/records/{district.ids['finding_id']}/comments", headers=office,
                              json={"body": f"读过 {url}"})
        assert comment.status_code == 201, (url, comment.get_json())
