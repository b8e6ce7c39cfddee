"""Schemas of login, devices and user accounts."""

from __future__ import annotations

import marshmallow as ma

from field.accounts.users import MIN_PASSWORD_LENGTH
from field.core.models.platform import JurisdictionLevel, Role

from .common import Line, StrictSchema


class LoginSchema(StrictSchema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(1, 1024))
    device_name = Line(100, required=True, metadata={"example": "Huawei P60 of Li Wei"})


class EnrollSchema(StrictSchema):
    code = Line(200, required=True, load_only=True,
                metadata={"description": "The ``code`` of the enrollment QR code (docs/console.md)"})
    device_name = Line(100, required=True, metadata={"example": "Huawei P60 of Li Wei"})


class JurisdictionRefSchema(ma.Schema):
    id = ma.fields.UUID()
    code = ma.fields.String()
    name = ma.fields.String()
    level = ma.fields.Enum(JurisdictionLevel)


class UserSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    username = ma.fields.String()
    display_name = ma.fields.String()
    role = ma.fields.Enum(Role)
    jurisdiction = ma.fields.Nested(JurisdictionRefSchema)
    disabled = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class DeviceSchema(ma.Schema):
    id = ma.fields.UUID()
    device_name = ma.fields.String()
    created_at = ma.fields.AwareDateTime()
    expires_at = ma.fields.AwareDateTime()
    last_used_at = ma.fields.AwareDateTime(allow_none=True)
    revoked_at = ma.fields.AwareDateTime(allow_none=True)
    revoked_reason = ma.fields.String(allow_none=True)
    current = ma.fields.Boolean(metadata={"description": "This is the device making the request"})


class TokenSchema(ma.Schema):
    token = ma.fields.String(metadata={"description": "Bearer token; shown once"})
    token_type = ma.fields.Constant("Bearer")
    expires_at = ma.fields.AwareDateTime()
    device = ma.fields.Nested(DeviceSchema)
    user = ma.fields.Nested(UserSchema)


class UserCreateSchema(StrictSchema):
    username = ma.fields.String(required=True, validate=[
        ma.validate.Length(3, 64), ma.validate.Regexp(r"^[A-Za-z0-9._-]+$", error="Letters, digits, . _ - only.")])
    password = ma.fields.String(required=True, load_only=True,
                                validate=ma.validate.Length(MIN_PASSWORD_LENGTH, 1024))
    display_name = Line(100, required=True)
    role = ma.fields.Enum(Role, required=True)
    jurisdiction_id = ma.fields.UUID(required=True)


class UserUpdateSchema(StrictSchema):
    display_name = Line(100)
    password = ma.fields.String(load_only=True, validate=ma.validate.Length(MIN_PASSWORD_LENGTH, 1024))
    role = ma.fields.Enum(Role)
    jurisdiction_id = ma.fields.UUID()
    disabled = ma.fields.Boolean()


class UserQuerySchema(ma.Schema):
    role = ma.fields.Enum(Role, load_default=None)
