"""Accounts, managed by admins within their jurisdiction."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from field.accounts import users as accounts
from field.core.pages import page
from schemas.accounts import DeviceSchema, UserCreateSchema, UserQuerySchema, UserSchema, UserUpdateSchema
from schemas.common import PageArgsSchema, page_of

from .auth import authenticated, current_user
from .db import db

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="User accounts (admins)")


@blp.route("")
class Users(MethodView):
    @blp.arguments(UserQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(UserSchema))
    @authenticated()
    def get(self, query, cursor, limit):
        """List accounts in the admin's jurisdiction"""
        return page(db(), accounts.users_query, current_user(), role=query["role"], cursor=cursor, limit=limit)

    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body):
        """Create an account"""
        user = accounts.create_user(db(), actor=current_user(), **body)
        return user


@blp.route("/<uuid:user_id>")
class UserById(MethodView):
    @blp.response(200, UserSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, user_id: uuid.UUID):
        """One account"""
        return accounts.get_user(db(), current_user(), user_id, action="users.manage")

    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def patch(self, body, user_id: uuid.UUID):
        """Change an account; a role, jurisdiction, password or disabled change revokes its tokens"""
        user = accounts.get_user(db(), current_user(), user_id, action="users.manage")
        accounts.change_user(db(), current_user(), user, body)
        return user


@blp.route("/<uuid:user_id>/devices")
class UserDevices(MethodView):
    @blp.response(200, DeviceSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, user_id: uuid.UUID):
        """An account's devices with a live token"""
        user = accounts.get_user(db(), current_user(), user_id, action="users.manage")
        return accounts.list_devices(db(), user)

    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def delete(self, user_id: uuid.UUID):
        """Revoke every token of an account (all its devices)"""
        user = accounts.get_user(db(), current_user(), user_id, action="users.manage")
        accounts.revoke_all_tokens(db(), user, "revoked")
