"""Two-factor authentication with an authenticator app (TOTP): setting it up from the profile,
the second step of signing in, turning it off, and the rule that admins must use it."""

import base64
import re
import time

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from django_otp.oath import TOTP, totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm.accounts.services import api_token_create
from crm.audit.models import AuditEvent
from tests.accounts.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

VERIFY_URL = "/accounts/2fa/verify/"
SETUP_URL = "/accounts/2fa/setup/"


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    if not steps_ahead:
        return f"{totp(device.bin_key):06d}"
    # A code is accepted once: the next step's code (inside the tolerance) gives a fresh one.
    generator = TOTP(device.bin_key)
    generator.time = time.time() + steps_ahead * device.step
    return f"{generator.token():06d}"


@pytest.fixture
def rep_device(rep):
    return TOTPDevice.objects.create(user=rep, name="Phone", confirmed=True)


def log_in(client, next_url=""):
    return client.post(
        "/accounts/login/" + (f"?next={next_url}" if next_url else ""),
        {"username": "rep", "password": DEFAULT_PASSWORD},
    )


def test_the_profile_offers_two_factor_authentication(rep_client):
    # given  # when
    response = rep_client.get("/accounts/profile/")

    # then
    assert "Two-factor authentication" in response.content.decode()
    assert f'href="{SETUP_URL}"' in response.content.decode()


def test_setting_up_shows_a_qr_code_and_the_secret_and_a_code_confirms_it(rep, rep_client):
    # given the set-up page
    page = rep_client.get(SETUP_URL)
    device = TOTPDevice.objects.get(user=rep)
    text = page.content.decode()

    # then it shows the QR code as a data: image, and the secret to type in
    assert page.status_code == 200
    image = re.search(r'<img src="data:image/svg\+xml;base64,([^"]+)"', text)
    assert image and b"<svg" in base64.b64decode(image.group(1))
    assert base64.b32encode(device.bin_key).decode() in text
    assert not device.confirmed

    # when a wrong code is entered, then the right one
    wrong = rep_client.post(SETUP_URL, {"code": "000000"})
    device.throttle_reset()
    right = rep_client.post(SETUP_URL, {"code": code_for(device)})

    # then only the right one turns it on, and the session counts as verified
    assert wrong.status_code == 400
    assert "That code is not right" in wrong.content.decode()
    assert right.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert rep_client.session["otp_device_id"] == device.persistent_id
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.TWO_FACTOR_ENABLED, actor=rep).exists()
    assert "Turn off" in rep_client.get(SETUP_URL).content.decode()


def test_signing_in_with_a_device_asks_for_a_code(client, rep, rep_device):
    # given the rep's correct password
    response = log_in(client, next_url="/customers/")

    # then they are sent to the second step, not signed in yet
    assert response.status_code == 302
    assert response["Location"] == VERIFY_URL
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302
    assert "Enter your code" in client.get(VERIFY_URL).content.decode()

    # when they enter the code from their app
    verified = client.post(VERIFY_URL, {"code": code_for(rep_device)})

    # then they are signed in, verified, and go where they were going
    assert verified.status_code == 302
    assert verified["Location"] == "/customers/"
    assert client.session["_auth_user_id"] == str(rep.pk)
    assert client.session["otp_device_id"] == rep_device.persistent_id
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN, actor=rep).exists()


def test_a_wrong_code_is_a_failed_attempt_and_slows_the_next(client, rep, rep_device):
    # given the rep past the password step
    log_in(client)

    # when they enter a wrong code, then at once the right one
    wrong = client.post(VERIFY_URL, {"code": "000000"})
    too_soon = client.post(VERIFY_URL, {"code": code_for(rep_device)})

    # then both are refused: the second because django-otp makes them wait
    assert wrong.status_code == 400
    assert "That code is not right" in wrong.content.decode()
    assert too_soon.status_code == 400
    assert "Too many wrong codes" in too_soon.content.decode()
    assert "_auth_user_id" not in client.session
    failures = AuditEvent.objects.filter(kind=AuditEvent.Kind.TWO_FACTOR_FAILED, username="rep")
    assert failures.count() == 2
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN_FAILED).exists()

    # and once the wait is over, the right code works
    rep_device.refresh_from_db()
    rep_device.throttle_reset()
    assert client.post(VERIFY_URL, {"code": code_for(rep_device, 1)}).status_code == 302


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3, OTP_TOTP_THROTTLE_FACTOR=0)
def test_wrong_codes_count_towards_the_lockout(client, rep, rep_device):
    # given the rep past the password step
    log_in(client)

    # when they enter three wrong codes
    statuses = [client.post(VERIFY_URL, {"code": "000000"}).status_code for _n in range(3)]

    # then the third locks them out, and so does the right code afterwards
    assert statuses == [400, 400, 429]
    assert client.post(VERIFY_URL, {"code": code_for(rep_device)}).status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_second_step_expires(client, rep, rep_device):
    # given the password step done six minutes ago
    log_in(client)
    session = client.session
    session["crm_two_factor_pending"]["started_at"] = timezone.now().timestamp() - 6 * 60
    session.save()

    # when the code arrives
    response = client.post(VERIFY_URL, {"code": code_for(rep_device)}, follow=True)

    # then the rep has to log in again
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert "took too long" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_verify_step_without_a_password_step_goes_to_login(client):
    # given  # when
    response = client.get(VERIFY_URL)

    # then
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"


def test_turning_it_off_needs_a_current_code(rep, rep_client, rep_device):
    # given  # when a wrong code is given
    refused = rep_client.post("/accounts/2fa/disable/", {"code": "000000"})
    rep_device.refresh_from_db()
    rep_device.throttle_reset()

    # then the device stays
    assert refused.status_code == 400
    assert TOTPDevice.objects.filter(user=rep).exists()

    # when the right code is given
    done = rep_client.post("/accounts/2fa/disable/", {"code": code_for(rep_device)})

    # then it is gone, recorded, and signing in asks for the password only
    assert done.status_code == 302
    assert not TOTPDevice.objects.filter(user=rep).exists()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.TWO_FACTOR_DISABLED, actor=rep).exists()


@override_settings(CRM_REQUIRE_2FA_FOR_ADMINS=True)
@pytest.mark.parametrize("path", ["/", "/customers/", "/admin/", "/accounts/profile/"])
def test_an_admin_without_a_device_is_sent_to_set_one_up(path, admin_user, client_for):
    # given  # when
    response = client_for(admin_user).get(path)

    # then
    assert response.status_code == 302
    assert response["Location"] == SETUP_URL


@override_settings(CRM_REQUIRE_2FA_FOR_ADMINS=True)
def test_an_admin_sets_it_up_and_then_gets_in(admin_user, client_for):
    # given an admin sent to the set-up page
    client = client_for(admin_user)
    assert client.get(SETUP_URL).status_code == 200
    device = TOTPDevice.objects.get(user=admin_user)

    # when they confirm a code
    client.post(SETUP_URL, {"code": code_for(device)})

    # then every page opens
    assert client.get("/").status_code == 200
    assert client.get("/admin/").status_code == 200


@override_settings(CRM_REQUIRE_2FA_FOR_ADMINS=True)
def test_the_rule_leaves_other_users_tokens_and_htmx_alone(admin_user, rep_client, client_for):
    # given an admin without a device, with an API token
    _token, plain = api_token_create(user=admin_user, name="Script")
    admin_client = client_for(admin_user)

    # when  # then a rep is not asked, the admin's token works, and htmx gets a 401
    assert rep_client.get("/").status_code == 200
    assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {plain}").status_code == 200
    assert admin_client.get("/customers/", HTTP_HX_REQUEST="true").status_code == 401


def test_the_admin_signs_in_through_the_sites_login(client):
    # given  # when
    response = client.get("/admin/login/?next=/admin/accounts/user/")

    # then
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/accounts/user/"
