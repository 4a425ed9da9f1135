"""The language switcher: saved on a signed-in user, a cookie for everyone, and back to where the
switch was made when that is one of our pages."""

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from crm.accounts.services import user_preferences_update

pytestmark = pytest.mark.django_db


def test_a_signed_in_user_switching_language_has_it_saved_and_sees_the_page_in_it(rep, rep_client):
    # given a rep who saved English on their profile
    rep.language = "en"
    rep.save(update_fields=["language"])

    # when they pick Chinese with the switcher on their customer list
    response = rep_client.post(
        "/i18n/setlang/", {"language": "zh-hans", "next": "/customers/?page=2"}
    )

    # then the choice is saved on them, and they are back on the page they were on, in Chinese
    rep.refresh_from_db()
    assert rep.language == "zh-hans"
    assert response.status_code == 302
    assert response["Location"] == "/customers/?page=2"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    page = rep_client.get("/customers/")
    assert '<html lang="zh-hans">' in page.content.decode()


def test_the_saved_language_follows_the_user_to_another_browser(rep, rep_client, client_for):
    # given a rep who switched to Chinese in one browser
    rep_client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})

    # when they sign in from another browser, which has no language cookie
    other_browser = client_for(rep)
    response = other_browser.get("/", HTTP_ACCEPT_LANGUAGE="en")

    # then the page is in Chinese
    assert '<html lang="zh-hans">' in response.content.decode()


def test_a_visitor_not_signed_in_gets_the_language_in_a_cookie(client):
    # given someone on the sign-in page  # when they pick Chinese
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})

    # then the cookie carries it and the sign-in page is in Chinese
    assert response["Location"] == "/accounts/login/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    page = client.get("/accounts/login/")
    assert '<html lang="zh-hans">' in page.content.decode()


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/phish", "//evil.example/", "javascript:alert(1)", ""]
)
def test_the_switcher_does_not_send_anyone_off_the_site(rep_client, next_url):
    # given a next address that is not one of ours  # when the switcher is posted with it
    response = rep_client.post("/i18n/setlang/", {"language": "zh-hans", "next": next_url})

    # then it goes home instead
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_an_unknown_language_changes_nothing(rep, rep_client):
    # given a rep who follows the browser  # when a language the site does not offer is posted
    response = rep_client.post("/i18n/setlang/", {"language": "fr", "next": "/customers/"})

    # then nothing is saved and no cookie is set
    rep.refresh_from_db()
    assert rep.language == ""
    assert response["Location"] == "/customers/"
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_the_switcher_takes_only_posts(rep_client):
    # given a signed-in rep  # when the switcher's address is fetched with GET
    response = rep_client.get("/i18n/setlang/?language=zh-hans")

    # then it is refused
    assert response.status_code == 405


def test_the_language_change_is_kept_in_the_user_history(rep):
    # given a rep  # when their language is set
    user_preferences_update(user=rep, language="zh-hans")

    # then the change is in their audited history
    assert rep.history.latest().language == "zh-hans"


def test_the_service_refuses_a_language_the_site_does_not_offer(rep):
    # given a rep  # when an unknown language is set  # then it is refused
    with pytest.raises(ValidationError) as error:
        user_preferences_update(user=rep, language="klingon")
    assert "language" in error.value.message_dict


def test_every_page_offers_the_switcher_in_the_user_menu_each_language_named_in_itself(
    rep_client,
):
    # given a signed-in rep  # when any page is shown
    content = rep_client.get("/customers/").content.decode()

    # then the user menu has a button per language, named in that language
    assert 'name="language" value="zh-hans" lang="zh-hans"' in content
    assert ">简体中文</button>" in content
    assert ">English</button>" in content
