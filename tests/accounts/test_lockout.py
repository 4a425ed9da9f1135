"""Lockout after repeated failed logins (django-axes), per username and per address, through the
real login form."""

import pytest
from axes.models import AccessAttempt
from django.test import override_settings
from django.utils import timezone

from crm.accounts.services import api_token_create
from crm.audit.models import AuditEvent
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lockout_on")]

LIMIT = 5


@pytest.fixture
def lockout_on():
    with override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=LIMIT):
        yield


def log_in(client, username, password, ip="10.0.0.1"):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_a_username_is_locked_out_after_failures_from_many_addresses(client, rep):
    # given five wrong passwords for the rep, each from another address: the fifth locks
    statuses = [log_in(client, "rep", "wrong", ip=f"10.0.1.{n}").status_code for n in range(5)]
    assert statuses == [200] * (LIMIT - 1) + [429]

    # when the right password comes from yet another address
    response = log_in(client, "rep", DEFAULT_PASSWORD, ip="10.0.2.1")

    # then the login is refused with the lockout page, in the site's layout
    assert response.status_code == 429
    text = response.content.decode()
    assert "Too many failed logins" in text
    assert "Try again in 15 minutes" in text
    assert 'href="/accounts/password_reset/"' in text
    assert "_auth_user_id" not in client.session
    # and the failures and the lockout are in the audit log
    failed = AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN_FAILED, username="rep")
    assert failed.count() == LIMIT + 1
    locked = AuditEvent.objects.filter(kind=AuditEvent.Kind.LOCKED_OUT, username="rep")
    assert locked.exists()
    assert set(failed.values_list("ip_address", flat=True)) >= {"10.0.1.0", "10.0.1.4"}


def test_an_address_is_locked_out_after_failures_for_many_usernames(client, rep):
    # given five wrong logins from one address, each for another username
    for n in range(LIMIT):
        log_in(client, f"nobody{n}", "wrong", ip="10.0.3.3")

    # when the rep logs in correctly from that address, and from another one
    from_there = log_in(client, "rep", DEFAULT_PASSWORD, ip="10.0.3.3")
    elsewhere = log_in(client, "rep", DEFAULT_PASSWORD, ip="10.0.3.4")

    # then only the address is blocked
    assert from_there.status_code == 429
    assert elsewhere.status_code == 302


def test_fewer_failures_than_the_limit_do_not_lock(client, rep):
    # given one failure fewer than the limit
    for _n in range(LIMIT - 1):
        log_in(client, "rep", "wrong")

    # when  # then
    assert log_in(client, "rep", DEFAULT_PASSWORD).status_code == 302


def test_a_success_resets_the_count(client, rep):
    # given four failures, then a success, then four failures again
    for _n in range(LIMIT - 1):
        log_in(client, "rep", "wrong")
    assert log_in(client, "rep", DEFAULT_PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for _n in range(LIMIT - 1):
        log_in(client, "rep", "wrong")

    # when  # then the earlier failures no longer count
    assert log_in(client, "rep", DEFAULT_PASSWORD).status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, rep):
    # given a locked-out rep
    for _n in range(LIMIT):
        log_in(client, "rep", "wrong")
    assert log_in(client, "rep", DEFAULT_PASSWORD).status_code == 429

    # when the cool-off has passed since the failures
    AccessAttempt.objects.update(attempt_time=timezone.now() - timezone.timedelta(minutes=16))

    # then the right password works again
    assert log_in(client, "rep", DEFAULT_PASSWORD).status_code == 302


def test_the_api_keeps_working_for_a_locked_out_user(client, rep):
    # given a rep locked out of the login page, with an API token
    _token, plain = api_token_create(user=rep, name="Script")
    for _n in range(LIMIT):
        log_in(client, "rep", "wrong")

    # when the token is used
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {plain}")

    # then the API answers as usual
    assert response.status_code == 200
    assert response.json()["username"] == "rep"


def test_an_admin_unlocks_a_user_from_the_admin(client, rep, client_for):
    # given a locked-out rep
    for _n in range(LIMIT):
        log_in(client, "rep", "wrong")
    root = client_for(UserFactory(username="root", is_staff=True, is_superuser=True))

    # when an admin looks at the access attempts and deletes the rep's
    listing = root.get("/admin/axes/accessattempt/?locked_out=yes")
    attempt = AccessAttempt.objects.get(username="rep")
    deleted = root.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )

    # then the attempt was listed, is gone, and the rep can log in again
    assert listing.status_code == 200
    assert "rep" in listing.content.decode()
    assert deleted.status_code == 302
    assert log_in(client, "rep", DEFAULT_PASSWORD).status_code == 302
