"""Accounts and device tokens, on the real database."""

from datetime import timedelta

import pytest

from field.accounts import users as accounts
from field.core.errors import AuthenticationFailed, Conflict, InvalidInput, NotAllowed
from field.core.models.platform import Role
from field.core.models.base import utcnow
from tests.conftest import PASSWORD


def test_passwords_are_stored_as_argon2id_hashes(make_user):
    user = make_user()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_a_short_password_is_refused_naming_the_field(session, tree):
    with pytest.raises(InvalidInput) as err:
        accounts.create_user(session, actor=None, username="shorty", password="123", display_name="x",
                             role=Role.inspector, jurisdiction_id=tree["home"].id)
    assert err.value.fields[0].field == "password"


def test_usernames_are_unique_regardless_of_case(make_user, session, tree):
    make_user(username="li.wei")
    with pytest.raises(Conflict):
        accounts.create_user(session, actor=None, username="Li.Wei", password=PASSWORD, display_name="x",
                             role=Role.inspector, jurisdiction_id=tree["home"].id)


def test_a_token_resolves_to_its_user_until_revoked(session, make_user):
    user = make_user()
    issued = accounts.issue_token(session, user, "phone", timedelta(days=1))
    assert accounts.user_for_token(session, issued.token)[0].id == user.id
    accounts.revoke_token(session, issued.device, "logout")
    with pytest.raises(AuthenticationFailed):
        accounts.user_for_token(session, issued.token)


def test_tokens_are_stored_hashed(session, make_user):
    issued = accounts.issue_token(session, make_user(), "phone", timedelta(days=1))
    assert issued.token not in issued.device.token_hash
    assert len(issued.device.token_hash) == 64


def test_an_expired_token_is_refused(session, make_user):
    issued = accounts.issue_token(session, make_user(), "phone", timedelta(days=1))
    with pytest.raises(AuthenticationFailed, match="expired"):
        accounts.user_for_token(session, issued.token, now=utcnow() + timedelta(days=2))


@pytest.mark.parametrize("changes", [
    {"role": Role.reviewer}, {"disabled": True}, {"password": "a new long password"},
])
def test_changing_role_status_or_password_revokes_every_token(session, make_user, changes):
    admin, user = make_user(Role.admin), make_user()
    tokens = [accounts.issue_token(session, user, f"phone {i}", timedelta(days=1)) for i in range(2)]
    accounts.change_user(session, admin, user, changes)
    for issued in tokens:
        with pytest.raises(AuthenticationFailed):
            accounts.user_for_token(session, issued.token)


def test_moving_a_user_to_another_jurisdiction_revokes_their_tokens(session, make_user, tree):
    admin = make_user(Role.admin, jurisdiction=tree["city"])
    user = make_user()
    issued = accounts.issue_token(session, user, "phone", timedelta(days=1))
    accounts.change_user(session, admin, user, {"jurisdiction_id": tree["other"].id})
    with pytest.raises(AuthenticationFailed):
        accounts.user_for_token(session, issued.token)


def test_an_admin_cannot_move_a_user_outside_their_own_scope(session, make_user, tree):
    admin, user = make_user(Role.admin), make_user()
    with pytest.raises(InvalidInput) as err:
        accounts.change_user(session, admin, user, {"jurisdiction_id": tree["other"].id})
    assert err.value.fields[0].field == "jurisdiction_id"


def test_only_admins_manage_accounts(session, make_user, tree):
    reviewer = make_user(Role.reviewer)
    with pytest.raises(NotAllowed):
        accounts.create_user(session, actor=reviewer, username="newbie", password=PASSWORD,
                             display_name="x", role=Role.inspector, jurisdiction_id=tree["home"].id)


def test_a_disabled_account_cannot_log_in(session, make_user):
    admin, user = make_user(Role.admin), make_user()
    accounts.change_user(session, admin, user, {"disabled": True})
    with pytest.raises(AuthenticationFailed, match="disabled"):
        accounts.authenticate(session, user.username, PASSWORD)


def test_a_wrong_password_and_an_unknown_user_fail_alike(session, make_user):
    user = make_user()
    with pytest.raises(AuthenticationFailed) as wrong:
        accounts.authenticate(session, user.username, "not the password")
    with pytest.raises(AuthenticationFailed) as unknown:
        accounts.authenticate(session, "nobody-here", "not the password")
    assert wrong.value.detail == unknown.value.detail


def test_a_squad_members_display_name_stays_their_code(session, make_user):
    admin, monitor = make_user(Role.admin), make_user(Role.squad_member)
    with pytest.raises(InvalidInput) as err:
        accounts.change_user(session, admin, monitor, {"display_name": "张三"})
    assert err.value.fields[0].field == "display_name"
