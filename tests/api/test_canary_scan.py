"""Canary scan: monitors' and complainants' identities, planted as markers, reach no one but an admin's unmask.

A district is built through the API (stress/district.py): monitors whose real names and phones
carry a unique marker, a case whose complainant's name and contact carry it, a photo whose EXIF
Artist, UserComment and XMP carry another, and visits, findings, a callback, a report, a leader's
visit, an inspection, a case with a delay notice, a disposition and a public notice. Then, as
every role, every GET of the OpenAPI document is called with the district's ids (lists also as
GeoJSON and in GCJ-02), exports are read (ZIP members one by one), the photo's thumbnail and
preview bytes are read, and every body and header is scanned for the markers (any case, raw,
percent-encoded, JSON-\\u-escaped) and the phone numbers (with or without separators).
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest

from field.core.models.platform import Role
from stress.canary import Scanner
from stress.district import District, build
from tests.conftest import fresh_database_url

#: Query strings each GET is also tried with: lists as GeoJSON, coordinates for Chinese map SDKs.
QUERIES = ({}, {"format": "geojson"}, {"crs": "gcj02"})


@pytest.fixture(scope="module")
def district(backend, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("canary")
    district = build(fresh_database_url(backend, tmp, "_canary"), str(tmp / "evidence"))
    yield district
    district.close()


def _scanner(district: District) -> Scanner:
    return Scanner(district.marker, *district.phones)


def _gets(district: District):
    """(url, query) of every GET operation of the published document, with the district's ids; as
    well with ?format=geojson and ?crs=gcj02 where the operation takes them."""
    spec = district.app.test_client().get("/openapi.json").get_json()
    for template, item in spec["paths"].items():
        if "get" not in item:
            continue
        url = template
        for name in re.findall(r"{(\w+)}", template):
            url = url.replace(f"{{{name}}}", str(district.ids[name]))
        takes = {p["name"] for p in item["get"].get("parameters", []) if p.get("in") == "query"}
        yield url, {}
        for query in QUERIES[1:]:
            if set(query) <= takes:
                yield url, query


def _scan_response(scanner: Scanner, resp, where: str) -> list[str]:
    hits = scanner.find(resp.data, where=where)
    headers = "\n".join(f"{k}: {v}" for k, v in resp.headers.items()).encode()
    hits += scanner.find(headers, where=f"{where} (headers)")
    if resp.mimetype == "application/zip" and resp.status_code == 200:
        with zipfile.ZipFile(io.BytesIO(resp.data)) as archive:
            for member in archive.namelist():
                hits += scanner.find(member.encode(), where=f"{where} member name {member}")
                hits += scanner.find(archive.read(member), where=f"{where} member {member}")
    return hits


@pytest.mark.parametrize("role", list(Role))
def test_no_get_of_any_role_shows_a_monitors_or_a_complainants_identity(district, role):
    client, scanner = district.app.test_client(), _scanner(district)
    headers = district.headers[role]
    hits, scanned, statuses = [], 0, {}
    for url, query in _gets(district):
        with client.get(url, headers=headers, query_string=query) as resp:  # a streamed export closes
            resp.data
        assert resp.status_code < 500, f"{role.value} GET {url} {query}: {resp.status_code}"
        statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
        hits += _scan_response(scanner, resp, f"{role.value} GET {url} {query}")
        scanned += 1
    assert hits == []
    assert scanned >= 110 and statuses.get(200, 0) >= 30, statuses  # the scan read real answers


def test_exports_and_the_case_evidence_zip_were_read_and_hold_no_identity(district):
    """The office's exports are among the GETs above; here each is checked to be a real, full answer."""
    client, scanner = district.app.test_client(), _scanner(district)
    office = district.headers[Role.reviewer]
    case_id = district.ids["case_id"]
    exports = {
        "/api/v1/findings/export.csv": "text/csv", "/api/v1/findings/export.geojson": "application/geo+json",
        "/api/v1/reports/export.csv": "text/csv", "/api/v1/reports/export.geojson": "application/geo+json",
        "/api/v1/cases/export.csv": "text/csv", "/api/v1/cases/export.geojson": "application/geo+json",
        "/api/v1/enterprises/export": None, f"/api/v1/cases/{case_id}/evidence.zip": "application/zip",
    }
    for url, mimetype in exports.items():
        with client.get(url, headers=office) as resp:
            resp.data
        assert resp.status_code == 200, (url, resp.get_data(as_text=True)[:300])
        if mimetype:
            assert resp.mimetype == mimetype, url
        assert len(resp.data) > 100, url
        assert _scan_response(scanner, resp, url) == []
    with client.get(f"/api/v1/cases/{case_id}/evidence.zip", headers=office) as resp:
        archive = zipfile.ZipFile(io.BytesIO(resp.data))
    originals = [name for name in archive.namelist() if archive.read(name) == district.photo_bytes]
    assert originals, "the case's ZIP carries the photo"


def test_viewing_copies_carry_none_of_the_metadata_planted_in_the_original(district):
    client = district.app.test_client()
    metadata = Scanner(district.photo_marker)
    sha = district.photo_sha
    for role in (Role.squad_member, Role.reviewer):
        original = client.get(f"/api/v1/evidence/{sha}/original", headers=district.headers[role])
        # The original is evidence, kept byte for byte: the planted metadata is still in it,
        # so the scan below is looking at the right photo.
        assert original.status_code == 200 and original.data == district.photo_bytes
        assert metadata.find(original.data)
        assert _scanner(district).find(original.data) == []
        for name in ("thumb", "preview"):
            copy = client.get(f"/api/v1/evidence/{sha}/{name}", headers=district.headers[role])
            assert copy.status_code == 200 and copy.mimetype == "image/jpeg", (name, copy.status_code)
            assert copy.data[:2] == b"\xff\xd8" and len(copy.data) > 1000
            assert metadata.find(copy.data, where=name) == []
            assert _scanner(district).find(copy.data, where=name) == []


def test_a_notice_naming_a_monitor_or_the_complainant_is_refused_and_the_published_one_is_clean(district):
    client, scanner = district.app.test_client(), _scanner(district)
    office = district.headers[Role.reviewer]
    url = f"/api/v1/cases/{district.ids['case_id']}/notices"
    for text in (f"经查，监督员张{district.marker}反映属实。", f"投诉人投诉人{district.marker}来电反映。",
                 f"联系电话 {district.phones[0]}"):
        refused = client.post(url, headers=office, json={"text": text, "issued_on": "2026-05-06"})
        assert refused.status_code == 422, (text, refused.get_json())
        assert refused.get_json()["errors"][0]["field"] == "text"
    case = client.get(f"/api/v1/cases/{district.ids['case_id']}", headers=office)
    timeline = client.get(f"/api/v1/cases/{district.ids['case_id']}/timeline", headers=office)
    notices = [n["text"] for n in case.get_json()["notices"]]
    assert notices == ["对区市场监督管理局三号窗口工作人员离岗问题予以通报。"]
    assert scanner.find(case.data) == [] and scanner.find(timeline.data) == []


def test_the_scanner_finds_the_identities_where_an_admin_unmasks_them(district):
    """The scan above could pass by looking at nothing: here it must find what an admin's unmask shows."""
    client, scanner = district.app.test_client(), _scanner(district)
    admin = district.headers[Role.admin]
    member = client.post(f"/api/v1/squads/{district.ids['squad_id']}/members/{district.ids['user_id']}/unmask",
                         headers=admin, json={"reason": "核实身份"})
    assert member.status_code == 200
    found = scanner.find(member.data)
    assert any(h.startswith("marker") for h in found) and any(h.startswith("phone") for h in found), found
    complainant = client.post(f"/api/v1/cases/{district.ids['case_id']}/complainant", headers=admin,
                              json={"reason": "回访投诉人"})
    assert complainant.status_code == 200
    assert len(scanner.find(complainant.data)) == 2
    # Nobody else gets there.
    for role in (Role.reviewer, Role.squad_member, Role.inspector):
        resp = client.post(f"/api/v1/cases/{district.ids['case_id']}/complainant", headers=district.headers[role],
                           json={"reason": "x"})
        assert resp.status_code in (403, 404) and scanner.find(resp.data) == []


def test_the_scanner_finds_a_real_name_rater_where_the_office_asks_for_the_callback_and_nowhere_else(district):
    """The bad rating's rater is disclosed to an admin only (logged), never to the rated unit's inspector."""
    client, scanner = district.app.test_client(), _scanner(district)
    url = f"/api/v1/rectifications/{district.ids['rectification_id']}/rater"
    shown = client.post(url, headers=district.headers[Role.admin], json={"reason": "差评回访"})
    assert shown.status_code == 200
    assert len(scanner.find(shown.data)) == 2, scanner.find(shown.data)  # the marked name and the phone
    for role in (Role.reviewer, Role.inspector, Role.liaison, Role.squad_member, Role.leader):
        resp = client.post(url, headers=district.headers[role], json={"reason": "x"})
        assert resp.status_code in (403, 404) and scanner.find(resp.data) == []
    item = client.get(f"/api/v1/rectifications/{district.ids['rectification_id']}",
                      headers=district.headers[Role.inspector])
    assert item.status_code == 200 and item.get_json()["state"] == "answered"  # the unit read it, nameless


@pytest.mark.parametrize("write", [
    lambda m: m.upper(),
    lambda m: "".join(f"%{b:02X}" for b in m.encode()),
    lambda m: json.dumps(m, ensure_ascii=True).replace("C", "\\u0043"),
    lambda m: "".join(f"\\u{ord(c):04x}" for c in m),
])
def test_the_scanner_sees_the_marker_however_it_is_encoded(write):
    marker = "CANARY-0123abcd"
    assert Scanner(marker).find(f'{{"x": "..{write(marker)}.."}}'.encode())
    assert Scanner(marker).find(b'{"x": "CANARY-0123abce"}') == []


@pytest.mark.parametrize("written", ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678",
                                     "+86-13812345678", "(138) 1234-5678"])
def test_the_scanner_sees_a_phone_number_in_common_formats(written):
    assert Scanner("CANARY-x", "13812345678").find(f"tel: {written};".encode())
    assert Scanner("CANARY-x", "13812345678").find(b"tel: 13812345670") == []


def test_no_answer_to_the_writes_that_built_the_district_shows_an_identity_outside_the_admin(district):
    scanner = _scanner(district)
    answers = [a for a in district.answers if a[0] is not Role.admin]
    assert {a[0] for a in answers} == set(Role) - {Role.admin} and len(answers) >= 25
    assert [hit for role, method, url, status, data in answers
            for hit in scanner.find(data, where=f"{role.value} {method} {url} -> {status}")] == []


#: The only tables that may hold a monitor's or a complainant's identity.
IDENTITY_TABLES = {"monitor_identities", "case_complainant_contacts", "evaluation_rater_contacts", "complaint_contacts"}


def test_no_stored_row_outside_the_identity_tables_holds_an_identity_idempotency_answers_and_custody_included(
        district):
    """Disclosures tried with and without an Idempotency-Key, identities written under one: then every row of
    every other table (stored idempotency answers, custody entries, disclosure rows, sync changes …) is scanned."""
    from sqlalchemy import func, select

    from field.core.models.base import Base
    from field.core.models.records import IdempotencyKey
    from field.custody.models import CustodyEntry

    client, scanner, ids = district.app.test_client(), _scanner(district), district.ids
    admin, office = district.headers[Role.admin], district.headers[Role.reviewer]
    unmask = f"/api/v1/squads/{ids['squad_id']}/members/{ids['user_id']}/unmask"
    complainant = f"/api/v1/cases/{ids['case_id']}/complainant"
    for n, url in enumerate((unmask, complainant)):
        keyed = client.post(url, headers={**admin, "Idempotency-Key": f"canary-{n}"}, json={"reason": "核实身份"})
        assert keyed.status_code == 422 and scanner.find(keyed.data) == []
        shown = client.post(url, headers=admin, json={"reason": "核实身份"})
        assert shown.status_code == 200 and scanner.find(shown.data), "the disclosure showed the identity"
    # Writes that carry an identity in, under a key: their stored answers must not carry it out.
    enlisted = client.post(f"/api/v1/squads/{ids['squad_id']}/members",
                           headers={**admin, "Idempotency-Key": "canary-enlist"},
                           json={"real_name": f"王{district.marker}", "phone": district.phones[0],
                                 "password": "correct horse battery"})
    opened = client.post("/api/v1/cases", headers={**office, "Idempotency-Key": "canary-case"}, json={
        "kind": "work_style", "title": "再次投诉", "complaint": {
            "channel": "letter", "received_at": "2026-01-05T09:00:00+08:00", "text": "来信反映窗口推诿",
            "complainant_name": f"赵{district.marker}", "complainant_contact": district.phones[1]}})
    assert enlisted.status_code == opened.status_code == 201, (enlisted.get_json(), opened.get_json())

    hits, rows = [], {}
    with district.app.extensions["SESSION_FACTORY"]() as s:
        for table in Base.metadata.sorted_tables:
            if table.name in IDENTITY_TABLES:
                continue
            for row in s.execute(select(table)).mappings():
                rows[table.name] = rows.get(table.name, 0) + 1
                data = json.dumps(dict(row), default=str, ensure_ascii=False).encode()
                hits += scanner.find(data, where=f"table {table.name}")
        stored = s.execute(select(func.count()).select_from(IdempotencyKey)
                           .where(IdempotencyKey.response_body.is_not(None))).scalar_one()
        disclosures = s.execute(select(CustodyEntry.kind).where(CustodyEntry.kind.like("%unmasked"))).scalars().all()
        identities = sum(scanner.find(json.dumps(dict(r), default=str, ensure_ascii=False).encode()) != []
                         for t in IDENTITY_TABLES for r in s.execute(select(Base.metadata.tables[t])).mappings())
    assert hits == []
    assert stored >= 2 and {"squad.member_unmasked", "case.complainant_unmasked"} <= set(disclosures)
    assert identities >= 4 and rows.get("custody_entries", 0) > 20  # the scan looked where the identities are
