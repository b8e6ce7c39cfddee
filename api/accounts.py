"""Login, logout, the caller's own account and devices."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from field.accounts import enrollment
from field.accounts import users as accounts
from schemas.accounts import DeviceSchema, EnrollSchema, LoginSchema, TokenSchema, UserSchema

from .auth import authenticated, current_device, current_user, enroll_limits, login_limits
from .db import db

blp = Blueprint("accounts", __name__, url_prefix="/api/v1", description="Log in from a device; the caller's account")


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(201, TokenSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@login_limits()
def login(body):
    """Log in and get a bearer token for this device

    Failed attempts are limited per account and per client address; the 429
    problem says the limit and how many seconds to wait (``retry_after``).
    """
    ttl = timedelta(days=current_app.config["TOKEN_TTL_DAYS"])
    issued = accounts.login(db(), body["username"], body["password"], body["device_name"], ttl)
    return {"token": issued.token, "expires_at": issued.device.expires_at,
            "device": accounts.DeviceView(issued.device, current=True), "user": issued.device.user}


@blp.route("/auth/enroll", methods=["POST"])
@blp.arguments(EnrollSchema)
@blp.response(201, TokenSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@enroll_limits()
def enroll(body):
    """Exchange a one-time enrollment code (from an admin's QR code) for a bearer token

    No password: the code is the proof, spent by this call, valid for minutes. The
    QR code's payload is described in docs/console.md ("Device enrollment"). Failed
    attempts count against the login limit of the client address.
    """
    ttl = timedelta(days=current_app.config["TOKEN_TTL_DAYS"])
    issued = enrollment.redeem(db(), body["code"], body["device_name"], ttl)
    return {"token": issued.token, "expires_at": issued.device.expires_at,
            "device": accounts.DeviceView(issued.device, current=True), "user": issued.device.user}


@blp.route("/auth/logout", methods=["POST"])
@blp.response(204)
@authenticated()
def logout():
    """Revoke the token of this request"""
    accounts.revoke_token(db(), current_device(), "logout")


@blp.route("/me")
@blp.response(200, UserSchema)
@authenticated()
def me():
    """The caller's account"""
    return current_user()


@blp.route("/me/devices")
class MyDevices(MethodView):
    @blp.response(200, DeviceSchema(many=True))
    @authenticated()
    def get(self):
        """The caller's devices with a live token"""
        return accounts.my_devices(db(), current_user(), current_device().id)


@blp.route("/me/devices/<uuid:device_id>")
class MyDeviceById(MethodView):
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def delete(self, device_id: uuid.UUID):
        """Revoke one of the caller's devices (a lost phone)"""
        device = accounts.get_device(db(), current_user(), device_id)
        accounts.revoke_token(db(), device, "revoked")
