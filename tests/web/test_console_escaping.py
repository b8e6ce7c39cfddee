"""A hostile string in every field the queue and the record page show renders as text, never as markup."""

from __future__ import annotations

import io
import uuid
from datetime import date

from PIL import Image

from field.accounts import users as accounts, jurisdictions
from field.directory import enterprises, monitoring, squads, units
from field.visits import findings, taxonomy
from field.records import lifecycle as records
from field.reports import reports
from field.core.models.platform import JurisdictionLevel, Role
from field.core.models.base import utcnow
from tests.directory_fixtures import credit_code
from tests.visits_fixtures import finding_values, receipt_for
from tests.web_fixtures import GPS_PHOTO, console, scan_page, upload_photo, world  # noqa: F401

HOSTILE = "<img src=x onerror=alert(1)>{{7*7}}"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;{{7*7}}"


def _hostile_photo() -> bytes:
    """The GPS photo with EXIF Make and Model set to the hostile string."""
    with Image.open(GPS_PHOTO) as img:
        exif = img.getexif()
        exif[0x010F], exif[0x0110] = f"M{HOSTILE}", f"X{HOSTILE}"
        out = io.BytesIO()
        img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_hostile_strings_in_every_shown_field_render_as_text(console, world, session, client, login, tree, make_user):
    admin = world.admin
    unit = units.create_unit(session, admin, name=f"窗口{HOSTILE}", kind="department")
    person = units.create_person(session, admin, unit_id=unit.id, name=f"人{HOSTILE}")
    taxonomy.create_category(session, admin, code="hostile_cat", label_zh=f"类{HOSTILE}", label_en=f"Cat{HOSTILE}")
    squads.create_squad(session, admin, name=f"队{HOSTILE}", code_prefix="HST")
    jurisdictions.create_jurisdiction(session, actor=None, code="500107002", name=f"街{HOSTILE}",
                                      level=JurisdictionLevel.street, parent_id=tree["home"].id)
    commenter = accounts.create_user(session, actor=None, username="hostile.reviewer", password="correct horse battery",
                                     display_name=f"审{HOSTILE}", role=Role.reviewer, jurisdiction_id=tree["home"].id)
    finding = findings.record_finding(session, receipt_for(world.alice.user), finding_values(
        world, category="hostile_cat", unit_id=unit.id, person_id=person.id, description=f"描述{HOSTILE}")).record
    records.add_comment(session, commenter, finding, f"意见{HOSTILE}")
    # A liaison (named as they like) reporting on a hostile-named enterprise: the submitter and
    # the enterprise columns.
    enterprise = enterprises.create_enterprise(session, admin, name=f"企{HOSTILE}", credit_code=credit_code(990001))
    liaison = accounts.create_user(session, actor=None, username="hostile.liaison", password="correct horse battery",
                                   display_name=f"联{HOSTILE}", role=Role.liaison, jurisdiction_id=tree["home"].id)
    monitoring.create_point(session, admin, enterprise_id=enterprise.id, liaison_ids=[liaison.id],
                            active_from=date(2026, 1, 1))
    report = reports.submit_report(session, receipt_for(liaison), uuid.uuid4(), report_type="suggestion",
                                   device_time=utcnow(), text=f"建议{HOSTILE}").record
    session.commit()
    upload_photo(client, login(world.alice.user), finding.id, _hostile_photo(), filename=f"f{HOSTILE}.jpg")

    signed_in = console(world.reviewer)
    queue = signed_in.get("/console/").get_data(as_text=True)
    record = signed_in.get(f"/console/records/{finding.id}").get_data(as_text=True)
    english = signed_in.get(f"/console/records/{finding.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    reported = signed_in.get(f"/console/records/{report.id}").get_data(as_text=True)
    for name, page, shown in (
            ("queue", queue, [f"窗口{ESCAPED}", f"类{ESCAPED}", f"描述{ESCAPED}", f"队{ESCAPED}", f"街{ESCAPED}",
                              f"企{ESCAPED}", f"联{ESCAPED}", f"建议{ESCAPED}"]),
            ("report", reported, [f"企{ESCAPED}", f"联{ESCAPED}", f"建议{ESCAPED}"]),
            ("record", record, [f"窗口{ESCAPED}", f"人{ESCAPED}", f"类{ESCAPED}", f"描述{ESCAPED}", f"审{ESCAPED}",
                                f"意见{ESCAPED}", f"M{ESCAPED}", f"X{ESCAPED}", f"f{ESCAPED}.jpg"]),
            ("record (en)", english, [f"Cat{ESCAPED}"])):
        assert HOSTILE not in page and "<img src=x" not in page, name
        missing = [s for s in shown if s not in page]
        assert missing == [], (name, missing)
        assert scan_page(page).handlers == [], name
    assert str(finding.id) in queue
