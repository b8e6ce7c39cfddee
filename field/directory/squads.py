"""Undercover visit squads (暗访小分队): members known by codes; real identities only through an audited unmask.

A member's real name and phone live in ``monitor_identities`` and nowhere else: the
account's ``display_name`` is the code, and an account made here gets the code as its
username too, so no user list, ``/me`` or record shows who the monitor is. The only
read of an identity is ``unmask``, by an admin of the squad's scope, with a reason,
and it writes an ``identity_disclosures`` row and a custody entry (``squad.member_unmasked``,
in the squad's jurisdiction's hash chain: who, whose code, why; never the name or phone) in
the same transaction. The row is the admins' list; the chain is what makes a deleted row
show: ``fieldwatch verify`` walks it.
"""

from __future__ import annotations

import uuid
from typing import Iterable

from sqlalchemy import ColumnElement, Select, and_, false, func, select
from sqlalchemy.orm import Session

from field.custody import chain as custody

from field.accounts import users as accounts
from field.core.pages import keyed
from field.core import sync
from field.core.errors import Conflict, FieldProblem, InvalidInput, NotAllowed, NotFound
from field.core.models.platform import OFFICE_ROLES, Role, User
from field.core.models.base import utcnow
from field.core.models.changes import Change
from .models import IdentityDisclosure, MonitorIdentity, Squad, SquadMember
from field.core.scope import in_scope, jurisdiction_in_scope
from field.core.scoped import clean, get_live, live, require_admin, target_jurisdiction, text_matches
from .policy import POLICY

#: Letters of the member codes: no I or O, which read as 1 and 0.
CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
CODES_PER_LETTER = 99
MAX_CODES = len(CODE_LETTERS) * CODES_PER_LETTER


def member_code(prefix: str, n: int) -> str:
    """The ``n``-th code of a squad (1-based): JLP-A01 … JLP-A99, JLP-B01 …"""
    if not 1 <= n <= MAX_CODES:
        raise ValueError(f"code number {n} out of range")
    letter, number = divmod(n - 1, CODES_PER_LETTER)
    return f"{prefix}-{CODE_LETTERS[letter]}{number + 1:02d}"


def _active_squad_ids(user: User) -> Select:
    return select(SquadMember.squad_id).where(SquadMember.user_id == user.id, SquadMember.left_at.is_(None))


def visible_squads(user: User) -> ColumnElement[bool]:
    """The office sees every squad of its scope; a monitor sees their own squad; nobody else sees any."""
    base = and_(live(Squad), in_scope(Squad.jurisdiction_id, user))
    if user.role in OFFICE_ROLES:
        return base
    if user.role is Role.squad_member:
        return and_(base, Squad.id.in_(_active_squad_ids(user)))
    return false()


sync.register_audience("squad", lambda user: Change.audience_id.in_(_active_squad_ids(user)))


def _log(session: Session, squad: Squad, *, dropped: Iterable[uuid.UUID] = ()) -> None:
    sync.record(session, "squad", squad.id, squad.jurisdiction_id, sync.Audience("squad", squad.id))
    for user_id in dropped:
        sync.record(session, "squad", squad.id, squad.jurisdiction_id, sync.Audience("user", user_id))


def create_squad(session: Session, actor: User | None, *, name: str, code_prefix: str,
                 jurisdiction_id: uuid.UUID | None = None) -> Squad:
    require_admin(actor, "squads")
    jurisdiction = target_jurisdiction(session, actor, jurisdiction_id)
    prefix = code_prefix.strip().upper()
    if session.execute(select(Squad.id).where(Squad.code_prefix == prefix)).first():
        raise Conflict(f"The code prefix {prefix} is taken (codes are never reused).",
                       fields=[FieldProblem("code_prefix", "Already taken.")])
    squad = Squad(name=name.strip(), code_prefix=prefix, jurisdiction_id=jurisdiction.id, codes_issued=0)
    session.add(squad)
    session.flush()
    _log(session, squad)
    return squad


def update_squad(session: Session, actor: User | None, squad: Squad, changes: dict) -> Squad:
    require_admin(actor, "squads")
    if "name" in changes:
        squad.name = changes["name"].strip()
    squad.updated_at = utcnow()
    session.flush()
    _log(session, squad)
    return squad


def delete_squad(session: Session, actor: User | None, squad: Squad) -> None:
    require_admin(actor, "squads")
    if squad.current_members:
        raise Conflict(f"{squad.name} still has members; remove them first.")
    squad.deleted_at = utcnow()
    session.flush()
    _log(session, squad)


def get_squad(session: Session, user: User, squad_id: uuid.UUID, *, action: str | None = None) -> Squad:
    POLICY.require(user, action)
    return get_live(session, Squad, squad_id, user, "squad", visible_squads(user))


@keyed(Squad.created_at, Squad.id)
def squads_query(user: User, *, q: str | None = None) -> Select:
    stmt = select(Squad).where(visible_squads(user))
    if q:
        stmt = stmt.where(text_matches(q, Squad.name, Squad.code_prefix))
    return stmt


def load_squads(session: Session, user: User, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Squad]:
    rows = session.execute(squads_query(user).where(Squad.id.in_(list(ids)))).scalars()
    return {s.id: s for s in rows}


sync.register_feed("squad", load_squads)


# -- members --------------------------------------------------------------------------------


def _issue_code(session: Session, squad: Squad) -> str:
    # Lock the squad row: two admins enlisting at once must not get the same number.
    session.execute(select(Squad.id).where(Squad.id == squad.id).with_for_update())
    session.refresh(squad, ["codes_issued"])
    if squad.codes_issued >= MAX_CODES:
        raise Conflict(f"{squad.name} has issued all {MAX_CODES} of its codes; start a new squad.")
    squad.codes_issued += 1
    return member_code(squad.code_prefix, squad.codes_issued)


def _record_identity(session: Session, user_id: uuid.UUID, real_name: str, phone: str | None) -> None:
    real_name = real_name.strip()
    if not real_name:
        raise InvalidInput("real_name", "Required.")
    identity = session.get(MonitorIdentity, user_id)
    if identity is None:
        session.add(MonitorIdentity(user_id=user_id, real_name=real_name, phone=clean(phone)))
    else:
        identity.real_name, identity.phone = real_name, clean(phone)


def enlist(session: Session, actor: User | None, squad: Squad, *, real_name: str, phone: str | None = None,
           password: str | None = None, user_id: uuid.UUID | None = None) -> SquadMember:
    """Add a monitor to ``squad`` under a new code: a new account (``password``) or an existing
    squad_member account (``user_id``). Either way the account shows the code, never the name."""
    require_admin(actor, "squads")
    if (password is None) == (user_id is None):
        raise InvalidInput("user_id", "Give either user_id (an existing squad_member account) or a password "
                                      "for a new account.")
    if user_id is not None:
        user = session.get(User, user_id)
        if user is None or (actor is not None and not jurisdiction_in_scope(user.jurisdiction, actor)):
            raise InvalidInput("user_id", "No such user.")
        if user.role is not Role.squad_member:
            raise InvalidInput("user_id", "Only an account with the squad_member role joins a squad.")
        if session.execute(select(SquadMember.id).where(
                SquadMember.user_id == user.id, SquadMember.left_at.is_(None))).first():
            raise Conflict("This monitor is in a squad already; remove them from it first.",
                           fields=[FieldProblem("user_id", "Already in a squad.")])
        code = _issue_code(session, squad)
        user.display_name = code
    else:
        code = _issue_code(session, squad)
        user = accounts.create_user(session, actor=actor, username=code.lower(), password=password,
                                    display_name=code, role=Role.squad_member, jurisdiction_id=squad.jurisdiction_id)
    _record_identity(session, user.id, real_name, phone)
    member = SquadMember(squad_id=squad.id, squad=squad, user_id=user.id, code=code, joined_at=utcnow())
    session.add(member)
    squad.updated_at = utcnow()
    session.flush()
    _log(session, squad)
    return member


def get_member(session: Session, squad: Squad, user_id: uuid.UUID) -> SquadMember:
    """The membership of ``user_id`` in ``squad`` (the latest, if they left and came back)."""
    member = session.execute(select(SquadMember).where(SquadMember.squad_id == squad.id,
                                                       SquadMember.user_id == user_id)
                             .order_by(SquadMember.joined_at.desc()).limit(1)).scalar_one_or_none()
    if member is None:
        raise NotFound("squad member")
    return member


def members_of(session: Session, squad: Squad, *, include_former: bool = False) -> list[SquadMember]:
    stmt = select(SquadMember).where(SquadMember.squad_id == squad.id)
    if not include_former:
        stmt = stmt.where(SquadMember.left_at.is_(None))
    return list(session.execute(stmt.order_by(SquadMember.code)).scalars())


def update_identity(session: Session, actor: User | None, member: SquadMember, changes: dict) -> SquadMember:
    require_admin(actor, "squads")
    identity = session.get(MonitorIdentity, member.user_id)
    real_name = changes.get("real_name", identity.real_name if identity else "")
    phone = changes.get("phone", identity.phone if identity else None)
    _record_identity(session, member.user_id, real_name, phone)
    session.flush()
    return member


def discharge(session: Session, actor: User | None, member: SquadMember) -> None:
    """The monitor leaves the squad; the code stays theirs in history and is never handed out again."""
    require_admin(actor, "squads")
    if member.left_at is None:
        member.left_at = utcnow()
        member.squad.updated_at = utcnow()
        session.flush()
        _log(session, member.squad, dropped=[member.user_id])


def unmask(session: Session, actor: User, member: SquadMember, *, reason: str,
           device_id: uuid.UUID | None) -> tuple[MonitorIdentity, IdentityDisclosure]:
    """The real identity behind a code, for an admin, with the disclosure written in the same transaction:
    a row of ``identity_disclosures`` and an entry of the custody chain."""
    if actor.role is not Role.admin:
        raise NotAllowed("Only an admin may see who a monitor is.")
    reason = reason.strip()
    if len(reason) < 2:
        raise InvalidInput("reason", "Say why you need to know who this monitor is.")
    identity = session.get(MonitorIdentity, member.user_id)
    if identity is None:
        raise NotFound("identity")
    disclosure = IdentityDisclosure(actor_id=actor.id, subject_id=member.user_id, squad_id=member.squad_id,
                                    device_id=device_id, reason=reason, disclosed_at=utcnow())
    session.add(disclosure)
    session.flush()
    custody.record(session, jurisdiction_id=member.squad.jurisdiction_id, kind="squad.member_unmasked",
                   subject_type="squad_member", subject_id=member.user_id, actor=actor, device_id=device_id,
                   data={"squad_id": member.squad_id, "code": member.code, "reason": reason,
                         "disclosure_id": disclosure.id})
    return identity, disclosure


@keyed(IdentityDisclosure.disclosed_at, IdentityDisclosure.id, descending=True)
def disclosures_query(actor: User, squad: Squad) -> Select:
    if actor.role is not Role.admin:
        raise NotAllowed("Only an admin reads the unmasking log.")
    return select(IdentityDisclosure).where(IdentityDisclosure.squad_id == squad.id)


def active_member_counts(session: Session, squad_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many members each squad has now (the console's directory: counts, never names)."""
    if not squad_ids:
        return {}
    return dict(session.execute(
        select(SquadMember.squad_id, func.count()).where(SquadMember.squad_id.in_(squad_ids),
                                                          SquadMember.left_at.is_(None))
        .group_by(SquadMember.squad_id)).all())


def count_squads(session: Session, user: User) -> int:
    return session.execute(select(func.count(Squad.id)).where(visible_squads(user))).scalar_one()
