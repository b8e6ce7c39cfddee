"""Undercover visit squads: members by code; the real identity only through the audited unmask (admins)."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from field.directory import squads
from field.core.pages import page
from schemas.common import PageArgsSchema, page_of
from schemas.directory import (
    DisclosureSchema,
    IdentitySchema,
    SquadCreateSchema,
    SquadMemberCreateSchema,
    SquadMemberQuerySchema,
    SquadMemberSchema,
    SquadMemberUpdateSchema,
    SquadQuerySchema,
    SquadSchema,
    SquadUpdateSchema,
    UnmaskSchema,
)
from schemas.sync import register_entity_schema

from .auth import authenticated, current_device, current_user
from .db import db
from .idempotency import discloses_identity

blp = Blueprint("squads", __name__, url_prefix="/api/v1/squads",
                description="Undercover visit squads (暗访小分队). Members appear as codes everywhere; admins "
                            "alone can unmask one, with a reason, and every unmasking is logged")
register_entity_schema("squad", SquadSchema())


@blp.route("")
class Squads(MethodView):
    @blp.arguments(SquadQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, page_of(SquadSchema))
    @authenticated()
    def get(self, query, cursor, limit):
        """Squads the caller may see: the office's, or the monitor's own"""
        return page(db(), squads.squads_query, current_user(), cursor=cursor, limit=limit, **query)

    @blp.arguments(SquadCreateSchema)
    @blp.response(201, SquadSchema)
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body):
        """Form a squad with its code prefix"""
        squad = squads.create_squad(db(), current_user(), **body)
        return squad


@blp.route("/<uuid:squad_id>")
class SquadById(MethodView):
    @blp.response(200, SquadSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, squad_id: uuid.UUID):
        """One squad with its members' codes"""
        return squads.get_squad(db(), current_user(), squad_id)

    @blp.arguments(SquadUpdateSchema)
    @blp.response(200, SquadSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def patch(self, body, squad_id: uuid.UUID):
        """Rename a squad (the code prefix never changes)"""
        squad = squads.get_squad(db(), current_user(), squad_id, action="squads.change")
        squads.update_squad(db(), current_user(), squad, body)
        return squad

    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def delete(self, squad_id: uuid.UUID):
        """Disband a squad that has no members left"""
        squad = squads.get_squad(db(), current_user(), squad_id, action="squads.change")
        squads.delete_squad(db(), current_user(), squad)


@blp.route("/<uuid:squad_id>/members")
class SquadMembers(MethodView):
    @blp.arguments(SquadMemberQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, SquadMemberSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def get(self, include_former, squad_id: uuid.UUID):
        """The squad's members, by code"""
        squad = squads.get_squad(db(), current_user(), squad_id)
        return squads.members_of(db(), squad, include_former=include_former)

    @blp.arguments(SquadMemberCreateSchema)
    @blp.response(201, SquadMemberSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @authenticated()
    def post(self, body, squad_id: uuid.UUID):
        """Enlist a monitor under a new code, with their real name and phone (never shown again but by unmask)"""
        squad = squads.get_squad(db(), current_user(), squad_id, action="squads.change")
        member = squads.enlist(db(), current_user(), squad, **body)
        return member


@blp.route("/<uuid:squad_id>/members/<uuid:user_id>")
class SquadMemberById(MethodView):
    @blp.arguments(SquadMemberUpdateSchema)
    @blp.response(200, SquadMemberSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def patch(self, body, squad_id: uuid.UUID, user_id: uuid.UUID):
        """Correct a monitor's real name or phone"""
        squad = squads.get_squad(db(), current_user(), squad_id, action="squads.change")
        member = squads.update_identity(db(), current_user(), squads.get_member(db(), squad, user_id), body)
        return member

    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @authenticated()
    def delete(self, squad_id: uuid.UUID, user_id: uuid.UUID):
        """Take a monitor off the squad (their code is never handed out again)"""
        squad = squads.get_squad(db(), current_user(), squad_id, action="squads.change")
        squads.discharge(db(), current_user(), squads.get_member(db(), squad, user_id))


@blp.route("/<uuid:squad_id>/members/<uuid:user_id>/unmask", methods=["POST"])
@discloses_identity
@blp.arguments(UnmaskSchema)
@blp.response(200, IdentitySchema)
@blp.alt_response(404, response="NOT_FOUND")
@authenticated()
def unmask(body, squad_id: uuid.UUID, user_id: uuid.UUID):
    """Who is behind a code: admins only, with a reason; written to the disclosure log and the custody chain

    A disclosure: never replayed (a request with an Idempotency-Key is refused), never cached.
    """
    squad = squads.get_squad(db(), current_user(), squad_id, action="squads.change")
    member = squads.get_member(db(), squad, user_id)
    identity, disclosure = squads.unmask(db(), current_user(), member, reason=body["reason"],
                                         device_id=current_device().id)
    return {"user_id": member.user_id, "code": member.code, "real_name": identity.real_name,
            "phone": identity.phone, "disclosure_id": disclosure.id, "disclosed_at": disclosure.disclosed_at}


@blp.route("/<uuid:squad_id>/disclosures")
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, page_of(DisclosureSchema))
@blp.alt_response(404, response="NOT_FOUND")
@authenticated()
def disclosures(cursor, limit, squad_id: uuid.UUID):
    """The unmasking log of a squad, newest first (admins)"""
    squad = squads.get_squad(db(), current_user(), squad_id, action="squads.change")
    return page(db(), squads.disclosures_query, current_user(), squad, cursor=cursor, limit=limit)
