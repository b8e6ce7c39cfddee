"""People and their devices (admins): the accounts of the admin's area, each one's devices, revoking a
device, and enrolling a phone by a one-time QR code (field/accounts/enrollment.py; docs/console.md)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import segno
from flask import current_app, redirect, render_template, request, url_for
from api.db import db
from field.accounts import enrollment
from field.accounts import users as accounts
from field.core.models.platform import User

from .. import session
from . import blp

#: The most accounts one page lists (a district office has a few hundred at most).
PEOPLE_LIMIT = 1000


@blp.get("/people")
def people():
    user, _device = session.current()
    rows = list(db().execute(accounts.users_query(user).order_by(User.role, User.username).limit(PEOPLE_LIMIT))
                .scalars())
    return render_template("console/people.html", people=rows,
                           counts=accounts.live_device_counts(db(), [r.id for r in rows]))


def _person_page(person: User, *, issued=None, status: int = 200):
    devices = accounts.list_devices(db(), person)
    return render_template("console/person.html", person=person, devices=devices,
                           codes=enrollment.open_codes(db(), person), issued=issued,
                           minutes=current_app.config["ENROLLMENT_MINUTES"]), status


@blp.get("/people/<uuid:user_id>")
def person(user_id: uuid.UUID):
    user, _device = session.current()
    return _person_page(accounts.get_user(db(), user, user_id, action="users.manage"))


@blp.post("/people/<uuid:user_id>/enroll")
def enroll(user_id: uuid.UUID):
    """A new one-time code, shown once as a QR code on this answer (no redirect: it is not kept)."""
    user, _device = session.current()
    person_ = accounts.get_user(db(), user, user_id, action="users.manage")
    ttl = timedelta(minutes=current_app.config["ENROLLMENT_MINUTES"])
    issued = enrollment.create_code(db(), user, person_, ttl)
    server = current_app.config["PUBLIC_URL"] or request.host_url
    payload = enrollment.qr_payload(server, issued.code, issued.row.expires_at)
    qr = segno.make(payload, error="m", micro=False)
    shown = {"payload": payload, "code": issued.code, "expires_at": issued.row.expires_at,
             "png": qr.png_data_uri(scale=6, border=4), "server": server}
    return _person_page(person_, issued=shown)


@blp.post("/people/<uuid:user_id>/devices/<uuid:device_id>/revoke")
def revoke_device(user_id: uuid.UUID, device_id: uuid.UUID):
    user, _device = session.current()
    person_ = accounts.get_user(db(), user, user_id, action="users.manage")
    accounts.revoke_token(db(), accounts.get_device(db(), person_, device_id), "revoked")
    return redirect(url_for(".person", user_id=person_.id, revoked=1), code=303)
