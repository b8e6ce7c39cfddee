"""`fieldwatch seed-demo --sample`: a small field day on the demo district, laid down through the API itself.

Run only by seed-demo on a database it has just made the demo admin in (never on one
holding data). Everything goes through the app's own HTTP API with a test client, as the
phones and the office would send it: accounts, a unit, an enterprise and its contact point,
a squad and its monitor, an inspector's filing, a liaison's report, a monitor's finding with
two photos (drawn here by Pillow with EXIF positions: one at the record's place, one 12 km
away, so the second is flagged), and a case opened from the finding, half-way through its
four gates. The photos are the project's own: no licence to ship.
"""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta

from flask import Flask
from PIL import Image, ImageDraw
from PIL.TiffImagePlugin import IFDRational
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from field.core.office import OFFICE_TZ, office_today

#: Where the sample happens: the district government's square in Jiulongpo (WGS-84).
PLACE = (106.5103, 29.5012)
FAR = (106.3900, 29.4300)
USERS = [  # username, display name, role
    ("demo-reviewer", "李审核（示例）", "reviewer"),
    ("demo-inspector", "赵检查（示例）", "inspector"),
    ("demo-liaison", "钱联络（示例）", "liaison"),
]


class SampleFailed(RuntimeError):
    pass


def _dms(value: float):
    d = int(value)
    m = int((value - d) * 60)
    s = round(((value - d) * 60 - m) * 60, 2)
    return IFDRational(d, 1), IFDRational(m, 1), IFDRational(int(s * 100), 100)


def sample_photo(lon: float, lat: float, taken: datetime, caption: str, colour: tuple[int, int, int]) -> bytes:
    """A 1024×768 JPEG drawn here, with EXIF: camera, time taken and GPS position."""
    img = Image.new("RGB", (1024, 768), colour)
    draw = ImageDraw.Draw(img)
    draw.rectangle([80, 420, 944, 720], fill=(70, 74, 82))            # a counter
    draw.rectangle([380, 180, 644, 420], fill=(200, 205, 210))        # an empty chair's back
    draw.rectangle([300, 470, 724, 520], fill=(230, 190, 60))         # the window's sign
    draw.text((320, 485), caption, fill=(20, 20, 20))
    draw.text((40, 30), f"fieldwatch sample photo  {lat:.4f}N {lon:.4f}E", fill=(255, 255, 255))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "fieldwatch", "sample-day camera"
    exif.get_ifd(0x8769)[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", _dms(lat), "E", _dms(lon)
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, quality=85)
    return out.getvalue()


class _Api:
    def __init__(self, app: Flask):
        self.app, self.client = app, app.test_client()

    def call(self, method: str, path: str, headers=None, expect=(200, 201, 204), **kw):
        # A fresh app context per request: the command's own would be reused, and with it ``g``
        # (the API keeps the caller there), so every request would act as the first caller.
        with self.app.app_context():
            resp = self.client.open(f"/api/v1{path}", method=method, headers=headers or {},
                                    environ_base={"REMOTE_ADDR": "127.0.0.1"}, **kw)
        if resp.status_code not in expect:
            raise SampleFailed(f"{method} {path}: {resp.status_code} {resp.get_data(as_text=True)[:300]}")
        return resp.get_json(silent=True)

    def login(self, username: str, password: str) -> dict:
        token = self.call("POST", "/auth/login", json={"username": username, "password": password,
                                                       "device_name": "sample day"})["token"]
        return {"Authorization": f"Bearer {token}"}


def lay_down(app: Flask, admin_password: str) -> dict:
    """The sample field day; returns the accounts made (username → display name) and what was laid down."""
    api = _Api(app)
    admin = api.login("demo-admin", admin_password)
    district = api.call("GET", "/me", admin)["jurisdiction"]["id"]
    users = {}
    for username, name, role in USERS:
        users[username] = api.call("POST", "/users", admin, json={
            "username": username, "password": admin_password, "display_name": name, "role": role,
            "jurisdiction_id": district})["id"]
    unit = api.call("POST", "/units", admin, json={"name": "区政务服务中心", "kind": "department"})["id"]
    api.call("POST", "/persons", admin, json={"unit_id": unit, "name": "周窗口", "post": "窗口工作人员"})
    enterprise = api.call("POST", "/enterprises", admin, json={
        "name": "重庆九龙示例机械有限公司", "credit_code": "91500107MA5U7X8Y0B", "address": "九龙坡区杨家坪正街 1 号",
        "location": {"type": "Point", "coordinates": [PLACE[0] + 0.004, PLACE[1] + 0.002]}})["id"]
    point = api.call("POST", "/monitoring-points", admin, json={
        "enterprise_id": enterprise, "liaison_ids": [users["demo-liaison"]],
        "active_from": (office_today() - timedelta(days=60)).isoformat()})["id"]
    squad = api.call("POST", "/squads", admin, json={"name": "第一暗访小分队（示例）", "code_prefix": "JLS"})["id"]
    member = api.call("POST", f"/squads/{squad}/members", admin, json={
        "real_name": "示例暗访员", "password": admin_password})
    api.call("PUT", f"/inspectors/{users['demo-inspector']}/unit", admin, json={"unit_id": unit})

    now = datetime.now(OFFICE_TZ).replace(microsecond=0)
    today = office_today()
    inspector = api.login("demo-inspector", admin_password)
    api.call("POST", "/inspection-filings", inspector, json={
        "id": str(uuid.uuid4()), "device_time": now.isoformat(), "filing_kind": "annual_plan",
        "enterprise_ids": [enterprise], "purpose": "安全生产年度检查", "legal_basis": "《安全生产法》",
        "planned_start": today.isoformat(), "planned_end": (today + timedelta(days=14)).isoformat()})
    liaison = api.login("demo-liaison", admin_password)
    api.call("POST", "/reports", liaison, json={
        "id": str(uuid.uuid4()), "device_time": now.isoformat(), "report_type": "problem", "point_id": point,
        "problem_area": "approvals", "unit_id": unit, "description": "企业反映办理审批时被要求重复提交材料。"})

    monitor = api.login(member["code"].lower(), admin_password)
    finding = str(uuid.uuid4())
    occurred = now - timedelta(hours=1)
    api.call("POST", "/findings", monitor, json={
        "id": finding, "device_time": (now - timedelta(minutes=50)).isoformat(), "category": "absent_from_post",
        "severity": "moderate", "unit_id": unit, "occurred_at": occurred.isoformat(),
        "description": "上午九点四十分，3 号窗口无人值守约二十分钟，群众排队等候。",
        "location": {"type": "Point", "coordinates": list(PLACE), "accuracy_m": 12}})
    shas = []
    for (lon, lat), caption, colour in ((PLACE, "Window 3: nobody at the desk", (120, 160, 200)),
                                        (FAR, "Window 3 (photo taken 12 km away?)", (160, 140, 110))):
        data = sample_photo(lon, lat, occurred.replace(tzinfo=None), caption, colour)
        boundary, body = encode_multipart({"record_id": finding, "kind": "photo",
                                           "file": FileStorage(io.BytesIO(data), f"window3-{len(shas) + 1}.jpg")})
        shas.append(api.call("POST", "/evidence", monitor, data=body,
                             content_type=f"multipart/form-data; boundary={boundary}")["sha256"])

    reviewer = api.login("demo-reviewer", admin_password)
    case = api.call("POST", "/cases", reviewer, json={
        "kind": "discipline", "title": "政务服务中心 3 号窗口脱岗", "source_record_ids": [finding],
        "summary": "暗访发现窗口工作人员工作时间脱岗。", "subjects": [{"unit_id": unit}]})
    api.call("POST", f"/cases/{case['id']}/transitions", reviewer, json={"to": "investigating"})
    api.call("POST", f"/cases/{case['id']}/gates", reviewer, json={
        "gate": "facts_established", "note": "调取监控录像，确认脱岗二十分钟。", "evidence": [shas[0]]})
    api.call("POST", f"/cases/{case['id']}/transitions", reviewer, json={"to": "deciding"})
    api.call("POST", f"/cases/{case['id']}/gates", reviewer, json={
        "gate": "responsible_dealt_with", "note": "对当事人进行诫勉谈话。", "evidence": [shas[0]]})
    return {"users": {u: n for u, n, _r in USERS} | {member["code"].lower(): member["code"]},
            "case": case["number"], "finding": finding}
