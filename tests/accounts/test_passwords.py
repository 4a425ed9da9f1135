"""Strong passwords on the password change page and in the admin, and what a change does to the
other sessions."""

import html

import pytest

from crm.accounts.models import User, UserSession
from crm.audit.models import AuditEvent
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

STRONG = "a-brand-new-passphrase-42"
WEAK = [
    ("short-pw1", "This password is too short. It must contain at least 12 characters."),
    ("password1234", "This password is too common."),
    ("123456789012345", "This password is entirely numeric."),
    ("margaret.thompson1", "The password is too similar to the username."),
]


@pytest.fixture
def margaret(db):
    return UserFactory(username="margaret.thompson")


def change_password(client, new):
    return client.post(
        "/accounts/password_change/",
        {"old_password": DEFAULT_PASSWORD, "new_password1": new, "new_password2": new},
    )


@pytest.mark.parametrize(("password", "message"), WEAK)
def test_a_weak_new_password_is_refused_with_the_reason(password, message, margaret, client_for):
    # given margaret signed in
    client = client_for(margaret)

    # when she picks a weak password
    response = change_password(client, password)

    # then the page says why, and the old password still works
    assert response.status_code == 200
    assert message in html.unescape(response.content.decode())
    margaret.refresh_from_db()
    assert margaret.check_password(DEFAULT_PASSWORD)
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.PASSWORD_CHANGED).exists()


def test_a_password_change_keeps_only_the_current_session(margaret, client_for):
    # given margaret signed in on two browsers
    here, there = client_for(margaret), client_for(margaret)
    assert UserSession.objects.filter(user=margaret).count() == 2

    # when she changes her password on one
    response = change_password(here, STRONG)

    # then it is changed and recorded; this browser stays signed in, the other is signed out
    assert response.status_code == 302
    margaret.refresh_from_db()
    assert margaret.check_password(STRONG)
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.PASSWORD_CHANGED, actor=margaret).exists()
    assert here.get("/accounts/profile/").status_code == 200
    assert there.get("/accounts/profile/").status_code == 302
    assert list(
        UserSession.objects.filter(user=margaret).values_list("session_key", flat=True)
    ) == [here.session.session_key]


@pytest.mark.parametrize(("password", "message"), WEAK[:3])
def test_the_admin_refuses_a_weak_password_for_a_new_user(password, message, client_for):
    # given an admin on the add user page
    root = client_for(UserFactory(username="root", is_staff=True, is_superuser=True))

    # when they give the new user a weak password
    response = root.post(
        "/admin/accounts/user/add/",
        {
            "username": "newbie",
            "usable_password": "true",
            "password1": password,
            "password2": password,
        },
    )

    # then no user is made and the page says why
    assert response.status_code == 200
    assert message in html.unescape(response.content.decode())
    assert not User.objects.filter(username="newbie").exists()


def test_the_admin_accepts_a_strong_password_for_a_new_user(client_for):
    # given  # when
    root = client_for(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = root.post(
        "/admin/accounts/user/add/",
        {"username": "newbie", "password1": STRONG, "password2": STRONG},
    )

    # then
    assert response.status_code == 302
    assert User.objects.get(username="newbie").check_password(STRONG)
