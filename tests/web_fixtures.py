"""Fixtures of the web tier: console sign-in through the form, and a finding with a real photo sent through the API."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from field.visits import findings
from tests.conftest import PASSWORD, PHOTOS
from tests.visits_fixtures import finding_values, receipt_for, world  # noqa: F401

#: A real phone photo with EXIF GPS (Tuscany, 2008): far from any Chongqing record, and out of its time.
GPS_PHOTO = PHOTOS / "gps" / "ianare__DSCN0021.jpg"
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def csrf_of(html: str) -> str:
    """The CSRF token of the page's forms (the first one that is not the language switch's)."""
    tokens = _CSRF.findall(html)
    assert tokens, "the page has a form with a CSRF token"
    return tokens[-1]


@dataclass
class Console:
    """A browser's worth of cookies, signed in to the console as ``user``."""

    client: object
    user: object

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def post_form(self, url, data: dict, *, from_page: str | None = None, **kw):
        """POST ``data`` with the CSRF token of ``from_page`` (default: the page at ``url``'s record)."""
        page = self.client.get(from_page or "/console/")
        return self.client.post(url, data={"csrf_token": csrf_of(page.get_data(as_text=True)), **data}, **kw)


def sign_in_with(client, username: str, password: str = PASSWORD, **kw):
    form = client.get("/console/sign-in")
    return client.post("/console/sign-in", data={"username": username, "password": password,
                                                 "csrf_token": csrf_of(form.get_data(as_text=True))}, **kw)


@pytest.fixture
def console(app):
    """``console(user)``: a new test client signed in to the console as ``user``."""
    def sign_in(user, password: str = PASSWORD) -> Console:
        client = app.test_client()
        resp = sign_in_with(client, user.username, password)
        assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
        return Console(client, user)
    return sign_in


def upload_photo(client, headers, record_id, data: bytes, filename: str = "IMG_0001.jpg"):
    boundary, body = encode_multipart({"record_id": str(record_id), "kind": "photo",
                                       "file": FileStorage(io.BytesIO(data), filename)})
    resp = client.post("/api/v1/evidence", headers=headers, data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


@pytest.fixture
def photo_finding(session, world, client, login):  # noqa: F811
    """Alice's finding with the GPS photo attached through the API; returns (finding, sha256)."""
    finding = findings.record_finding(session, receipt_for(world.alice.user), finding_values(world)).record
    session.commit()
    uploaded = upload_photo(client, login(world.alice.user), finding.id, GPS_PHOTO.read_bytes())
    return finding, uploaded["sha256"]


class PageScan(HTMLParser):
    """What a page holds that a strict CSP would block or an escaping bug would let through."""

    def __init__(self):
        super().__init__()
        self.inline_scripts, self.handlers, self.styles, self.scripts = [], [], [], []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        names = {k.lower(): v for k, v in attrs}
        if tag == "script":
            self._in_script = "src" not in names
            if "src" in names:
                self.scripts.append(names["src"])
        if tag == "style" or "style" in names:
            self.styles.append(tag)
        self.handlers += [f"{tag} {k}" for k in names if k.startswith("on")]

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts.append(data)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)


def scan_page(html: str) -> PageScan:
    scan = PageScan()
    scan.feed(html)
    return scan

