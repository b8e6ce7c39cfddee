"""A committed district with one of everything, made through the API, for the fuzz and the canary scan.

Monitors' real names and phones, a complainant's name and contact and an evaluation's real-name rater
carry ``District.marker``
(``CANARY-<hex>``) and ``District.phones``; the uploaded photo carries ``District.photo_marker``
in its EXIF Artist and UserComment and in an XMP packet (the original keeps it, as evidence
must; its viewing copies must not). A scan of every response can so prove that none leaks.
"""

from __future__ import annotations

import base64
import io
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from api import create_app
from field.accounts import users as accounts, jurisdictions
from field.core import migrate
from field.visits import taxonomy
from field.core.credit_code import _check_character, _organization_check_character
from field.core.models.platform import JurisdictionLevel, Role, User
from tests import corpus

from .world import chongqing

PASSWORD = "correct horse battery"
CST = timezone(timedelta(hours=8))
#: The real photo corpus beside the repository; the district's photo is made from one of them.
PHOTOS = corpus.PHOTOS
PHOTO = "gps/ianare__DSCN0021.jpg"


@dataclass
class District:
    app: object
    marker: str
    #: the monitor's and the complainant's phone numbers (digits only)
    phones: tuple[str, ...]
    #: planted in the photo's metadata only
    photo_marker: str
    headers: dict[Role, dict]
    users: dict[Role, uuid.UUID]
    #: id of one object of each kind, by the name of the URL parameter that takes it
    ids: dict[str, str] = field(default_factory=dict)
    photo_sha: str = ""
    photo_bytes: bytes = b""
    #: every answer given while the district was built: (role, method, url, status, headers and body)
    answers: list[tuple[Role, str, str, int, bytes]] = field(default_factory=list)

    def close(self) -> None:
        engine = self.app.extensions.get("ENGINE")
        if engine is not None:
            engine.dispose()


class _Caller:
    def __init__(self, app):
        self.client = app.test_client()
        self.log: list[tuple[str, str, str, int, bytes]] = []

    def __call__(self, method, url, headers, expect=(200, 201), **kw):
        resp = self.client.open(url, method=method, headers=headers, **kw)
        written = "".join(f"{k}: {v}\n" for k, v in resp.headers.items()).encode() + b"\n" + resp.data
        self.log.append((headers.get("Authorization", ""), method, url, resp.status_code, written))
        if resp.status_code not in ((expect,) if isinstance(expect, int) else expect):
            raise RuntimeError(f"building the district: {method} {url} answered {resp.status_code}: "
                               f"{resp.get_data(as_text=True)[:500]}")
        return resp.get_json(silent=True)


def marked_photo(marker: str) -> bytes:
    """A corpus JPEG re-encoded with the marker in EXIF Artist and UserComment and in an XMP packet,
    its GPS and capture time kept (the derivatives must strip all of it)."""
    with Image.open(PHOTOS / PHOTO) as img:
        exif = img.getexif()
        exif[0x013B] = f"Artist {marker}"  # Artist
        exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00" + f"comment {marker}".encode()  # UserComment
        xmp = (f'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
               f'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
               f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>{marker}</dc:creator></rdf:Description>'
               f'</rdf:RDF></x:xmpmeta><?xpacket end="w"?>').encode()
        out = io.BytesIO()
        img.save(out, "JPEG", quality=90, exif=exif, xmp=xmp)
    return out.getvalue()


def build(url: str, evidence_dir: str, *, marker: str | None = None, session_factory=None) -> District:
    """Migrate ``url`` (an empty database) and fill it through the API; every write is committed.

    With ``session_factory`` the app uses it (the fuzz wraps each request in a transaction it
    rolls back); the district itself is built with the app's own engine first.
    """
    marker = marker or f"CANARY-{uuid.uuid4().hex[:12]}"
    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "district", "EVIDENCE_DIR": evidence_dir,
                      "LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute", "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute"})
    headers: dict[Role, dict] = {}
    users: dict[Role, uuid.UUID] = {}
    with app.extensions["SESSION_FACTORY"]() as s:
        province, city, district = chongqing(s)
        jurisdictions.create_jurisdiction(s, actor=None, code="500107001", name="杨家坪街道",
                                          level=JurisdictionLevel.street, parent_id=district.id)
        admin = accounts.create_user(s, actor=None, username="admin", password=PASSWORD, display_name="王管理",
                                     role=Role.admin, jurisdiction_id=district.id)
        headers[Role.admin] = {"Authorization": f"Bearer {accounts.issue_token(s, admin, 'pc', timedelta(days=2)).token}"}
        users[Role.admin] = admin.id
        taxonomy.seed_categories(s)
        s.commit()
        district_id = str(district.id)

    call = _Caller(app)
    admin_h = headers[Role.admin]
    today = datetime.now(CST).date()
    now = datetime.now(CST).replace(microsecond=0)
    ids: dict[str, str] = {"jurisdiction_id": district_id}

    for year in (today.year, today.year + 1):
        # 422: the library has it; otherwise declared weekends only (a synthetic world has no holidays).
        call("POST", "/api/v1/calendar/years", admin_h, (201, 422), json={"year": year, "weekends_only": True})
    ids["override_id"] = call("POST", "/api/v1/calendar/overrides", admin_h, json={
        "day": f"{today.year}-12-26", "working": False, "note": "区内调休"})["id"]
    ids["category_id"] = call("POST", "/api/v1/finding-categories", admin_h, json={
        "code": "district_extra", "label_zh": "区自定义", "label_en": "District extra"})["id"]

    def staff(role, name):
        body = {"username": f"{role.value}.{uuid.uuid4().hex[:6]}", "password": PASSWORD, "display_name": name,
                "role": role.value, "jurisdiction_id": district_id}
        return call("POST", "/api/v1/users", admin_h, json=body)["id"]

    for role, name in ((Role.reviewer, "李审核"), (Role.inspector, "赵执法"), (Role.liaison, "陈联络"),
                       (Role.leader, "刘领导"), (Role.operator, "孙接线"), (Role.handler, "周办理")):
        users[role] = uuid.UUID(staff(role, name))

    bureau = call("POST", "/api/v1/units", admin_h, json={"name": "区市场监督管理局", "kind": "department",
                                                          "location": {"type": "Point", "coordinates": [106.51, 29.50]}})
    section = call("POST", "/api/v1/units", admin_h, json={"name": "登记科", "kind": "section",
                                                           "parent_id": bureau["id"]})
    window = call("POST", "/api/v1/units", admin_h, json={"name": "三号窗口", "kind": "window",
                                                          "parent_id": section["id"]})
    person = call("POST", "/api/v1/persons", admin_h, json={"unit_id": window["id"], "name": "李科员",
                                                            "post": "窗口负责人", "rank": "section"})
    ids.update(unit_id=window["id"], person_id=person["id"])
    enterprise = _enterprise(call, admin_h)
    ids["enterprise_id"] = enterprise["id"]
    point = call("POST", "/api/v1/monitoring-points", admin_h, json={
        "enterprise_id": enterprise["id"], "covert": True, "liaison_ids": [str(users[Role.liaison])],
        "leader_id": str(users[Role.leader]), "visit_frequency": "monthly", "active_from": f"{today.year}-01-01"})
    ids["point_id"] = point["id"]
    call("PUT", f"/api/v1/inspectors/{users[Role.inspector]}/unit", admin_h, json={"unit_id": bureau["id"]})

    squad = call("POST", "/api/v1/squads", admin_h, json={"name": "第一暗访小分队", "code_prefix": "JLP"})
    ids["squad_id"] = squad["id"]
    phone = "13812345678"
    monitor = call("POST", f"/api/v1/squads/{squad['id']}/members", admin_h, json={
        "real_name": f"张{marker}", "phone": phone, "password": PASSWORD})
    other = call("POST", f"/api/v1/squads/{squad['id']}/members", admin_h, json={
        "real_name": f"李{marker}", "phone": f"139{marker}", "password": PASSWORD})
    users[Role.squad_member] = uuid.UUID(monitor["user_id"])
    ids["user_id"] = monitor["user_id"]
    ids["other_monitor_id"] = other["user_id"]

    with app.extensions["SESSION_FACTORY"]() as s:
        for role in (Role.reviewer, Role.inspector, Role.liaison, Role.leader, Role.squad_member, Role.operator,
                     Role.handler):
            token = accounts.issue_token(s, s.get(User, users[role]), f"{role.value} phone", timedelta(days=2))
            headers[role] = {"Authorization": f"Bearer {token.token}"}
        s.commit()
    reviewer_h, monitor_h = headers[Role.reviewer], headers[Role.squad_member]
    inspector_h, liaison_h, leader_h = headers[Role.inspector], headers[Role.liaison], headers[Role.leader]
    ids["device_id"] = call("GET", "/api/v1/me/devices", monitor_h)[0]["id"]

    # undercover work: a task, a visit, a finding with a photo, a callback sample and a callback
    task = call("POST", "/api/v1/visit-tasks", reviewer_h, json={
        "squad_id": squad["id"], "method": "in_disguise", "target": {"unit_id": window["id"]},
        "theme": "登记窗口办事效率", "window_start": (now - timedelta(days=2)).isoformat(),
        "window_end": (now + timedelta(days=5)).isoformat()})
    ids["task_id"] = task["id"]
    visit = call("POST", "/api/v1/visits", monitor_h, json={
        "id": str(uuid.uuid4()), "device_time": (now - timedelta(hours=1)).isoformat(), "task_id": task["id"],
        "started_at": (now - timedelta(hours=3)).isoformat(), "ended_at": (now - timedelta(hours=2)).isoformat(),
        "narrative": "三号窗口工作人员离岗约二十分钟。",
        "location": {"type": "Point", "coordinates": [106.51, 29.50], "accuracy_m": 15}})
    ids["visit_id"] = visit["id"]
    finding = call("POST", "/api/v1/findings", monitor_h, json={
        "id": str(uuid.uuid4()), "device_time": (now - timedelta(hours=1)).isoformat(), "category": "absent_from_post",
        "severity": "moderate", "unit_id": window["id"], "person_id": person["id"], "visit_id": visit["id"],
        "occurred_at": (now - timedelta(hours=2, minutes=30)).isoformat(), "description": "工作时间离岗二十分钟。",
        "location": {"type": "Point", "coordinates": [106.51, 29.50], "accuracy_m": 15}})
    ids["finding_id"] = ids["record_id"] = finding["id"]
    photo_marker = f"EXIFCANARY-{uuid.uuid4().hex[:12]}"
    photo = marked_photo(photo_marker)
    boundary, body = encode_multipart({"record_id": finding["id"], "kind": "photo",
                                       "file": FileStorage(io.BytesIO(photo), "IMG_0001.jpg")})
    uploaded = call("POST", "/api/v1/evidence", monitor_h, data=body,
                    content_type=f"multipart/form-data; boundary={boundary}")
    call("POST", f"/api/v1/records/{finding['id']}/comments", reviewer_h, json={"body": "请补充照片。"})
    call("POST", f"/api/v1/records/{visit['id']}/review", reviewer_h, json={"state": "accepted", "comment": "属实"})

    csv = ("case_no,unit,service,completed_on,applicant_name,applicant_contact\n"
           + "".join(f"JLP-{i:05d},区市场监督管理局,营业执照变更,{today - timedelta(days=10)},申请人{i},139{i:08d}\n"
                     for i in range(1, 7))).encode()
    batch = call("POST", "/api/v1/callback-batches", {**reviewer_h, "Content-Type": "text/csv"}, data=csv)
    ids["batch_id"] = batch["id"]
    sample = call("POST", f"/api/v1/callback-batches/{batch['id']}/samples", reviewer_h, json={"size": 3, "seed": 7})
    ids["sample_id"] = sample["id"]
    call("POST", "/api/v1/visit-tasks", reviewer_h, json={
        "squad_id": squad["id"], "method": "callback", "target": {"sample_id": sample["id"]}, "theme": "办件回访",
        "window_start": (now - timedelta(days=2)).isoformat(), "window_end": (now + timedelta(days=5)).isoformat()})
    drawn = call("GET", f"/api/v1/callback-samples/{sample['id']}/cases", reviewer_h)["items"][0]
    callback = call("POST", "/api/v1/callbacks", monitor_h, json={
        "id": str(uuid.uuid4()), "device_time": now.isoformat(), "case_id": drawn["id"],
        "called_at": (now - timedelta(minutes=30)).isoformat(), "reached": True, "satisfied": False,
        "problem": "办事人员要求多次补交材料"})
    ids["callback_id"] = callback["id"]

    # a liaison's report, a leader's visit
    report = call("POST", "/api/v1/reports", liaison_h, json={
        "id": str(uuid.uuid4()), "device_time": now.isoformat(), "report_type": "enforcement_visit",
        "unit_id": bureau["id"], "visited_on": str(today), "officers": "两名执法人员", "filing_shown": False})
    ids["report_id"] = report["id"]
    leader_visit = call("POST", "/api/v1/leader-visits", leader_h, json={
        "id": str(uuid.uuid4()), "device_time": now.isoformat(), "point_id": point["id"],
        "visited_at": (now - timedelta(hours=1)).isoformat(), "notes": "座谈",
        "location": {"type": "Point", "coordinates": [106.5286, 29.5026], "accuracy_m": 12}})
    ids["leader_visit_id"] = leader_visit["id"]

    # an inspector's filing, a compulsory measure and an inspection record
    filing = call("POST", "/api/v1/inspection-filings", inspector_h, json={
        "id": str(uuid.uuid4()), "device_time": now.isoformat(), "filing_kind": "statutory_exempt",
        "enterprise_ids": [enterprise["id"]], "purpose": "安全生产检查", "legal_basis": "《安全生产法》",
        "exemption_basis": "《安全生产法》第六十五条", "planned_start": str(today),
        "planned_end": str(today + timedelta(days=2))})
    ids["filing_id"] = filing["id"]
    measure = call("POST", "/api/v1/compulsory-measures", inspector_h, json={
        "enterprise_id": enterprise["id"], "measure": "sealing", "reason": "疑似存放不合格产品"})
    ids["measure_id"] = measure["id"]
    call("POST", f"/api/v1/compulsory-measures/{measure['id']}/decision", reviewer_h,
         json={"state": "approved", "note": "同意"})
    inspection = call("POST", "/api/v1/inspection-records", inspector_h, json={
        "id": str(uuid.uuid4()), "device_time": now.isoformat(), "enterprise_id": enterprise["id"],
        "filing_id": filing["id"], "location": {"type": "Point", "coordinates": [106.5286, 29.5026], "accuracy_m": 10},
        "checked": "安全生产台账", "found": "", "measure": "none"})
    ids["inspection_id"] = inspection["id"]

    complainant_phone = "13987654321"
    # an accountability case from the finding and a complaint, with a subject, a delay notice, a notice
    case = call("POST", "/api/v1/cases", reviewer_h, json={
        "kind": "efficiency_complaint", "title": "登记窗口离岗", "source_record_ids": [finding["id"]],
        "complaint": {"channel": "phone", "received_at": (now - timedelta(days=1)).isoformat(),
                      "text": "窗口人员离岗", "complainant_name": f"投诉人{marker}",
                      "complainant_contact": f"{marker}@example.cn {complainant_phone}"},
        "subjects": [{"person_id": person["id"]}]})
    ids["case_id"] = case["id"]
    subject = call("POST", f"/api/v1/cases/{case['id']}/subjects", reviewer_h, json={"unit_id": window["id"]})
    ids["subject_id"] = subject["id"]
    call("POST", f"/api/v1/cases/{case['id']}/delay-notices", reviewer_h, json={
        "reason": "需调取市级数据", "new_deadline": str(today + timedelta(days=90))})
    for step in ("investigating", "deciding"):
        call("POST", f"/api/v1/cases/{case['id']}/transitions", reviewer_h, json={"to": step})
    call("POST", f"/api/v1/cases/{case['id']}/dispositions", reviewer_h, json={
        "kind": "disciplinary_sanction", "person_id": person["id"], "sanction_system": "administrative",
        "grade": "demerit", "decided_on": str(today), "authority": "区监委"})
    call("POST", f"/api/v1/cases/{case['id']}/notices", reviewer_h, json={
        "text": "对区市场监督管理局三号窗口工作人员离岗问题予以通报。", "issued_on": str(today)})
    rater_phone = "13755554444"
    _evaluations(app, call, reviewer_h, inspector_h, ids, bureau, window, marker, rater_phone, today)
    # approvals: a matter, a case refused past its limit (red and no-notice alerts), its notice, attached to
    # the complaint's case
    matter = call("POST", "/api/v1/approval-matters", admin_h, json={
        "code": "QX-001", "name": "建设工程规划许可", "unit_id": window["id"], "legal_limit_days": 20,
        "promised_limit_days": 2})
    ids["matter_id"] = matter["id"]
    accepted, done = now - timedelta(days=20), now - timedelta(days=1)
    call("POST", "/api/v1/approvals/events", admin_h, json={"source_system": "qx", "events": [
        {"case_number": "QX-2026-0001", "seq": 1, "type": "accepted", "at": accepted.isoformat(),
         "matter_code": "QX-001", "applicant": "重庆某某建设有限公司"},
        {"case_number": "QX-2026-0001", "seq": 2, "type": "step_started", "at": accepted.isoformat(),
         "step": "review", "step_name": "规划审查", "unit_id": window["id"], "parallel_group": 1},
        {"case_number": "QX-2026-0001", "seq": 3, "type": "suspended", "at": (accepted + timedelta(days=1)).isoformat(),
         "reason": "补正材料"},
        {"case_number": "QX-2026-0001", "seq": 4, "type": "resumed", "at": (accepted + timedelta(days=3)).isoformat()},
        {"case_number": "QX-2026-0001", "seq": 5, "type": "completed", "at": done.isoformat(), "outcome": "refused"}]})
    approval = call("GET", "/api/v1/approval-cases", reviewer_h)["items"][0]
    ids["approval_case_id"] = approval["id"]
    notice = call("POST", f"/api/v1/approval-cases/{approval['id']}/notices", reviewer_h, json={
        "kind": "refusal", "reason": "规划图纸与现场不符", "handler_name": "王经办", "issued_on": str(today)})
    ids["notice_id"] = notice["id"]
    call("POST", f"/api/v1/approval-notices/{notice['id']}/complaint", reviewer_h, json={"case_id": case["id"]})
    ids["alert_id"] = call("GET", "/api/v1/approval-alerts", reviewer_h, query_string={"level": "red"}
                           )["items"][0]["id"]
    # a unit head's commitment letter, published, its item checked as not kept with the photo as evidence
    letter = call("POST", "/api/v1/commitment-letters", reviewer_h, json={
        "person_id": person["id"], "year": today.year, "title": "年度服务承诺书",
        "items": [{"promise": "窗口办件一次办结", "target": "一次办结率 ≥ 95%", "due_on": f"{today.year}-12-31"}]})
    ids["letter_id"], ids["item_id"] = letter["id"], letter["items"][0]["id"]
    call("POST", f"/api/v1/commitment-letters/{letter['id']}/publication", reviewer_h, json={
        "published_on": str(today), "channel": "television"})
    call("POST", f"/api/v1/commitment-items/{letter['items'][0]['id']}/checks", reviewer_h, json={
        "verdict": "not_kept", "note": "抽查未兑现", "checked_on": str(today), "evidence": [uploaded["sha256"]]})
    # a key project served by the leader as its secretary, with a problem raised by the leader
    project = call("POST", "/api/v1/key-projects", admin_h, json={
        "name": "西部物流园二期", "investment_10k": "150000", "stage": "landed", "enterprise_id": enterprise["id"],
        "location": {"type": "Point", "coordinates": [106.52, 29.51]}})
    ids["project_id"] = project["id"]
    call("POST", "/api/v1/service-assignments", admin_h, json={
        "official_id": str(users[Role.leader]), "role": "secretary", "campaign": "365",
        "starts_on": str(today - timedelta(days=30)), "project_id": project["id"]})
    problem = call("POST", f"/api/v1/key-projects/{project['id']}/problems", leader_h, json={
        "category": "procedures", "source": "official", "description": "施工许可卡在消防审验",
        "unit_ids": [window["id"]], "limit_days": 5})
    ids["problem_id"] = problem["id"]
    # the leader's site visit to the project, with a photo (the marked one: its EXIF must not leak either), the
    # district's own obligation for secretaries, and a problem of an enterprise outside any project
    call("PUT", "/api/v1/visit-obligations", admin_h, json={"role": "secretary", "visits": 2, "per": "week"})
    service_visit = call("POST", "/api/v1/service-visits", leader_h, json={
        "id": str(uuid.uuid4()), "device_time": now.isoformat(), "project_id": project["id"],
        "visited_at": (now - timedelta(hours=2)).isoformat(), "notes": "现场查看土建进度",
        "location": {"type": "Point", "coordinates": [106.5201, 29.5102], "accuracy_m": 10}})
    ids["service_visit_id"] = service_visit["id"]
    boundary, body = encode_multipart({"record_id": service_visit["id"], "kind": "photo",
                                       "file": FileStorage(io.BytesIO(photo), "IMG_0003.jpg")})
    call("POST", "/api/v1/evidence", leader_h, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    call("POST", "/api/v1/service-assignments", admin_h, json={
        "official_id": str(users[Role.leader]), "role": "department_head", "campaign": "double_hundred",
        "starts_on": str(today - timedelta(days=30)), "enterprise_id": enterprise["id"]})
    call("POST", f"/api/v1/enterprises/{enterprise['id']}/problems", leader_h, json={
        "category": "funding", "source": "official", "description": "流动资金贷款未落实",
        "unit_ids": [window["id"]], "limit_days": 10})
    _complaint(call, ids, headers, marker, complainant_phone, window["id"], users[Role.handler])
    ids["kind"] = "efficiency_complaint"
    ids["sha256"] = uploaded["sha256"]
    ids["name"] = "thumb"
    ids["slug"] = "not-found"

    ids["upload_id"] = _tus_upload(call, monitor_h, finding["id"])
    ids["checkpoint_id"] = _checkpoint(app)
    app.extensions["ENGINE"].dispose()
    if session_factory is not None:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "district", "EVIDENCE_DIR": evidence_dir},
                         session_factory=session_factory)
    role_of = {h["Authorization"]: role for role, h in headers.items()}
    # The public's writes (no token) are the public's: scanned with the rest, under no role.
    answers = [(role_of.get(auth), method, url, status, data) for auth, method, url, status, data in call.log
               if auth in role_of]
    return District(app, marker, (phone, complainant_phone, rater_phone), photo_marker, headers, users, ids, uploaded["sha256"],
                    photo, answers)


def _evaluations(app, call, reviewer_h, inspector_h, ids, bureau, window, marker, rater_phone, today) -> None:
    """A campaign over the bureau and its window, a real-name citizen's bad rating of the window (through the public
    ballot, which takes no account), the bureau's inspector's answer to it."""
    questionnaire = call("POST", "/api/v1/questionnaires", reviewer_h, json={"title": "企业评议问卷", "questions": [
        {"name": "overall", "type": "grade5", "required": True, "label": {"zh": "总体满意度", "en": "Overall"}},
        {"name": "comment", "type": "text", "label": {"zh": "意见建议"}}]})
    ids["questionnaire_id"] = questionnaire["id"]
    campaign = call("POST", "/api/v1/evaluation-campaigns", reviewer_h, json={
        "kind": "thousand", "title": f"{today.year}年千人评", "opens_on": str(today - timedelta(days=30)),
        "closes_on": str(today + timedelta(days=30)), "questionnaire_id": questionnaire["id"],
        "targets": [{"unit_id": bureau["id"]}, {"unit_id": window["id"]}]})
    ids["campaign_id"] = campaign["id"]
    call("POST", f"/api/v1/evaluation-campaigns/{campaign['id']}/open", reviewer_h)
    invitation = call("POST", f"/api/v1/evaluation-campaigns/{campaign['id']}/invitations", reviewer_h, json={
        "target_id": campaign["targets"][1]["id"],
        "rater": {"kind": "citizen", "name": f"评议人{marker}", "phone": rater_phone}})["items"][0]
    ids["invitation_id"] = invitation["id"]
    cast = app.test_client().post("/api/v1/ballots", json={"code": invitation["code"], "answers": {
        "overall": 1, "comment": "窗口让我跑了三趟"}})
    if cast.status_code != 201:
        raise RuntimeError(f"building the district: the ballot answered {cast.status_code}: {cast.get_data()[:300]}")
    item = call("GET", "/api/v1/rectifications", reviewer_h)["items"][0]
    ids["rectification_id"] = item["id"]
    call("POST", f"/api/v1/rectifications/{item['id']}/answer", inspector_h, json={"text": "已整改并当面致歉。"})


def _complaint(call, ids, headers, marker, phone, unit_id, handler_id) -> None:
    """A hotline call whose caller's name and number carry the marker, walked to a callback by every role
    that works on it; and one filed by the public with the marker in its contact."""
    admin_h, reviewer_h = headers[Role.admin], headers[Role.reviewer]
    operator_h, handler_h = headers[Role.operator], headers[Role.handler]
    call("PUT", f"/api/v1/complaint-handlers/{handler_id}", admin_h, json={"unit_id": unit_id})
    filed = call("POST", "/api/v1/complaints", operator_h, json={
        "category": "obstruction", "text": "窗口推诿，来回跑了三次", "caller_name": f"钱{marker}",
        "callback_number": phone, "unit_id": unit_id})
    ids["complaint_id"] = filed["id"]
    url = f"/api/v1/complaints/{filed['id']}"
    call("POST", f"{url}/triage", reviewer_h, json={"decision": "accept"})
    call("POST", f"{url}/dispatch", reviewer_h, json={"unit_id": unit_id})
    call("POST", f"{url}/respond", handler_h, json={})
    call("POST", f"{url}/answer", handler_h, json={"text": "已整改", "resolved": True})
    call("POST", f"{url}/callbacks", operator_h, json={"reached": True, "resolved": True, "rating": "satisfied"})
    call("POST", "/api/v1/public/complaints", {}, json={
        "category": "rude_service", "text": "态度差", "name": f"孙{marker}", "contact": f"{marker}@example.cn",
        "jurisdiction_code": "500107"})


def _enterprise(call, admin_h):
    body = "77001234"
    first17 = "91500107" + body + _organization_check_character(body)
    return call("POST", "/api/v1/enterprises", admin_h, json={
        "name": "重庆九龙精密机械有限公司", "credit_code": first17 + _check_character(first17),
        "location": {"type": "Point", "coordinates": [106.5286, 29.5026]}, "contact_name": "周经理",
        "contact_phone": "02368000000"})


def _checkpoint(app) -> str:
    """A signed checkpoint of the custody log, as `fieldwatch checkpoint` makes it (no endpoint makes one)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from field.custody import checkpoints
    from field.custody.notes import Signer

    with app.extensions["SESSION_FACTORY"]() as s:
        row = checkpoints.make_checkpoint(s, Signer.from_private_key("district.example/custody",
                                                                     Ed25519PrivateKey.generate()))
        s.commit()
        return str(row.id)


def _tus_upload(call, headers, record_id) -> str:
    """An unfinished tus upload of the monitor's (its id is the last part of Location)."""
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in
                    {"record_id": record_id, "kind": "photo", "filename": "IMG_0002.jpg"}.items())
    resp = call.client.post("/api/v1/uploads", headers={**headers, "Tus-Resumable": "1.0.0", "Upload-Length": "1000",
                                                        "Upload-Metadata": meta})
    if resp.status_code != 201:
        raise RuntimeError(f"building the district: tus POST answered {resp.status_code}: {resp.get_data(as_text=True)}")
    return resp.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
