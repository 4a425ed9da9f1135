"""Signing in and out, passwords, the profile, team pages, error pages and the security headers."""

import html
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from crm.accounts.services import user_preferences_update
from tests.accounts.factories import DEFAULT_PASSWORD, TeamMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-42"


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def csrf_token_from(response) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())
    assert match, "no CSRF token in the form"
    return match.group(1)


def test_login_page_renders_with_a_csrf_token(client):
    # given someone not signed in  # when
    response = client.get("/accounts/login/")

    # then
    assert response.status_code == 200
    assert "csrfmiddlewaretoken" in response.content.decode()


def test_login_with_good_credentials_redirects_home(rep):
    # given the login form, fetched by a client that enforces CSRF like a browser
    client = Client(enforce_csrf_checks=True)
    token = csrf_token_from(client.get("/accounts/login/"))

    # when the rep logs in
    response = client.post(
        "/accounts/login/",
        {"username": "rep", "password": DEFAULT_PASSWORD, "csrfmiddlewaretoken": token},
    )

    # then they land on the home page, signed in
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_login_with_bad_credentials_shows_an_error(client, rep):
    # given  # when
    response = client.post("/accounts/login/", {"username": "rep", "password": "wrong"})

    # then
    assert response.status_code == 200
    assert "Your username and password didn't match" in text_of(response)
    assert "_auth_user_id" not in client.session


def test_anonymous_home_redirects_to_login(client):
    # given someone not signed in  # when
    response = client.get("/")

    # then
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_logout_is_post_only(rep_client):
    # given a signed-in rep
    # when they GET the logout URL, then nothing happens
    assert rep_client.get("/accounts/logout/").status_code == 405
    assert rep_client.get("/").status_code == 200

    # when they POST it
    response = rep_client.post("/accounts/logout/")

    # then they are signed out and sent to the login page
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert rep_client.get("/").status_code == 302


def test_password_change(rep, rep_client):
    # given a signed-in rep  # when they change their password
    response = rep_client.post(
        "/accounts/password_change/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    # then it is changed, and they stay signed in
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_change/done/"
    rep.refresh_from_db()
    assert rep.check_password(NEW_PASSWORD)
    assert rep_client.get("/accounts/password_change/done/").status_code == 200


def test_password_change_with_a_wrong_old_password_is_refused(rep, rep_client):
    # given  # when
    response = rep_client.post(
        "/accounts/password_change/",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    # then
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()
    rep.refresh_from_db()
    assert rep.check_password(DEFAULT_PASSWORD)


def test_password_reset_flow(client, rep):
    # given a rep who forgot their password
    # when they ask for a reset link
    response = client.post("/accounts/password_reset/", {"email": rep.email})

    # then an email with a link goes out
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_reset/done/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [rep.email]
    assert message.subject == "Reset your crm password"
    link = re.search(r"http://testserver(/accounts/reset/\S+/\S+/)", message.body)
    assert link, message.body

    # when they follow the link and choose a new password
    confirm = client.get(link.group(1), follow=True)
    assert confirm.status_code == 200
    assert confirm.context["validlink"]
    set_password_url = confirm.redirect_chain[-1][0]
    done = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    # then the password is set and the link is spent
    assert done.status_code == 302
    assert done["Location"] == "/accounts/reset/done/"
    assert "You can log in now" in client.get("/accounts/reset/done/").content.decode()
    rep.refresh_from_db()
    assert rep.check_password(NEW_PASSWORD)
    spent = client.get(link.group(1), follow=True)
    assert not spent.context["validlink"]


def test_password_reset_for_an_unknown_address_sends_nothing(client, rep):
    # given  # when
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.com"})

    # then the answer is the same, so addresses cannot be probed, and no email goes out
    assert response.status_code == 302
    assert mail.outbox == []


def profile_form(**changes) -> dict:
    return {"display_name": "", "phone": "", "time_zone": "", "language": "", **changes}


def test_profile_updates_the_users_preferences(rep, rep_client):
    # given a signed-in rep
    # when they save their profile
    response = rep_client.post(
        "/accounts/profile/",
        profile_form(display_name="Riley C.", time_zone="Asia/Shanghai", language="zh-hans"),
    )

    # then it is saved
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    rep.refresh_from_db()
    assert (rep.display_name, rep.time_zone, rep.language) == (
        "Riley C.",
        "Asia/Shanghai",
        "zh-hans",
    )


def test_profile_rejects_an_unknown_time_zone(rep, rep_client):
    # given  # when
    response = rep_client.post("/accounts/profile/", profile_form(time_zone="Mars/Olympus"))

    # then the form is shown again with the error on the field, and nothing is saved
    assert response.status_code == 200
    assert "Mars/Olympus" in str(response.context["form"].errors["time_zone"])
    rep.refresh_from_db()
    assert rep.time_zone == ""


def test_preferences_service_explains_an_unknown_time_zone(rep):
    # given  # when
    with pytest.raises(ValidationError) as caught:
        user_preferences_update(user=rep, time_zone="Mars/Olympus")

    # then
    assert caught.value.message_dict == {"time_zone": ["“Mars/Olympus” is not a known time zone."]}


def test_preferences_service_refuses_other_fields(rep):
    # given  # when  # then
    with pytest.raises(ValidationError) as caught:
        user_preferences_update(user=rep, is_superuser=True)
    assert "is_superuser" in caught.value.message_dict
    rep.refresh_from_db()
    assert not rep.is_superuser


def test_the_users_language_is_used(client_for):
    # given a rep who prefers Simplified Chinese
    user = UserFactory(language="zh-hans", roles=["Sales rep"])

    # when they open the home page
    response = client_for(user).get("/", HTTP_ACCEPT_LANGUAGE="en")

    # then the page is in that language
    assert response["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in response.content.decode()


def test_team_pages(rep, rep_teammate, team, rep_client):
    # given a rep in a team
    # when they open the team list and the team
    listing = rep_client.get("/accounts/teams/")
    detail = rep_client.get(f"/accounts/teams/{team.pk}/")

    # then they see the team and its members
    assert listing.status_code == 200
    assert "Sales East" in listing.content.decode()
    assert detail.status_code == 200
    body = detail.content.decode()
    assert "Riley Chen" in body
    assert rep_teammate.email in body


def test_team_list_queries_do_not_grow_with_teams(rep_client, django_assert_max_num_queries):
    # given many teams with members
    for _ in range(30):
        TeamMembershipFactory()

    # when  # then
    with django_assert_max_num_queries(9):
        response = rep_client.get("/accounts/teams/")
    assert response.status_code == 200
    assert len(response.context["page"]) == 25


def test_team_pages_need_a_role(team, user_without_role, client_for):
    # given a user without any role
    client = client_for(user_without_role)

    for url in ("/accounts/teams/", f"/accounts/teams/{team.pk}/"):
        # when they open a team page
        response = client.get(url)

        # then they get a friendly 403 page
        assert response.status_code == 403, url
        assert "You don't have permission to see this page." in text_of(response)
        assert "ask your manager or an administrator" in text_of(response)


def test_not_found_page_is_friendly(rep_client):
    # given  # when
    response = rep_client.get("/no-such-page/")

    # then
    assert response.status_code == 404
    assert "We couldn't find that page." in text_of(response)
    assert 'href="/"' in response.content.decode()


def test_api_not_found_is_json(rep_client):
    # given  # when
    response = rep_client.get("/api/v1/no-such-endpoint/")

    # then
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "url", ["/accounts/login/", "/", "/customers/", "/api/v1/me/", "/healthz", "/nowhere/"]
)
def test_every_response_has_the_content_security_policy(rep_client, url):
    # given  # when
    response = rep_client.get(url)

    # then
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/accounts/profile/",
        "/accounts/teams/",
        "/accounts/password_change/",
        "/customers/",
        "/customers/companies/",
        "/nowhere/",
    ],
)
def test_pages_have_no_inline_scripts(rep_client, url):
    # given a signed-in rep  # when they open a page
    body = rep_client.get(url).content.decode()

    # then every script comes from a file, as the content security policy requires
    tags = SCRIPT_TAG.findall(body)
    assert tags, "the base layout loads its scripts"
    assert all("src=" in tag for tag in tags), [tag for tag in tags if "src=" not in tag]
    assert not INLINE_HANDLER.search(body)


def test_login_page_has_no_inline_scripts(client):
    # given  # when
    body = client.get("/accounts/login/").content.decode()

    # then
    assert all("src=" in tag for tag in SCRIPT_TAG.findall(body))


def test_server_error_page_is_friendly(rep, monkeypatch):
    # given a home panel that breaks
    def broken_panel(request):
        raise RuntimeError("the panel broke")

    monkeypatch.setattr("crm.home._providers", [(0, broken_panel)])
    client = Client(raise_request_exception=False)
    client.force_login(rep)

    # when
    response = client.get("/")

    # then the user sees an apology, not a traceback
    assert response.status_code == 500
    assert "Something went wrong on our side." in text_of(response)
    assert "the panel broke" not in text_of(response)


def test_api_server_error_is_json(rep, monkeypatch):
    # given a selector that breaks
    def broken_selector(**kwargs):
        raise RuntimeError("the selector broke")

    monkeypatch.setattr("customers.selectors.customers.customer_list_visible", broken_selector)
    client = Client(raise_request_exception=False)
    client.force_login(rep)

    # when
    response = client.get("/api/v1/customers/")

    # then
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "server_error",
            "message": "The server could not complete the request.",
            "fields": {},
        }
    }
