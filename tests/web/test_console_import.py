"""The directory's import from the console: an admin's file goes in within the admin's area, the report names every
rejected row, a file that cannot be read changes nothing, and only an admin may send one."""

from __future__ import annotations

import io
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from field.core.models.platform import Role
from field.directory.models import Enterprise
from tests.directory_fixtures import credit_code, fast_passwords, make_enterprise  # noqa: F401
from tests.web_fixtures import console, csrf_of, scan_page  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_passwords")

HEADER = "credit_code,name,jurisdiction_code,address,lon,lat\n"


def _send(signed_in, body: bytes, filename: str = "企业名录.csv", kind: str = "enterprises"):
    page = signed_in.get("/console/directory/import").get_data(as_text=True)
    return signed_in.client.post("/console/directory/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_of(page), "kind": kind, "file": (io.BytesIO(body), filename)})


def _counts(html: str) -> tuple[int, ...]:
    return tuple(int(n) for n in html.split('data-counts="', 1)[1].split('"', 1)[0].split())


def _enterprises(session) -> dict[str, Enterprise]:
    session.expire_all()
    return {e.credit_code: e for e in session.execute(select(Enterprise)).scalars()}


def test_an_admin_imports_enterprises_of_the_area_and_reads_each_rejected_row(
        console, make_user, make_enterprise, session, tree):
    theirs = make_enterprise("渝中区某企业", credit_code=credit_code(division="500103"),
                             actor=make_user(Role.admin, jurisdiction=tree["other"]))
    good, again, street = credit_code(), credit_code(), credit_code()
    csv = (HEADER
           + f"{good},九龙坡好企业,500107,杨家坪正街1号,106.51,29.50\n"
           + f"{street},街道企业,500107001,,,\n"
           + "91500107MA5U0000XX,校验错企业,500107,,,\n"               # the check characters are wrong
           + f"{credit_code()},别区企业,500103,,,\n"                    # another district's jurisdiction
           + f"{theirs.credit_code},改名企图,500107,,,\n"                # another office's enterprise
           + f"{again},重复一,500107,,,\n{again},重复二,500107,,,\n")   # the same code twice
    signed_in = console(make_user(Role.admin))
    resp = _send(signed_in, csv.encode("utf-8-sig"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, html[:500]
    assert _counts(html) == (3, 0, 0, 4)  # created, updated, unchanged, rejected
    rows = {cell.split("</td>")[0] for cell in html.split('<tr data-test="rejected-row"><td class="mono">')[1:]}
    assert rows == {"4", "5", "6", "8"}
    assert "500103" in html and "outside your area" in html
    stored = _enterprises(session)
    assert {good, street, again} <= set(stored) and stored[again].name == "重复一"
    assert stored[theirs.credit_code].name == "渝中区某企业" and stored[theirs.credit_code].jurisdiction_id == tree["other"].id
    assert not any(e.name == "别区企业" for e in stored.values())
    # The rejected rows download as a CSV with the reasons, without the server keeping it.
    link = html.split('data-test="rejected-csv"')[0].rsplit('href="', 1)[1].split('"', 1)[0]
    rejected = unquote(link.split(",", 1)[1].replace("&amp;", "&"))
    assert rejected.startswith("\ufeffrow,key,reason") and len(rejected.strip().splitlines()) == 5
    scan = scan_page(html)
    assert (scan.inline_scripts, scan.handlers, scan.styles) == ([], [], [])
    # The same file again writes nothing new: everything that went in is unchanged.
    again_html = _send(signed_in, csv.encode("utf-8-sig")).get_data(as_text=True)
    assert _counts(again_html) == (0, 0, 3, 4) and len(_enterprises(session)) == len(stored)


def test_a_spreadsheet_saved_by_a_chinese_excel_is_read(console, make_user, session):
    code = credit_code()
    resp = _send(console(make_user(Role.admin)), (HEADER + f"{code},国标编码企业,500107,,,\n").encode("gb18030"))
    assert resp.status_code == 200
    assert _enterprises(session)[code].name == "国标编码企业"


@pytest.mark.parametrize("body, filename, says", [
    (b"name,credit_code\n", "a.csv", "jurisdiction_code"),                 # a required column missing
    (b"credit_code,name,jurisdiction_code,colour\n", "a.csv", "colour"),    # a column nobody knows
    (b"\xff\xfe\x00\x01not text", "a.csv", "UTF-8"),
    (b'{"type": "Feature"}', "a.geojson", "FeatureCollection"),
])
def test_a_file_that_cannot_be_read_changes_nothing_and_says_why(console, make_user, session, body, filename, says):
    before = len(_enterprises(session))
    resp = _send(console(make_user(Role.admin)), body, filename)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and 'data-test="import-error"' in html and says in html
    assert len(_enterprises(session)) == before


def test_without_a_file_or_with_an_unknown_kind_the_form_says_which_field(console, make_user):
    signed_in = console(make_user(Role.admin))
    page = signed_in.get("/console/directory/import").get_data(as_text=True)
    no_file = signed_in.client.post("/console/directory/import", data={"csrf_token": csrf_of(page), "kind": "units"})
    assert no_file.status_code == 422 and "file:" in no_file.get_data(as_text=True)
    bad_kind = _send(signed_in, HEADER.encode(), kind="squads")
    assert bad_kind.status_code == 422 and "kind:" in bad_kind.get_data(as_text=True)


def test_a_reviewer_can_neither_open_the_form_nor_import(console, make_user, session):
    reviewer = console(make_user(Role.reviewer))
    assert reviewer.get("/console/directory/import").status_code == 403
    assert 'data-test="to-import"' not in reviewer.get("/console/directory").get_data(as_text=True)
    code = credit_code()
    page = reviewer.get("/console/directory").get_data(as_text=True)
    resp = reviewer.client.post("/console/directory/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_of(page), "kind": "enterprises",
        "file": (io.BytesIO((HEADER + f"{code},偷偷导入,500107,,,\n").encode()), "x.csv")})
    assert resp.status_code == 403 and code not in _enterprises(session)


def test_hostile_names_in_the_file_and_its_name_render_as_text(console, make_user):
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    html = _send(console(make_user(Role.admin)), (HEADER + f"{hostile},x,500107,,,\n").encode(),
                 filename=f"{hostile}.csv").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    scan = scan_page(html)
    assert (scan.inline_scripts, scan.handlers, scan.styles) == ([], [], [])
