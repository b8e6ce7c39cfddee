"""Open311 GeoReport v2 against the app served on loopback by a real WSGI server, read with ``georeport`` (PyPI).

georeport 0.3.1 reads (services, requests, one request; JSON and XML) but has no call to file a request, so
the filing is the spec's own form-encoded POST sent with ``requests``, as any Open311 app sends it.
"""

from __future__ import annotations

import threading
from typing import Iterator

import pytest
import requests
from georeport import GeoReport
from werkzeug.serving import make_server

from field.accounts import jurisdictions, users as accounts
from field.complaints import handling
from field.complaints.models import Complaint
from field.core import migrate
from field.core.db import make_engine, make_session_factory
from field.core.models.base import Base
from field.core.models.platform import JurisdictionLevel, Role
from field.directory import units
from field.directory.models import UnitKind
from tests.conftest import fresh_database_url


@pytest.fixture(scope="module")
def live(backend, tmp_path_factory) -> Iterator[tuple[str, object]]:
    tmp = tmp_path_factory.mktemp(f"open311-{backend}")
    url = fresh_database_url(backend, tmp, "_open311")
    migrate.upgrade(url)
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        parent = None
        for code, name, level in (("500000", "重庆市", JurisdictionLevel.province),
                                  ("500100", "重庆市市辖区", JurisdictionLevel.city),
                                  ("500107", "九龙坡区", JurisdictionLevel.district)):
            parent = jurisdictions.create_jurisdiction(session, actor=None, code=code, name=name, level=level,
                                                       parent_id=parent.id if parent else None)
        session.commit()

    from api import create_app

    app = create_app({"DATABASE_URL": url, "EVIDENCE_DIR": str(tmp / "evidence"), "SECRET_KEY": "live",
                      "COMPLAINTS_JURISDICTION": "500107"})
    http = make_server("127.0.0.1", 0, app, threaded=True)
    serving = threading.Thread(target=http.serve_forever, name="open311-app", daemon=True)
    serving.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}/open311/v2", factory
    finally:
        http.shutdown()
        serving.join(10)
        http.server_close()
        app.extensions["ENGINE"].dispose()
        engine.dispose()


def _answer_it(factory, number: str) -> None:
    """The office accepts and dispatches, the unit's handler answers (the domain, as the API would)."""
    with factory() as s:
        from sqlalchemy import select

        from field.core.models.platform import Jurisdiction

        home = s.execute(select(Jurisdiction).where(Jurisdiction.code == "500107")).scalar_one()
        admin = accounts.create_user(s, actor=None, username="o311-admin", password="correct horse battery",
                                     display_name="Admin", role=Role.admin, jurisdiction_id=home.id)
        handler = accounts.create_user(s, actor=None, username="o311-handler", password="correct horse battery",
                                       display_name="Handler", role=Role.handler, jurisdiction_id=home.id)
        unit = units.create_unit(s, admin, name="区城管局", kind=UnitKind.department)
        handling.assign_handler(s, admin, handler.id, unit.id)
        complaint = s.execute(select(Complaint).where(Complaint.tracking_number == number)).scalar_one()
        from datetime import date

        handling.triage(s, admin, complaint, "accept", today=date(2026, 5, 11))
        handling.dispatch(s, admin, complaint, unit.id, today=date(2026, 5, 11))
        handling.answer(s, handler, complaint, text="已处理", resolved=True, today=date(2026, 5, 12))
        handling.call_back(s, admin, complaint, reached=True, resolved=True, rating="satisfied",
                           today=date(2026, 5, 13))
        s.commit()


def test_an_open311_client_lists_services_files_a_request_and_reads_its_status(live):
    base, factory = live
    client = GeoReport(base, jurisdiction="500107")
    services = client.get_service_list()
    assert {"obstruction", "rude_service", "other"} <= {s["service_code"] for s in services}
    as_xml = GeoReport(base, jurisdiction="500107", output_format="xml").get_service_list()
    assert {s["service_code"] for s in as_xml} == {s["service_code"] for s in services}

    filed = requests.post(f"{base}/requests.json", data={
        "jurisdiction_id": "500107", "api_key": "any", "service_code": "arbitrary_charges",
        "lat": "29.5026", "long": "106.5286", "description": "办理许可证时被要求购买指定培训课程",
        "phone": "13800001111", "first_name": "明", "last_name": "李"}, timeout=30)
    assert filed.status_code == 201, filed.text
    [row] = filed.json()
    number, token = row["service_request_id"], row["token"]
    assert number.startswith("TS") and len(token) >= 20 and filed.headers["Cache-Control"] == "no-store"

    one = client.get_service_request(number)
    assert (one["service_request_id"], one["status"], one["service_code"]) == (number, "open", "arbitrary_charges")
    assert "description" not in one and "13800001111" not in str(one) and "李" not in str(one)
    listed = client.get_service_requests(service_request_id=number)
    assert [r["status_notes"] for r in listed] == ["received"]

    _answer_it(factory, number)
    assert client.get_service_request(number)["status"] == "closed"
    xml = GeoReport(base, jurisdiction="500107", output_format="xml").get_service_requests(service_request_id=number)
    assert xml["status"] == "closed" and xml["service_request_id"] == number
    assert [r["service_request_id"] for r in client.get_service_requests(status="closed")] == [number]


def test_bad_open311_input_is_a_problem_naming_the_field(live):
    base, _ = live
    missing = requests.post(f"{base}/requests.json", data={"jurisdiction_id": "500107", "service_code": "nope",
                                                           "description": "x", "lat": "29.5", "long": "106.5"})
    assert missing.status_code == 422 and missing.headers["Content-Type"].startswith("application/problem+json")
    assert "service_code" in {e["field"] for e in missing.json()["errors"]}
    nowhere = requests.post(f"{base}/requests.json", data={"jurisdiction_id": "500107", "service_code": "other",
                                                           "description": "没有地点"})
    assert nowhere.status_code == 422 and nowhere.json()["errors"][0]["field"] == "address_string"
    unknown = requests.get(f"{base}/requests/TS20260101-AAAAAA.json", params={"jurisdiction_id": "500107"})
    assert unknown.status_code == 404
