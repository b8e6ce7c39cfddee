"""The authorization matrix's world: two districts, two of each circle in the home one, an object per relation.

Relations (tests/authz_policy.py reads them as columns), for an object seen by a caller of a role:

- ``own``: in the caller's own circle: their own record or upload, their squad's, their point's, their
  unit's; for office staff and for resources without a circle, an object of the home district;
- ``peer``: the same circle, another person's (a squad mate's finding, a co-liaison's report, a
  colleague's filing in the same unit, a case handled by another reviewer);
- ``sibling``: another circle of the same district (the other squad, the other point, the other unit);
- ``foreign``: the other district.

The callers are the home district's users named after their roles. Each of the other circles' people
exists too, so that ``peer``, ``sibling`` and ``foreign`` objects are real ones made the real way.
The home point is covert, the sibling point open: the covert rule is exercised from both sides.
"""

from __future__ import annotations

import base64
import io
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from field.accounts import users as accounts, jurisdictions
from field.core import calendar
from field.visits import callbacks, findings, taxonomy, visits
from field.cases import lifecycle as cases
from field.directory import enterprises, monitoring, squads, units
from field.core.office import office_today
from field.filings import filings, inspections, inspectors, measures
from field.reports import leader_visits, reports
from field.records import lifecycle as records
from field.core.locations import GivenLocation
from field.core.models.platform import JurisdictionLevel, Role, User
from field.core.models.records import ReviewState
from field.visits.models import TaskMethod
from field.directory.models import UnitKind
from field.core.models.base import utcnow
from tests import corpus
from tests.authz_kinds import contributions
from tests.directory_fixtures import credit_code
from tests.visits_fixtures import cases_csv

PASSWORD = "correct horse battery"
RELATIONS = ("own", "peer", "sibling", "foreign")
CST = timezone(timedelta(hours=8))
_CORPUS = corpus.PHOTOS
#: Small real photos, a different one per record (the same photo twice would be flagged as reused).
PHOTOS = sorted((_CORPUS / "orientation").glob("*.jpg")) + sorted((_CORPUS / "noexif").glob("*.jpg"))

#: The callers: one user of each role in the home district.
CALLERS = {
    Role.admin: "admin", Role.reviewer: "reviewer", Role.inspector: "inspector",
    Role.squad_member: "alice", Role.liaison: "liaison", Role.leader: "leader",
}


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 5, day, hour, 0, tzinfo=CST)


@dataclass
class World:
    users: dict[str, User] = field(default_factory=dict)
    headers: dict[str, dict] = field(default_factory=dict)
    devices: dict[str, uuid.UUID] = field(default_factory=dict)
    #: (parameter name, relation) → id, for objects every caller sees the same.
    ids: dict[tuple[str, str], object] = field(default_factory=dict)
    #: (parameter name, relation, caller name) → id, for objects relative to the caller (records, uploads).
    mine: dict[tuple[str, str, str], object] = field(default_factory=dict)
    #: Anything else the bodies need (units, persons, cases' evidence, a free sample...).
    extra: dict[str, object] = field(default_factory=dict)

    def id(self, param: str, relation: str, role: Role | None = None):
        """The object for ``param`` in ``relation`` to a caller of ``role``; None when there is none."""
        if role is not None and (param, relation, CALLERS[role]) in self.mine:
            return self.mine[(param, relation, CALLERS[role])]
        return self.ids.get((param, relation))


def _receipt(user: User) -> records.Receipt:
    return records.Receipt(user, None, None)


def _needs_info(session, reviewer: User, record) -> None:
    records.review(session, reviewer, record, ReviewState.needs_info, "请补充。")


class _Builder:
    """Builds the world in ``session`` (committed as it goes: the caller's outer transaction holds it)."""

    def __init__(self, session, client):
        self.s, self.client, self.w = session, client, World()
        self.photos = iter(PHOTOS[:-1])

    # -- people -----------------------------------------------------------------------------------

    def user(self, name: str, role: Role, jurisdiction) -> User:
        user = accounts.create_user(self.s, actor=None, username=f"authz-{name}", password=PASSWORD,
                                    display_name=name, role=role, jurisdiction_id=jurisdiction.id)
        self.w.users[name] = user
        return user

    def monitor(self, name: str, admin: User, squad) -> User:
        member = squads.enlist(self.s, admin, squad, real_name=f"真名{name}", phone="13800000000", password=PASSWORD)
        self.s.flush()
        user = self.s.get(User, member.user_id)
        self.w.users[name] = user
        return user

    def tokens(self) -> None:
        for name, user in self.w.users.items():
            issued = accounts.issue_token(self.s, user, f"{name} phone", timedelta(days=1))
            self.w.headers[name] = {"Authorization": f"Bearer {issued.token}"}
            self.w.devices[name] = issued.device.id
        for caller in CALLERS.values():
            self.w.mine[("device_id", "own", caller)] = self.w.devices[caller]
        self.w.ids[("device_id", "peer")] = self.w.devices["reviewer_b"]
        self.w.ids[("device_id", "foreign")] = self.w.devices["f_admin"]
        # An enrollment code for every caller's account, made by its district's admin: each cell of
        # POST /auth/enroll spends one inside its savepoint, which is rolled back after it.
        from field.accounts import enrollment

        codes = self.w.extra.setdefault("enroll_codes", {})
        for caller in CALLERS.values():
            user = self.w.users[caller]
            admin = self.w.users["admin" if user.jurisdiction_id == self.w.users["admin"].jurisdiction_id
                                 else "f_admin"]
            codes[caller] = enrollment.create_code(self.s, admin, user, timedelta(minutes=30)).code

    # -- the build --------------------------------------------------------------------------------

    def build(self) -> World:
        s, w = self.s, self.w
        taxonomy.seed_categories(s)
        tree = self.jurisdictions()
        home, other = tree["home"], tree["other"]
        for side, j in (("home", home), ("foreign", other)):
            d = self.district(side, j)
            w.extra[side] = d
        self.tokens()
        s.commit()
        self.records()
        for share in contributions().values():  # record kinds' own objects (tests/authz_kinds.py)
            if share.build is not None:
                share.build(self)
        s.commit()
        self.approvals()
        s.commit()
        self.evidence()
        s.commit()
        self.checkpoint()
        s.commit()
        self.evaluations()
        s.commit()
        return w

    def evaluations(self) -> None:
        """A campaign per district over its unit A (and the home one's unit B), each with bad ratings whose items
        stand open and overdue (the base ones), answered (for the verification) and appealed (for the decision);
        and an unused counter code (the public ballot)."""
        from field.evaluations import ballots, campaigns, questionnaires, rectifications
        from field.evaluations.campaigns import RaterInput
        from field.evaluations.models import RaterKind

        s, w = self.s, self.w
        today = office_today()
        questions = [{"name": "overall", "type": "grade5", "required": True, "label": {"zh": "总体满意度"}}]
        for side in ("home", "foreign"):
            d = w.extra[side]
            rel = "own" if side == "home" else "foreign"
            q = questionnaires.create_questionnaire(s, d["reviewer"], title="问卷", questions=questions)
            named = [d["unit_a"]] + ([d["unit_b"]] if side == "home" else [])
            campaign = campaigns.create_campaign(
                s, d["reviewer"], kind="thousand", title="千人评", opens_on=today - timedelta(days=30),
                closes_on=today + timedelta(days=30), questionnaire_id=q.id,
                targets=[{"unit_id": u.id} for u in named])
            campaigns.open_campaign(s, d["reviewer"], campaign)
            w.ids[("questionnaire_id", rel)], w.ids[("campaign_id", rel)] = q.id, campaign.id
            for target, trel in zip(campaign.targets, (rel, "sibling")):
                made = {}
                for stage in ("", "@answered", "@appealed"):
                    invitation, = campaigns.issue_invitations(s, d["reviewer"], campaign, target_id=target.id,
                                                              rater=RaterInput(RaterKind.citizen, name="评议人"))
                    item = ballots.cast(s, invitation.code, {"overall": 1}).rectification
                    item.due_on = today - timedelta(days=1)  # overdue: it may become a case
                    if stage == "@answered":
                        rectifications.answer(s, d["reviewer"], item, text="已整改")
                    elif stage == "@appealed":
                        rectifications.appeal(s, d["reviewer"], item, reason="误评")
                    w.ids[(f"rectification_id{stage}", trel)] = item.id
                    made[stage] = invitation
                if trel in ("own", "foreign"):
                    w.ids[("invitation_id", trel)] = made[""].id
                    w.extra[f"eval_target_{trel}"] = target.id
            if side == "home":
                spare, = campaigns.issue_invitations(s, d["reviewer"], campaign, target_id=campaign.targets[0].id,
                                                     rater=RaterInput(RaterKind.counter))
                w.extra["ballot_code"] = spare.code

    def checkpoint(self) -> None:
        """A signed checkpoint of the custody log. Checkpoints are deployment-wide: no district has one
        of its own, so the "foreign" one is an id that does not exist."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        from field.custody import checkpoints
        from field.custody.notes import Signer

        signer = Signer.from_private_key("authz.example/custody", Ed25519PrivateKey.generate())
        self.w.ids[("checkpoint_id", "own")] = checkpoints.make_checkpoint(self.s, signer).id
        self.w.ids[("checkpoint_id", "foreign")] = uuid.uuid4()

    def jurisdictions(self) -> dict:
        def add(code, name, level, parent=None):
            return jurisdictions.create_jurisdiction(self.s, actor=None, code=code, name=name, level=level,
                                                     parent_id=parent.id if parent else None)

        province = add("500000", "重庆市", JurisdictionLevel.province)
        city = add("500100", "重庆市市辖区", JurisdictionLevel.city, province)
        home = add("500107", "九龙坡区", JurisdictionLevel.district, city)
        other = add("500103", "渝中区", JurisdictionLevel.district, city)
        street = add("500107001", "杨家坪街道", JurisdictionLevel.street, home)
        self.w.ids.update({("jurisdiction_id", "own"): home.id, ("jurisdiction_id", "sibling"): street.id,
                           ("jurisdiction_id", "foreign"): other.id})
        self.w.extra["street"] = street
        return {"home": home, "other": other}

    def district(self, side: str, j) -> dict:
        """The people and directory of one district; the home one gets every circle twice."""
        s, w = self.s, self.w
        home = side == "home"
        division = "500107" if home else "500103"
        p = "" if home else "f_"  # the foreign district's people: f_admin, f_inspector...
        admin = self.user(f"{p}admin", Role.admin, j)
        reviewer = self.user(f"{p}reviewer", Role.reviewer, j)
        unit_a = units.create_unit(s, admin, name=f"{j.name}市场监管局", kind=UnitKind.department,
                                   location=GivenLocation(106.51, 29.50))
        person_a = units.create_person(s, admin, unit_id=unit_a.id, name=f"{j.name}张科长")
        inspector = self.user(f"{p}inspector", Role.inspector, j)
        inspectors.assign_unit(s, admin, inspector.id, unit_a.id)
        squad_1 = squads.create_squad(s, admin, name=f"{j.name}第一小分队", code_prefix="JLA" if home else "YZA")
        alice = self.monitor("alice" if home else "f_monitor", admin, squad_1)
        ent_1 = enterprises.create_enterprise(s, admin, name=f"{j.name}秘密监测企业", credit_code=credit_code(
            division=division), location=GivenLocation(106.52, 29.51))
        ent_plain = enterprises.create_enterprise(s, admin, name=f"{j.name}普通企业", credit_code=credit_code(
            division=division), location=GivenLocation(106.53, 29.52))
        liaison = self.user(f"{p}liaison", Role.liaison, j)
        leader = self.user(f"{p}leader", Role.leader, j)
        point_1 = monitoring.create_point(s, admin, enterprise_id=ent_1.id, covert=home, liaison_ids=[liaison.id],
                                          leader_id=leader.id, visit_frequency="monthly", active_from=date(2025, 1, 1))
        override = calendar.add_override(s, admin, day=date(2026, 12, 1), working=False)
        category = taxonomy.create_category(s, admin, code=f"{side}_only", label_zh="本区", label_en="Local")
        d = dict(j=j, admin=admin, reviewer=reviewer, unit_a=unit_a, person_a=person_a, inspector=inspector,
                 squad_1=squad_1, alice=alice, ent_1=ent_1, ent_plain=ent_plain, liaison=liaison, leader=leader,
                 point_1=point_1)
        rel = "own" if home else "foreign"
        w.ids.update({
            ("unit_id", rel): unit_a.id, ("person_id", rel): person_a.id, ("enterprise_id", rel): ent_1.id,
            ("point_id", rel): point_1.id, ("squad_id", rel): squad_1.id, ("override_id", rel): override.id,
            ("category_id", rel): category.id, ("user_id", rel): inspector.id,
        })
        if home:
            unit_b = units.create_unit(s, admin, name="区住建委", kind=UnitKind.department)
            person_b = units.create_person(s, admin, unit_id=unit_b.id, name="李科员")
            inspector_b = self.user("inspector_b", Role.inspector, j)  # unit A, a colleague
            inspector_c = self.user("inspector_c", Role.inspector, j)  # unit B
            inspectors.assign_unit(s, admin, inspector_b.id, unit_a.id)
            inspectors.assign_unit(s, admin, inspector_c.id, unit_b.id)
            bob = self.monitor("bob", admin, squad_1)
            squad_2 = squads.create_squad(s, admin, name="第二小分队", code_prefix="JLB")
            carol = self.monitor("carol", admin, squad_2)
            ent_2 = enterprises.create_enterprise(s, admin, name="公开监测企业", credit_code=credit_code(
                division=division), location=GivenLocation(106.54, 29.53))
            liaison_b = self.user("liaison_b", Role.liaison, j)  # point 1, a co-liaison
            liaison_c = self.user("liaison_c", Role.liaison, j)  # point 2
            leader_c = self.user("leader_c", Role.leader, j)  # point 2
            monitoring.update_point(s, admin, point_1, {"liaison_ids": [liaison.id, liaison_b.id]})
            point_2 = monitoring.create_point(s, admin, enterprise_id=ent_2.id, covert=False,
                                              liaison_ids=[liaison_c.id], leader_id=leader_c.id,
                                              visit_frequency="monthly", active_from=date(2025, 1, 1))
            reviewer_b = self.user("reviewer_b", Role.reviewer, j)
            d.update(unit_b=unit_b, person_b=person_b, inspector_b=inspector_b, inspector_c=inspector_c, bob=bob,
                     squad_2=squad_2, carol=carol, ent_2=ent_2, liaison_b=liaison_b, liaison_c=liaison_c,
                     leader_c=leader_c, point_2=point_2, reviewer_b=reviewer_b)
            w.ids.update({
                ("unit_id", "sibling"): unit_b.id, ("person_id", "sibling"): person_b.id,
                ("enterprise_id", "sibling"): ent_plain.id, ("point_id", "sibling"): point_2.id,
                ("squad_id", "sibling"): squad_2.id, ("user_id", "peer"): inspector_b.id,
                ("user_id", "sibling"): inspector_c.id,
            })
        return d

    # -- records ----------------------------------------------------------------------------------

    def records(self) -> None:
        """Every kind of record, one per relation; the kind endpoints' ones wait in needs_info."""
        s, w = self.s, self.w
        h, f = w.extra["home"], w.extra["foreign"]
        # Who submits, per relation, for each kind of record.
        monitors = {"own": (h["alice"], h["squad_1"], h), "peer": (h["bob"], h["squad_1"], h),
                    "sibling": (h["carol"], h["squad_2"], h), "foreign": (f["alice"], f["squad_1"], f)}
        filers = {"own": (h["inspector"], h), "peer": (h["inspector_b"], h), "sibling": (h["inspector_c"], h),
                  "foreign": (f["inspector"], f)}
        liaisons = {"own": (h["liaison"], h["point_1"], h), "peer": (h["liaison_b"], h["point_1"], h),
                    "sibling": (h["liaison_c"], h["point_2"], h), "foreign": (f["liaison"], f["point_1"], f)}
        leaders = {"own": (h["leader"], h["point_1"], h), "sibling": (h["leader_c"], h["point_2"], h),
                   "foreign": (f["leader"], f["point_1"], f)}
        # Office work: tasks, batches and samples, assigned to each squad.
        tasks, samples, cases_of = {}, {}, {}
        for rel, squad, d in [("own", h["squad_1"], h), ("sibling", h["squad_2"], h), ("foreign", f["squad_1"], f)]:
            tasks[rel] = visits.create_task(s, d["admin"], squad_id=squad.id, method=TaskMethod.in_disguise,
                                            target={"unit_id": d["unit_a"].id}, theme="窗口办事效率",
                                            window_start=at(11, 8), window_end=at(15, 18))
            start = {"own": 1, "sibling": 100, "foreign": 900}[rel]
            batch, _ = callbacks.import_batch(s, d["reviewer"], cases_csv(4, start=start), name=f"{rel}办件")
            sample = callbacks.draw_sample(s, d["reviewer"], batch, size=3, seed=7)
            visits.create_task(s, d["reviewer"], squad_id=squad.id, method=TaskMethod.callback,
                               target={"sample_id": sample.id}, theme="回访", window_start=at(11, 8),
                               window_end=at(22, 18))
            cases_of[rel] = list(s.execute(callbacks.sample_cases_query(sample.id)).scalars())
            samples[rel] = sample
            w.ids[("task_id", rel)] = tasks[rel].id
            w.ids[("sample_id", rel)] = sample.id
            if rel != "sibling":
                w.ids[("batch_id", rel)] = batch.id
        # A batch with a sample nobody has been given yet: the office's new tasks take it.
        free_batch, _ = callbacks.import_batch(s, h["reviewer"], cases_csv(3, start=200), name="未分配")
        w.extra["free_sample"] = callbacks.draw_sample(s, h["reviewer"], free_batch, size=2, seed=3).id
        w.extra["tasks"], w.extra["cases_of"] = tasks, cases_of
        cases_of["peer"] = cases_of["own"]
        tasks["peer"] = tasks["own"]

        for rel, (user, squad, d) in monitors.items():
            r = _receipt(user)
            visit = visits.record_visit(s, r, {
                "id": uuid.uuid4(), "device_time": at(12), "task_id": tasks[rel].id, "members": [],
                "started_at": at(12, 9), "ended_at": at(12, 10), "location": None, "narrative": "窗口离岗。",
                "declared_attachments": []}).record
            finding = findings.record_finding(s, r, self.finding_values(d, visit_id=visit.id)).record
            call = callbacks.record_callback(s, r, {
                "id": uuid.uuid4(), "device_time": at(13), "case_id": cases_of[rel][0 if rel != "peer" else 1].id,
                "called_at": at(13), "reached": True, "satisfied": False, "problem": "不满意"}).record
            generic = findings.record_finding(s, r, self.finding_values(d)).record
            for record in (visit, finding, call):
                _needs_info(s, d["reviewer"], record)
            w.ids.update({("visit_id", rel): visit.id, ("finding_id", rel): finding.id,
                          ("callback_id", rel): call.id})
            for role in (Role.admin, Role.reviewer, Role.squad_member):
                w.mine[("record_id", rel, CALLERS[role])] = generic.id
            w.extra[f"generic_finding_{rel}"] = (user, generic)

        today = office_today()
        for rel, (user, d) in filers.items():
            r = _receipt(user)
            filing = filings.file_inspection(s, r, uuid.uuid4(), {
                "device_time": utcnow(), "filing_kind": "statutory_exempt", "enterprise_ids": [d["ent_plain"].id],
                "purpose": "安全生产检查", "legal_basis": "《安全生产法》", "exemption_basis": "《安全生产法》第六十五条",
                "planned_start": today, "planned_end": today + timedelta(days=30)}, today=today).record
            inspection = inspections.record_inspection(s, r, uuid.uuid4(), self.inspection_values(d),
                                                       far_threshold_m=300.0).record
            generic = inspections.record_inspection(s, r, uuid.uuid4(), self.inspection_values(d),
                                                    far_threshold_m=300.0).record
            measure = measures.request_measure(s, user, enterprise_id=d["ent_plain"].id, measure="sealing",
                                                  reason="查封")
            for record in (filing, inspection):
                _needs_info(s, d["reviewer"], record)
            w.ids.update({("filing_id", rel): filing.id, ("inspection_id", rel): inspection.id,
                          ("measure_id", rel): measure.id})
            w.mine[("record_id", rel, "inspector")] = generic.id
            w.extra[f"generic_inspection_{rel}"] = (user, generic)

        for rel, (user, point, d) in liaisons.items():
            r = _receipt(user)
            report = reports.submit_report(s, r, uuid.uuid4(), report_type="suggestion", device_time=at(12),
                                           point_id=point.id, text="建议").record
            generic = reports.submit_report(s, r, uuid.uuid4(), report_type="suggestion", device_time=at(12),
                                            point_id=point.id, text="另一个建议").record
            _needs_info(s, d["reviewer"], report)
            w.ids[("report_id", rel)] = report.id
            w.mine[("record_id", rel, "liaison")] = generic.id
            w.extra[f"generic_report_{rel}"] = (user, generic)

        for rel, (user, point, d) in leaders.items():
            r = _receipt(user)
            args = dict(point_id=point.id, device_time=at(12), visited_at=at(12), location=GivenLocation(106.52, 29.51))
            visit = leader_visits.log_visit(s, r, uuid.uuid4(), **args).record
            generic = leader_visits.log_visit(s, r, uuid.uuid4(), **{**args, "visited_at": at(13)}).record
            _needs_info(s, d["reviewer"], visit)
            w.ids[("leader_visit_id", rel)] = visit.id
            w.mine[("record_id", rel, "leader")] = generic.id
            w.extra[f"generic_leader_visit_{rel}"] = (user, generic)

        # Cases: the reviewer's own, another reviewer's, the other district's; all deciding, naming unit A.
        for rel, handler, d in [("own", h["reviewer"], h), ("peer", h["reviewer_b"], h),
                                ("foreign", f["reviewer"], f)]:
            source = w.extra[f"generic_finding_{rel}"][1]
            case = cases.open_case(
                s, d["admin"], kind="efficiency_complaint", title=f"{rel}案件", handler_id=handler.id,
                source_record_ids=[source.id], subjects=[{"unit_id": d["unit_a"].id}],
                complaint=cases.ComplaintInput("phone", utcnow(), "电话投诉", "王先生", "13900000000"))
            for to in ("investigating", "deciding"):
                cases.transition(s, d["admin"], case, to)
            w.ids[("case_id", rel)] = case.id
            w.ids[("subject_id", rel)] = case.subjects[0].id
            w.ids[("case_number", rel)] = case.number  # what the CSV export shows of a case
            w.extra[f"case_{rel}"] = case
        # A squad's member, for the member endpoints: the squad and the user go together.
        for rel, squad, monitor in [("own", h["squad_1"], h["alice"]), ("peer", h["squad_1"], h["bob"]),
                                    ("sibling", h["squad_2"], h["carol"]), ("foreign", f["squad_1"], f["alice"])]:
            w.ids[("squad_id@members", rel)] = squad.id
            w.ids[("user_id@members", rel)] = monitor.id

    def approvals(self) -> None:
        """Per district a matter and an overdue, refused approval case with its alerts and a notice; at home the
        case is of a key project whose service secretary is the leader (own), and another case is not (sibling)."""
        from field.approvals import cases as approval_cases, ingest, matters
        from field.approvals.models import AlertLevel, ApprovalAlert, ApprovalCase
        from field.service import problems, visits as service_visits
        from field.service.models import KeyProject, ServiceAssignment
        from tests.approvals_fixtures import Case, at as approval_at, district_commitment

        s, w = self.s, self.w
        for side in ("home", "foreign"):
            d = w.extra[side]
            admin, rel = d["admin"], "own" if side == "home" else "foreign"
            matter = matters.create_matter(s, admin, code="QX-001", name="建设工程规划许可", unit_id=d["unit_a"].id,
                                           legal_limit_days=20, promised_limit_days=5)
            project = KeyProject(jurisdiction_id=d["j"].id, name=f"{d['j'].name}重点项目", investment_10k=150000,
                                 enterprise_id=d["ent_plain"].id)
            s.add(project)
            s.flush()
            assignment = ServiceAssignment(jurisdiction_id=d["j"].id, project_id=project.id,
                                           official_id=d["leader"].id, role="secretary", campaign="year_round",
                                           starts_on=date(2025, 1, 1))
            s.add(assignment)
            if side == "home":  # the leader is also the covert point's enterprise's department head
                s.add(ServiceAssignment(jurisdiction_id=d["j"].id, enterprise_id=d["ent_1"].id,
                                        official_id=d["leader"].id, role="department_head",
                                        campaign="double_hundred", starts_on=date(2025, 1, 1)))
            s.flush()
            visit = service_visits.log_visit(s, _receipt(d["leader"]), uuid.uuid4(), device_time=at(12),
                                             visited_at=at(12), location=GivenLocation(106.52, 29.51),
                                             project_id=project.id).record
            _needs_info(s, d["reviewer"], visit)
            w.ids.update({("service_visit_id", rel): visit.id, ("assignment_id", rel): assignment.id})
            numbers = {rel: f"{side}-1", **({"sibling": "home-2"} if side == "home" else {})}
            events = []
            for r, number in numbers.items():
                extra = {"key_project_id": project.id} if r != "sibling" else {}
                events += (Case(number).accepted(approval_at(4, 28, 9), "QX-001", **extra)
                           .completed(approval_at(5, 13), outcome="refused")).events
            ingest.push(s, admin, "qx", events)
            cases = {r: s.execute(select(ApprovalCase).where(ApprovalCase.source_number == n)).scalar_one()
                     for r, n in numbers.items()}
            notice = approval_cases.record_notice(s, admin, cases[rel], kind="refusal", reason="材料不全",
                                                  handler_name="王经办", issued_on=date(2026, 5, 13))
            alert = s.execute(select(ApprovalAlert).where(ApprovalAlert.approval_case_id == cases[rel].id,
                                                          ApprovalAlert.level == AlertLevel.red)).scalar_one()
            w.ids.update({("matter_id", rel): matter.id, ("notice_id", rel): notice.id, ("alert_id", rel): alert.id})
            for r, case in cases.items():
                w.ids[("approval_case_id", r)] = case.id
                w.ids[("approval_case_number", r)] = case.source_number
            for key, value in district_commitment(s, admin, d["person_a"]).items():
                w.ids[(key, rel)] = value
            problem = problems.raise_problem(s, admin, project, category="procedures", source="official",
                                             description="施工许可卡在消防审验", unit_ids=[d["unit_a"].id],
                                             limit_days=5, raised_on=date(2026, 4, 28))
            w.ids.update({("project_id", rel): project.id, ("problem_id", rel): problem.id})

    def finding_values(self, d: dict, **overrides) -> dict:
        values = {"id": uuid.uuid4(), "device_time": at(12), "category": "absent_from_post", "severity": "moderate",
                  "unit_id": d["unit_a"].id, "person_id": None, "visit_id": None, "occurred_at": at(12, 9),
                  "location": None, "description": "工作时间离岗。", "declared_attachments": []}
        values.update(overrides)
        return values

    def inspection_values(self, d: dict) -> dict:
        return {"device_time": utcnow(), "enterprise_id": d["ent_plain"].id, "location": GivenLocation(106.53, 29.52),
                "checked": "消防通道", "found": "", "measure": "none"}

    # -- evidence and uploads ---------------------------------------------------------------------

    def evidence(self) -> None:
        """A photo on each generic record, sent by its submitter; each caller's own upload in progress."""
        w = self.w
        by_name = {user.id: name for name, user in w.users.items()}
        for key in [k for k in w.extra if k.startswith("generic_")]:
            kind, rel = key.rsplit("_", 1)
            user, record = w.extra[key]
            name = by_name[user.id]
            data = next(self.photos).read_bytes()
            boundary, body = encode_multipart({"record_id": str(record.id), "kind": "photo",
                                               "file": FileStorage(io.BytesIO(data), "IMG_0001.jpg")})
            resp = self.client.post("/api/v1/evidence", headers=w.headers[name], data=body,
                                    content_type=f"multipart/form-data; boundary={boundary}")
            assert resp.status_code == 201, resp.get_json()
            sha = resp.get_json()["sha256"]
            thumb = self.client.get(f"/api/v1/evidence/{sha}/thumb", headers=w.headers[name])
            assert thumb.status_code == 200, thumb.get_json()
            thumb.close()
            callers = {"generic_finding": ("admin", "reviewer", "alice"), "generic_inspection": ("inspector",),
                       "generic_report": ("liaison",), "generic_leader_visit": ("leader",)}[kind]
            for caller in callers:
                w.mine[("sha256", rel, caller)] = sha
            if kind == "generic_finding":
                w.extra[f"sha_{rel}"] = sha
        # Uploads: each caller's own, a colleague's (peer), a foreign user's.
        for caller in CALLERS.values():
            w.mine[("upload_id", "own", caller)] = self.upload(caller)
        w.ids[("upload_id", "peer")] = self.upload("reviewer_b")
        w.ids[("upload_id", "foreign")] = self.upload("f_admin")

    def upload(self, name: str) -> uuid.UUID:
        from evidence import uploads
        from field.attachments.links import check_record_for_evidence

        upload = uploads.create_upload(
            self.s, self.w.users[name], device_id=None, length=1000,
            metadata={"kind": "photo", "record_id": str(uuid.uuid4())},
            limits=uploads.Limits(photo=1 << 20, audio=1 << 20, video=1 << 20), expires_in=timedelta(days=1),
            check_record=check_record_for_evidence)
        self.s.commit()
        return upload.id


def build(session, client) -> World:
    return _Builder(session, client).build()


# -- requests: a valid one for every operation, so the answer is about who asks, not what is sent ----------

#: Values for path parameters that are not objects of a relation.
FIXED_PARAMS = {"kind": "efficiency_complaint", "name": "thumb", "slug": "not-found"}

#: Paths whose parameters name a pair: a squad and one of its members.
PAIRED = {"/api/v1/squads/{squad_id}/members/{user_id}": "members",
          "/api/v1/squads/{squad_id}/members/{user_id}/unmask": "members"}
#: Paths that take an object in another state than the parameter's usual one (a rectification answered, appealed).
STAGED = {"/api/v1/rectifications/{rectification_id}/verification": "@answered",
          "/api/v1/rectifications/{rectification_id}/appeal-decision": "@appealed"}


def object_id(w: World, path: str, param: str, rel: str, role: Role):
    """The id that fills ``param`` of ``path`` for ``relation`` and a caller of ``role``; None: no such object."""
    if param in FIXED_PARAMS:
        return FIXED_PARAMS[param]
    if path in PAIRED:
        return w.ids.get((f"{param}@{PAIRED[path]}", rel))
    if path in STAGED:
        return w.ids.get((f"{param}{STAGED[path]}", rel))
    return w.id(param, rel, role)

DEVICE_TIME = "2026-05-12T10:30:00+08:00"
POINT = {"type": "Point", "coordinates": [106.52, 29.51]}


def _side(w: World, rel: str, key: str, sibling_key: str | None = None) -> str:
    """An object of the home district (own, peer; ``sibling_key`` for sibling), the other one, or a missing id."""
    if rel == "missing":
        return str(uuid.uuid4())
    if rel == "foreign":
        return str(w.extra["foreign"][key].id)
    return str(w.extra["home"][sibling_key if rel == "sibling" and sibling_key else key].id)


def _rel_id(w: World, param: str, rel: str, role: Role) -> str:
    value = w.id(param, rel, role)
    return str(value) if value is not None else str(uuid.uuid4())


def _home(w: World, key: str) -> str:
    return str(w.extra["home"][key].id)


def _tus(**extra) -> dict:
    headers = {"Tus-Resumable": "1.0.0"}
    headers.update({k.replace("_", "-"): str(v) for k, v in extra.items()})
    return headers


def _photo_form(record_id) -> dict:
    data = PHOTOS[-1].read_bytes()
    boundary, body = encode_multipart({"record_id": str(record_id), "kind": "photo",
                                       "file": FileStorage(io.BytesIO(data), "IMG_0002.jpg")})
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def _finding_body(w: World, **extra) -> dict:
    return {"device_time": DEVICE_TIME, "category": "delays", "severity": "minor", "unit_id": _home(w, "unit_a"),
            "occurred_at": "2026-05-12T09:40:00+08:00", "description": "窗口延误。", **extra}


def _visit_body(w: World, role: Role, rel: str) -> dict:
    return {"device_time": DEVICE_TIME, "task_id": _rel_id(w, "task_id", rel if rel != "peer" else "own", role),
            "started_at": "2026-05-12T09:40:00+08:00", "ended_at": "2026-05-12T10:10:00+08:00", "narrative": "补充。"}


def _callback_body(w: World, rel: str) -> dict:
    case = w.extra["cases_of"][rel][0 if rel != "peer" else 1].id if rel != "missing" else uuid.uuid4()
    return {"device_time": DEVICE_TIME, "case_id": str(case), "called_at": "2026-05-13T15:20:00+08:00",
            "reached": True, "satisfied": True}


def _filing_body(w: World, rel: str) -> dict:
    d = w.extra["foreign" if rel == "foreign" else "home"]
    today = office_today()
    return {"device_time": DEVICE_TIME, "filing_kind": "statutory_exempt", "enterprise_ids": [str(d["ent_plain"].id)],
            "purpose": "安全生产检查", "legal_basis": "《安全生产法》", "exemption_basis": "《安全生产法》第六十五条",
            "planned_start": today.isoformat(), "planned_end": (today + timedelta(days=30)).isoformat()}


def _inspection_body(w: World, rel: str) -> dict:
    d = w.extra["foreign" if rel == "foreign" else "home"]
    return {"device_time": DEVICE_TIME, "enterprise_id": str(d["ent_plain"].id),
            "location": {"type": "Point", "coordinates": [106.53, 29.52]}, "checked": "消防通道", "found": "",
            "measure": "none"}


def _leader_visit_body(w: World, rel: str) -> dict:
    return {"device_time": DEVICE_TIME, "point_id": _side(w, rel, "point_1", "point_2"),
            "visited_at": "2026-05-12T10:00:00+08:00",
            "location": POINT}


def _service_visit_body(w: World, rel: str) -> dict:
    project = w.ids.get(("project_id", "foreign" if rel == "foreign" else "own")) if rel != "missing" else None
    return {"device_time": DEVICE_TIME, "project_id": str(project or uuid.uuid4()),
            "visited_at": "2026-05-12T10:00:00+08:00", "location": POINT}


def _report_point(w: World, rel: str) -> str:
    return _side(w, rel, "point_1", "point_2")


def _case_sha(w: World, rel: str) -> str:
    return w.extra.get(f"sha_{rel}") or "0" * 64


def _questionnaire() -> dict:
    return {"title": "问卷", "questions": [{"name": "overall", "type": "grade5", "label": {"zh": "总体满意度"}}]}


def _new_id() -> str:
    return str(uuid.uuid4())


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


#: (METHOD, OpenAPI path) → (world, role, relation) → keyword arguments of the test client's ``open``.
#: Operations not named here are sent with no body (GET, DELETE) or an empty JSON object.
REQUESTS = {
    ("POST", "/api/v1/auth/login"): lambda w, role, rel: {
        "json": {"username": w.users[CALLERS[role]].username, "password": PASSWORD, "device_name": "matrix"},
        "headers": {}},
    ("POST", "/api/v1/auth/enroll"): lambda w, role, rel: {
        "json": {"code": w.extra["enroll_codes"][CALLERS[role]], "device_name": "matrix"}, "headers": {}},
    ("POST", "/api/v1/users"): lambda w, role, rel: {"json": {
        "username": f"new-{uuid.uuid4().hex[:8]}", "password": PASSWORD, "display_name": "新用户", "role": "inspector",
        "jurisdiction_id": _home(w, "j")}},
    ("PATCH", "/api/v1/users/{user_id}"): lambda w, role, rel: {"json": {"display_name": "改名"}},
    ("POST", "/api/v1/jurisdictions"): lambda w, role, rel: {"json": {
        "code": "500107002", "name": "谢家湾街道", "level": "street", "parent_id": _home(w, "j")}},
    ("PATCH", "/api/v1/jurisdictions/{jurisdiction_id}"): lambda w, role, rel: {"json": {"name": "新名"}},
    ("GET", "/api/v1/calendar/days"): lambda w, role, rel: {"query_string": {"from": "2026-05-01", "to": "2026-05-10"}},
    ("POST", "/api/v1/calendar/overrides"): lambda w, role, rel: {"json": {"day": "2026-11-12", "working": False}},
    ("POST", "/api/v1/calendar/years"): lambda w, role, rel: {"json": {"year": 2031, "weekends_only": True}},
    ("POST", "/api/v1/records/{record_id}/review"): lambda w, role, rel: {"json": {"state": "accepted"}},
    ("POST", "/api/v1/records/{record_id}/comments"): lambda w, role, rel: {"json": {"body": "补充说明"}},
    ("POST", "/api/v1/units"): lambda w, role, rel: {"json": {"name": "新单位", "kind": "department"}},
    ("PATCH", "/api/v1/units/{unit_id}"): lambda w, role, rel: {"json": {"name": "改名单位"}},
    ("POST", "/api/v1/persons"): lambda w, role, rel: {"json": {"unit_id": _rel_id(w, "unit_id", rel, role),
                                                                 "name": "新人"}},
    ("PATCH", "/api/v1/persons/{person_id}"): lambda w, role, rel: {"json": {"post": "副科长"}},
    ("POST", "/api/v1/enterprises"): lambda w, role, rel: {"json": {"name": "新企业", "credit_code": credit_code()}},
    ("PATCH", "/api/v1/enterprises/{enterprise_id}"): lambda w, role, rel: {"json": {"name": "改名企业"}},
    ("POST", "/api/v1/monitoring-points"): lambda w, role, rel: {"json": {
        "enterprise_id": _side(w, rel, "ent_plain"),
        "active_from": "2026-01-01"}},
    ("PATCH", "/api/v1/monitoring-points/{point_id}"): lambda w, role, rel: {"json": {"visit_frequency": "weekly"}},
    ("POST", "/api/v1/squads"): lambda w, role, rel: {"json": {"name": "第三小分队", "code_prefix": "JLZ"}},
    ("PATCH", "/api/v1/squads/{squad_id}"): lambda w, role, rel: {"json": {"name": "改名小分队"}},
    ("POST", "/api/v1/squads/{squad_id}/members"): lambda w, role, rel: {"json": {
        "real_name": "张三", "password": PASSWORD}},
    ("PATCH", "/api/v1/squads/{squad_id}/members/{user_id}"): lambda w, role, rel: {"json": {"phone": "13700000000"}},
    ("POST", "/api/v1/squads/{squad_id}/members/{user_id}/unmask"): lambda w, role, rel: {"json": {"reason": "核实线索"}},
    ("PUT", "/api/v1/inspectors/{user_id}/unit"): lambda w, role, rel: {"json": {
        "unit_id": str(w.extra["foreign" if rel == "foreign" else "home"]["unit_a"].id)}},
    ("POST", "/api/v1/inspection-filings"): lambda w, role, rel: {"json": {"id": _new_id(), **_filing_body(w, "own")}},
    ("PUT", "/api/v1/inspection-filings/{filing_id}"): lambda w, role, rel: {"json": _filing_body(w, rel)},
    ("POST", "/api/v1/compulsory-measures"): lambda w, role, rel: {"json": {
        "enterprise_id": _home(w, "ent_plain"), "measure": "seizure", "reason": "扣押"}},
    ("POST", "/api/v1/compulsory-measures/{measure_id}/decision"): lambda w, role, rel: {"json": {"state": "approved"}},
    ("POST", "/api/v1/inspection-records"): lambda w, role, rel: {"json": {
        "id": _new_id(), **_inspection_body(w, "own")}},
    ("PUT", "/api/v1/inspection-records/{inspection_id}"): lambda w, role, rel: {"json": _inspection_body(w, rel)},
    ("POST", "/api/v1/finding-categories"): lambda w, role, rel: {"json": {
        "code": "parking_fees", "label_zh": "停车收费", "label_en": "Parking fees"}},
    ("PATCH", "/api/v1/finding-categories/{category_id}"): lambda w, role, rel: {"json": {"label_en": "Local only"}},
    ("POST", "/api/v1/visit-tasks"): lambda w, role, rel: {"json": {
        "squad_id": _rel_id(w, "squad_id", rel, role), "method": "casual_talk",
        "target": {"unit_id": str(w.extra["foreign" if rel == "foreign" else "home"]["unit_a"].id)},
        "theme": "新任务", "window_start": "2026-05-11T08:30:00+08:00", "window_end": "2026-05-15T17:30:00+08:00"}},
    ("PATCH", "/api/v1/visit-tasks/{task_id}"): lambda w, role, rel: {"json": {"theme": "改题"}},
    ("POST", "/api/v1/visits"): lambda w, role, rel: {"json": {"id": _new_id(), **_visit_body(w, role, rel)}},
    ("PUT", "/api/v1/visits/{visit_id}"): lambda w, role, rel: {"json": _visit_body(w, role, rel)},
    ("POST", "/api/v1/findings"): lambda w, role, rel: {"json": {"id": _new_id(), **_finding_body(w)}},
    ("POST", "/api/v1/batches"): lambda w, role, rel: {"json": {"items": [
        {"kind": "finding", "body": {"id": _new_id(), **_finding_body(w)}}]}},
    ("PUT", "/api/v1/findings/{finding_id}"): lambda w, role, rel: {"json": _finding_body(
        w, unit_id=str(w.extra["foreign" if rel == "foreign" else "home"]["unit_a"].id))},
    ("POST", "/api/v1/callback-batches"): lambda w, role, rel: {
        "data": cases_csv(2, start=500), "content_type": "text/csv"},
    ("POST", "/api/v1/callback-batches/{batch_id}/samples"): lambda w, role, rel: {"json": {"size": 1}},
    ("POST", "/api/v1/callbacks"): lambda w, role, rel: {"json": {"id": _new_id(), **_callback_body(w, rel)}},
    ("PUT", "/api/v1/callbacks/{callback_id}"): lambda w, role, rel: {"json": _callback_body(w, rel)},
    ("POST", "/api/v1/callbacks/{callback_id}/findings"): lambda w, role, rel: {"json": {
        "id": _new_id(), **_finding_body(w, unit_id=str(
            w.extra["foreign" if rel == "foreign" else "home"]["unit_a"].id))}},
    ("POST", "/api/v1/reports"): lambda w, role, rel: {"json": {
        "id": _new_id(), "device_time": DEVICE_TIME, "report_type": "suggestion", "text": "建议",
        "point_id": _report_point(w, rel)}},
    ("PUT", "/api/v1/reports/{report_id}"): lambda w, role, rel: {"json": {
        "device_time": DEVICE_TIME, "report_type": "suggestion", "text": "修改的建议", "point_id": _report_point(w, rel)}},
    ("POST", "/api/v1/leader-visits"): lambda w, role, rel: {"json": {"id": _new_id(), **_leader_visit_body(w, rel)}},
    ("PUT", "/api/v1/leader-visits/{leader_visit_id}"): lambda w, role, rel: {"json": _leader_visit_body(w, rel)},
    ("POST", "/api/v1/cases"): lambda w, role, rel: {"json": {
        "kind": "work_style", "title": "新案件", "source_record_ids": [_rel_id(w, "record_id", rel, Role.reviewer)]}},
    ("PATCH", "/api/v1/cases/{case_id}"): lambda w, role, rel: {"json": {"title": "改名案件"}},
    ("POST", "/api/v1/cases/{case_id}/transitions"): lambda w, role, rel: {"json": {"to": "rectifying"}},
    ("POST", "/api/v1/cases/{case_id}/sources"): lambda w, role, rel: {"json": {
        "record_id": str(w.extra[f"generic_inspection_{rel}"][1].id)}},
    ("POST", "/api/v1/cases/{case_id}/subjects"): lambda w, role, rel: {"json": {
        "person_id": str(w.extra["foreign" if rel == "foreign" else "home"]["person_a"].id)}},
    ("POST", "/api/v1/cases/{case_id}/delay-notices"): lambda w, role, rel: {"json": {
        "reason": "调查需要", "new_deadline": "2030-01-01"}},
    ("POST", "/api/v1/cases/{case_id}/gates"): lambda w, role, rel: {"json": {
        "gate": "facts_established", "note": "查清", "evidence": [_case_sha(w, rel)]}},
    ("POST", "/api/v1/cases/{case_id}/dispositions"): lambda w, role, rel: {"json": {
        "kind": "yellow_card", "unit_id": str(w.extra["foreign" if rel == "foreign" else "home"]["unit_a"].id),
        "decided_on": "2026-05-20", "authority": "区纪委"}},
    ("POST", "/api/v1/cases/{case_id}/notices"): lambda w, role, rel: {"json": {
        "text": "通报一起作风问题", "issued_on": "2026-05-20"}},
    ("POST", "/api/v1/cases/{case_id}/complainant"): lambda w, role, rel: {"json": {"reason": "核实"}},
    ("GET", "/api/v1/figures"): lambda w, role, rel: {"query_string": {"from": "2026-05-01", "to": "2026-05-31"}},
    ("POST", "/api/v1/approvals/events"): lambda w, role, rel: {"json": {"source_system": "qx", "events": [
        {"case_number": f"new-{uuid.uuid4().hex[:8]}", "seq": 1, "type": "accepted",
         "at": "2026-05-06T09:00:00+08:00", "matter_code": "QX-001"}]}},
    ("POST", "/api/v1/approvals/import"): lambda w, role, rel: {
        "query_string": {"source_system": "qx"}, "content_type": "text/csv",
        "data": f"case_number,seq,type,at,matter_code\nnew-{uuid.uuid4().hex[:8]},1,accepted,"
                "2026-05-06T09:00:00+08:00,QX-001\n".encode()},
    ("POST", "/api/v1/approval-matters"): lambda w, role, rel: {"json": {
        "code": f"QX-{uuid.uuid4().hex[:6]}", "name": "新事项", "legal_limit_days": 10}},
    ("PATCH", "/api/v1/approval-matters/{matter_id}"): lambda w, role, rel: {"json": {"promised_limit_days": 4}},
    ("POST", "/api/v1/approval-cases/{approval_case_id}/notices"): lambda w, role, rel: {"json": {
        "kind": "refusal", "reason": "材料不全", "handler_name": "王经办", "issued_on": "2026-05-13"}},
    ("POST", "/api/v1/approval-notices/{notice_id}/complaint"): lambda w, role, rel: {"json": {
        "case_id": str(w.ids[("case_id", "own" if rel != "foreign" else "foreign")])}},
    ("GET", "/api/v1/approval-figures"): lambda w, role, rel: {"query_string": {"from": "2026-04-01",
                                                                               "to": "2026-06-30"}},
    ("POST", "/api/v1/commitment-letters"): lambda w, role, rel: {"json": {
        "person_id": _home(w, "person_a"), "year": 2027, "title": "2027年度服务承诺书"}},
    ("POST", "/api/v1/commitment-letters/{letter_id}/items"): lambda w, role, rel: {"json": {"promise": "再承诺"}},
    ("POST", "/api/v1/commitment-letters/{letter_id}/publication"): lambda w, role, rel: {"json": {
        "published_on": "2026-02-21", "channel": "website"}},
    ("PUT", "/api/v1/commitment-letters/{letter_id}/report"): lambda w, role, rel: {"json": {"text": "述职报告"}},
    ("POST", "/api/v1/commitment-items/{item_id}/checks"): lambda w, role, rel: {"json": {
        "verdict": "kept", "note": "复查已兑现", "checked_on": "2026-06-01"}},
    ("GET", "/api/v1/commitment-figures"): lambda w, role, rel: {"query_string": {"year": 2026}},
    ("POST", "/api/v1/key-projects"): lambda w, role, rel: {"json": {"name": "新项目", "investment_10k": "20000"}},
    ("PATCH", "/api/v1/key-projects/{project_id}"): lambda w, role, rel: {"json": {"stage": "negotiating"}},
    ("POST", "/api/v1/service-assignments"): lambda w, role, rel: {"json": {
        "official_id": str(w.users["leader"].id), "role": "chief", "campaign": "365", "starts_on": "2026-01-01",
        "project_id": str(w.ids[("project_id", "own")])}},
    ("POST", "/api/v1/key-projects/{project_id}/problems"): lambda w, role, rel: {"json": {
        "category": "land", "source": "liaison", "description": "用地指标未落实", "limit_days": 10,
        "unit_ids": [str(w.extra["foreign" if rel == "foreign" else "home"]["unit_a"].id)]}},
    ("POST", "/api/v1/enterprises/{enterprise_id}/problems"): lambda w, role, rel: {"json": {
        "category": "funding", "source": "liaison", "description": "流动资金贷款未落实", "limit_days": 10,
        "unit_ids": [str(w.extra["foreign" if rel == "foreign" else "home"]["unit_a"].id)]}},
    ("POST", "/api/v1/service-visits"): lambda w, role, rel: {"json": {"id": _new_id(), **_service_visit_body(w, rel)}},
    ("PUT", "/api/v1/service-visits/{service_visit_id}"): lambda w, role, rel: {"json": _service_visit_body(w, rel)},
    ("PUT", "/api/v1/visit-obligations"): lambda w, role, rel: {"json": {"role": "secretary", "visits": 2,
                                                                         "per": "week"}},
    ("POST", "/api/v1/service-problems/{problem_id}/progress"): lambda w, role, rel: {"json": {"note": "已协调"}},
    ("POST", "/api/v1/service-problems/{problem_id}/closure"): lambda w, role, rel: {"json": {
        "solved": True, "confirmed_by": "项目经理 刘某", "confirmation": "已解决"}},
    ("POST", "/api/v1/four-ones"): lambda w, role, rel: {"json": {
        "year": 2026, "kind": "touch", "enterprise_id": _home(w, "ent_plain"), "note": "走访企业"}},
    ("POST", "/api/v1/enterprise-outcomes"): lambda w, role, rel: {"json": {
        "enterprise_id": _home(w, "ent_plain"), "period_start": "2026-01-01", "period_end": "2026-06-30",
        "output_growth_pct": 12.5}},
    ("GET", "/api/v1/service-figures"): lambda w, role, rel: {"query_string": {"from": "2026-01-01",
                                                                              "to": "2026-12-31"}},
    ("PUT", "/api/v1/case-kinds/{kind}"): lambda w, role, rel: {"json": {"working_days": 20}},
    ("POST", "/api/v1/questionnaires"): lambda w, role, rel: {"json": _questionnaire()},
    ("PUT", "/api/v1/questionnaires/{questionnaire_id}"): lambda w, role, rel: {"json": _questionnaire()},
    ("POST", "/api/v1/questionnaires/import"): lambda w, role, rel: {
        "data": "type,name,label::zh\ngrade5,overall,总体满意度\n".encode(), "content_type": "text/csv"},
    ("POST", "/api/v1/evaluation-campaigns"): lambda w, role, rel: {"json": {
        "kind": "thousand", "title": "新评议", "opens_on": "2026-01-01", "closes_on": "2099-12-31",
        "questionnaire_id": str(w.ids[("questionnaire_id", "own")]), "targets": [{"unit_id": _rel_id(
            w, "unit_id", rel, role) if rel != "missing" else str(uuid.uuid4())}]}},
    ("POST", "/api/v1/evaluation-campaigns/{campaign_id}/invitations"): lambda w, role, rel: {"json": {
        "target_id": str(w.extra[f"eval_target_{'foreign' if rel == 'foreign' else 'own'}"]),
        "rater": {"kind": "counter"}, "count": 2}},
    ("POST", "/api/v1/ballots"): lambda w, role, rel: {"json": {"code": w.extra["ballot_code"],
                                                                "answers": {"overall": 4}}},
    ("POST", "/api/v1/rectifications/{rectification_id}/answer"): lambda w, role, rel: {"json": {"text": "已整改"}},
    ("POST", "/api/v1/rectifications/{rectification_id}/verification"): lambda w, role, rel: {"json": {
        "accepted": True, "reply": "已整改，感谢监督"}},
    ("POST", "/api/v1/rectifications/{rectification_id}/appeal"): lambda w, role, rel: {"json": {"reason": "误评"}},
    ("POST", "/api/v1/rectifications/{rectification_id}/appeal-decision"): lambda w, role, rel: {"json": {
        "upheld": False, "note": "申诉不成立"}},
    ("POST", "/api/v1/rectifications/{rectification_id}/rater"): lambda w, role, rel: {"json": {"reason": "回访"}},
    ("POST", "/api/v1/evidence"): lambda w, role, rel: _photo_form(uuid.uuid4()),
    ("POST", "/api/v1/uploads"): lambda w, role, rel: {"data": b"", "headers": _tus(
        Upload_Length=100, Upload_Metadata=f"kind {_b64('photo')},record_id {_b64(_new_id())}")},
    ("PATCH", "/api/v1/uploads/{upload_id}"): lambda w, role, rel: {
        "headers": _tus(Upload_Offset=0), "data": b"\xff\xd8\xff\xe0" + b"\0" * 12,
        "content_type": "application/offset+octet-stream"},
    ("DELETE", "/api/v1/uploads/{upload_id}"): lambda w, role, rel: {"headers": _tus()},
}

for _share in contributions().values():
    REQUESTS.update(_share.requests)
