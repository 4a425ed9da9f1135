"""Personal API tokens: made and revoked by their user in the browser or through the API, shown
once, stored hashed, with expiry, read-only scope and a last-used time."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.accounts import roles
from crm.accounts.models import ApiToken
from crm.accounts.services import api_token_create, api_token_revoke
from crm.api.authentication import api_token_for_request
from tests.accounts.factories import UserFactory
from tests.customers.factories import CustomerFactory
from tests.sales.factories import DealFactory

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/tokens/"
ME = "/api/v1/me/"
TOKEN_PATTERN = re.compile(r"crm_[A-Za-z0-9]{8,10}_[A-Za-z0-9_-]{43,}")


def bearer(token: str, keyword: str = "Bearer") -> dict:
    return {"HTTP_AUTHORIZATION": f"{keyword} {token}"}


def error_code(response, status_code: int) -> str:
    assert response.status_code == status_code, response.content
    return response.json()["error"]["code"]


@pytest.fixture
def rep_token(rep) -> tuple[ApiToken, str]:
    return api_token_create(user=rep, name="Accounting export")


@pytest.fixture
def read_only_token(rep) -> tuple[ApiToken, str]:
    return api_token_create(user=rep, name="Dashboard", read_only=True)


# Made in the browser


def test_a_token_made_in_the_browser_is_shown_once(rep_client, rep):
    # given the rep's API tokens page
    page = rep_client.get(reverse("accounts:api_token_list"))
    assert page.status_code == 200

    # when they make a read-only token that expires in a month
    expires_on = (timezone.localdate() + timedelta(days=30)).isoformat()
    response = rep_client.post(
        reverse("accounts:api_token_create"),
        {"name": "Reporting", "read_only": "on", "expires_at": expires_on},
    )

    # then the token is on the result page, with the warning, and only its hash is stored
    assert response.status_code == 200
    body = response.content.decode()
    plain = TOKEN_PATTERN.search(body).group(0)
    assert "shown only this once" in body
    assert "no-cache" in response["Cache-Control"]
    token = ApiToken.objects.get(user=rep)
    assert (token.name, token.read_only) == ("Reporting", True)
    assert token.expires_at > timezone.now() + timedelta(days=29)
    assert token.key_hash == hashlib.sha256(plain.encode()).hexdigest() != plain
    assert plain.startswith(f"crm_{token.prefix}_")
    # and it is nowhere to be read again: not on the list, not in the session
    listing = rep_client.get(reverse("accounts:api_token_list")).content.decode()
    assert token.prefix in listing
    assert plain not in listing
    assert plain not in str(dict(rep_client.session))


def test_the_browser_form_refuses_a_blank_name_and_a_past_expiry(rep_client, rep):
    # given  # when
    response = rep_client.post(
        reverse("accounts:api_token_create"),
        {"name": "  ", "expires_at": (timezone.localdate() - timedelta(days=1)).isoformat()},
    )

    # then nothing is made and the form says why
    assert response.status_code == 400
    assert not ApiToken.objects.exists()
    assert response.context["form"].errors.keys() >= {"name"}


def test_the_browser_form_refuses_an_expiry_in_the_past(rep_client, rep):
    # given  # when
    response = rep_client.post(
        reverse("accounts:api_token_create"),
        {"name": "Old", "expires_at": (timezone.localdate() - timedelta(days=2)).isoformat()},
    )

    # then
    assert response.status_code == 400
    assert "expires_at" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_the_browser_revokes_a_token_after_confirmation(rep_client, rep_token):
    # given
    token, plain = rep_token
    url = reverse("accounts:api_token_revoke", args=[token.pk])

    # when the rep opens the confirmation and confirms
    confirm = rep_client.get(url)
    response = rep_client.post(url)

    # then the token is revoked and no longer authenticates
    assert confirm.status_code == 200
    assert token.name in confirm.content.decode()
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert error_code(Client().get(ME, **bearer(plain)), 401) == "token_revoked"


def test_the_tokens_page_is_linked_from_the_profile_and_the_user_menu(rep_client):
    # given  # when
    body = rep_client.get(reverse("accounts:profile")).content.decode()

    # then
    assert body.count(reverse("accounts:api_token_list")) == 2


def test_the_tokens_page_lists_only_ones_own_tokens_in_bounded_queries(
    rep_client, rep, other_team_rep, django_assert_max_num_queries
):
    # given tokens of the rep, one revoked, one expired, and a token of someone else
    for number in range(5):
        api_token_create(user=rep, name=f"Rep token {number}")
    revoked, _ = api_token_create(user=rep, name="Gone")
    api_token_revoke(actor=rep, token=revoked)
    expired, _ = api_token_create(user=rep, name="Stale")
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    api_token_create(user=other_team_rep, name="Someone else's")

    # when
    with django_assert_max_num_queries(12):
        response = rep_client.get(reverse("accounts:api_token_list"))

    # then
    body = response.content.decode()
    assert "Rep token 4" in body
    assert "Someone else" not in body
    assert [token.status for token in response.context["tokens"]][:2] == ["expired", "revoked"]


def test_another_users_token_cannot_be_revoked_in_the_browser(
    client_for, rep_token, other_team_rep
):
    # given
    token, _plain = rep_token

    # when
    response = client_for(other_team_rep).post(
        reverse("accounts:api_token_revoke", args=[token.pk])
    )

    # then
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


# Made through the API


def test_the_api_makes_a_token_and_returns_it_once(rep_client, rep):
    # given  # when
    response = rep_client.post(
        TOKENS, {"name": "CI", "read_only": True}, content_type="application/json"
    )

    # then the response holds the token; the list and the record never do
    assert response.status_code == 201, response.content
    body = response.json()
    assert TOKEN_PATTERN.fullmatch(body["token"])
    assert body["status"] == "active"
    assert body["read_only"] is True
    token = ApiToken.objects.get(pk=body["id"])
    assert token.key_hash == hashlib.sha256(body["token"].encode()).hexdigest()
    assert "token" not in rep_client.get(f"{TOKENS}{token.pk}/").json()
    assert body["token"] not in rep_client.get(TOKENS).content.decode()


def test_the_api_refuses_a_past_expiry_unknown_fields_and_updates(rep_client, rep_token):
    # given
    token, _plain = rep_token
    past = (timezone.now() - timedelta(hours=1)).isoformat()

    # when
    expired = rep_client.post(
        TOKENS, {"name": "x", "expires_at": past}, content_type="application/json"
    )
    unknown = rep_client.post(
        TOKENS, {"name": "x", "key_hash": "0" * 64}, content_type="application/json"
    )
    update = rep_client.patch(
        f"{TOKENS}{token.pk}/", {"name": "y"}, content_type="application/json"
    )

    # then
    assert error_code(expired, 400) == "validation_error"
    assert "expires_at" in expired.json()["error"]["fields"]
    assert "key_hash" in unknown.json()["error"]["fields"]
    assert update.status_code == 405
    assert ApiToken.objects.count() == 1


def test_delete_revokes_the_token_and_it_stops_working(rep_client, rep_token):
    # given
    token, plain = rep_token

    # when
    response = rep_client.delete(f"{TOKENS}{token.pk}/")

    # then it is kept, marked revoked, and refused
    assert response.status_code == 204
    assert rep_client.get(f"{TOKENS}{token.pk}/").json()["status"] == "revoked"
    refused = Client().get(ME, **bearer(plain))
    assert error_code(refused, 401) == "token_revoked"
    assert refused["WWW-Authenticate"] == 'Bearer realm="api"'


def test_another_users_token_is_neither_visible_nor_revocable(
    client_for, rep_token, other_team_rep
):
    # given the rep's token and another rep
    token, _plain = rep_token
    client = client_for(other_team_rep)

    # when the other rep looks for it and deletes it
    listed = client.get(TOKENS).json()
    detail = client.get(f"{TOKENS}{token.pk}/")
    deleted = client.delete(f"{TOKENS}{token.pk}/")

    # then it is not theirs to see or revoke
    assert listed["count"] == 0
    assert detail.status_code == deleted.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_token_list_endpoint_has_bounded_queries(
    rep_client, rep, django_assert_max_num_queries
):
    # given
    for number in range(10):
        api_token_create(user=rep, name=f"Token {number}")

    # when
    with django_assert_max_num_queries(6):
        response = rep_client.get(TOKENS)

    # then
    assert response.json()["count"] == 10


# Authenticating with a token


@pytest.mark.parametrize("keyword", ["Bearer", "Token", "bearer"])
def test_a_token_authenticates_as_its_user_and_records_its_use(rep, rep_token, keyword):
    # given a client with no session
    token, plain = rep_token

    # when it calls the API with the token
    response = Client().get(ME, **bearer(plain, keyword), REMOTE_ADDR="203.0.113.7")

    # then it is the rep, and the token's last use is noted
    assert response.status_code == 200, response.content
    assert response.json()["username"] == rep.username
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_ip == "203.0.113.7"


def test_the_last_use_is_written_at_most_once_a_minute(rep_token, django_assert_num_queries):
    # given a token used a moment ago
    token, plain = rep_token
    client = Client()
    client.get(ME, **bearer(plain))
    token.refresh_from_db()
    first_use = token.last_used_at

    # when it is used again within the minute
    client.get(ME, **bearer(plain), REMOTE_ADDR="198.51.100.1")

    # then nothing was written; a minute later it is
    token.refresh_from_db()
    assert token.last_used_at == first_use
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first_use - timedelta(minutes=2))
    client.get(ME, **bearer(plain), REMOTE_ADDR="198.51.100.1")
    token.refresh_from_db()
    assert token.last_used_at > first_use
    assert token.last_used_ip == "198.51.100.1"


@pytest.mark.parametrize(
    "credential",
    [
        "wrong-secret",
        "crm_unknown0_secret",
        "not-a-token",
        "crm__",
        "Bearer two parts",
    ],
)
def test_a_wrong_or_malformed_token_is_refused_with_401(rep_token, credential):
    # given the rep's token, and a credential that is not it
    _token, plain = rep_token
    if credential == "wrong-secret":
        credential = plain[:-4] + ("AAAA" if not plain.endswith("AAAA") else "BBBB")
    header = credential if credential.startswith("Bearer ") else f"Bearer {credential}"

    # when
    response = Client().get(ME, HTTP_AUTHORIZATION=header)

    # then
    assert error_code(response, 401) == "token_invalid"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_an_expired_token_is_refused(rep):
    # given a token whose expiry has passed
    token, plain = api_token_create(
        user=rep, name="Short", expires_at=timezone.now() + timedelta(minutes=5)
    )
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    # when  # then
    response = Client().get(ME, **bearer(plain))
    assert error_code(response, 401) == "token_expired"
    assert "expired" in response.json()["error"]["message"]


def test_a_token_of_an_inactive_user_is_refused(rep, rep_token):
    # given
    _token, plain = rep_token
    rep.is_active = False
    rep.save(update_fields=["is_active"])

    # when  # then
    assert error_code(Client().get(ME, **bearer(plain)), 401) == "user_inactive"


def test_an_anonymous_call_gets_401_with_the_bearer_challenge(db):
    # given  # when
    response = Client().get(TOKENS)

    # then
    assert error_code(response, 401) == "not_authenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_token_request_needs_no_csrf_token_but_a_session_one_does(rep, rep_token):
    # given clients that check CSRF like a browser
    _token, plain = rep_token
    with_token = Client(enforce_csrf_checks=True)
    with_session = Client(enforce_csrf_checks=True)
    with_session.force_login(rep)

    # when both make a token without a CSRF token
    by_token = with_token.post(
        TOKENS, {"name": "From CI"}, content_type="application/json", **bearer(plain)
    )
    by_session = with_session.post(TOKENS, {"name": "From page"}, content_type="application/json")

    # then only the token's request goes through
    assert by_token.status_code == 201, by_token.content
    assert by_session.status_code == 403


def test_the_stored_hash_is_not_the_token(rep):
    # given  # when
    token, plain = api_token_create(user=rep, name="Hash")

    # then
    assert plain not in (token.key_hash, token.prefix)
    assert len(token.key_hash) == 64
    assert 8 <= len(token.prefix) <= 10
    assert len(plain.split("_", 2)[2]) >= 43  # 32 bytes, url-safe base64


def test_api_token_for_request_gives_only_a_valid_token_and_writes_nothing(rep_token):
    # given
    token, plain = rep_token
    factory = RequestFactory()

    # when
    found = api_token_for_request(factory.post("/api/v1/customers/", **bearer(plain)))
    missing = api_token_for_request(factory.post("/api/v1/customers/"))
    wrong = api_token_for_request(factory.post("/", **bearer(plain + "x")))
    api_token_revoke(actor=token.user, token=token)
    revoked = api_token_for_request(factory.post("/", **bearer(plain)))

    # then
    assert found == token
    assert missing is wrong is revoked is None
    token.refresh_from_db()
    assert token.last_used_at is None


# Read-only scope


def test_a_read_only_token_may_read(read_only_token):
    # given
    _token, plain = read_only_token

    # when  # then
    assert Client().get(TOKENS, **bearer(plain)).status_code == 200
    assert Client().head(ME, **bearer(plain)).status_code == 200
    assert Client().options(TOKENS, **bearer(plain)).status_code == 200


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("post", TOKENS, {"name": "escalate"}),
        ("delete", "own-token", None),
        ("post", "/api/v1/customers/", {"name": "Ada Wong"}),
        # MeView sets its own permission_classes ([IsAuthenticated]).
        ("patch", ME, {"display_name": "Changed"}),
    ],
)
def test_a_read_only_token_may_not_write_anywhere(rep, read_only_token, method, url, body):
    # given
    token, plain = read_only_token
    if url == "own-token":
        url = f"{TOKENS}{token.pk}/"

    # when
    response = getattr(Client(), method)(
        url, body, content_type="application/json", **bearer(plain)
    )

    # then
    assert error_code(response, 403) == "read_only_token"
    token.refresh_from_db()
    assert token.revoked_at is None
    rep.refresh_from_db()
    assert rep.display_name != "Changed"
    assert ApiToken.objects.count() == 1


def test_a_read_only_token_may_not_use_a_post_action_with_its_own_permissions(rep, read_only_token):
    # given a deal the rep owns and an action with custom permission classes
    deal = DealFactory(customer=CustomerFactory(owner=rep), owner=rep)
    _token, plain = read_only_token
    write = api_token_create(user=rep, name="Writer")[1]
    url = f"/api/v1/deals/{deal.pk}/move/"

    # when
    refused = Client().post(url, {}, content_type="application/json", **bearer(plain))
    allowed = Client().post(url, {}, content_type="application/json", **bearer(write))

    # then the read-only token is refused before the action's own check runs
    assert error_code(refused, 403) == "read_only_token"
    assert allowed.status_code != 403


# Admin and schema


def test_the_admin_lists_tokens_without_the_hash_and_revokes_them(superuser, client_for, rep_token):
    # given
    token, _plain = rep_token
    client = client_for(superuser)
    changelist = reverse("admin:accounts_apitoken_changelist")

    # when
    change = client.get(reverse("admin:accounts_apitoken_change", args=[token.pk]))
    add = client.get(reverse("admin:accounts_apitoken_add"))
    response = client.post(
        changelist, {"action": "revoke_selected", ACTION_CHECKBOX_NAME: [token.pk]}
    )

    # then
    assert change.status_code == 200
    assert token.key_hash not in change.content.decode()
    assert add.status_code == 403
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_staff_who_are_not_admins_manage_tokens_in_their_profile_not_the_admin(client_for):
    # given a staff manager (the admin does not apply the visibility rule, so it is for admins)
    manager = UserFactory(username="staff_manager", roles=[roles.MANAGER], is_staff=True)

    # when
    response = client_for(manager).get(reverse("admin:accounts_apitoken_changelist"))

    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_schema_documents_the_bearer_scheme(rep_client):
    # given  # when
    schema = rep_client.get("/api/v1/schema/?format=json").json()

    # then
    assert schema["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"
    operations = schema["paths"]["/api/v1/tokens/"]
    assert operations["post"]["summary"] == "Make an API token"
    assert {"apiToken": []} in operations["get"]["security"]


def test_a_token_speaks_its_owners_language(rep):
    # Given a rep who chose Chinese, calling with their token (no session)
    rep.language = "zh-hans"
    rep.save(update_fields=["language"])
    _token, plain = api_token_create(user=rep, name="Shop")

    # When the call fails
    response = Client().get("/api/v1/customers/999999/", **bearer(plain))

    # Then the message is in the rep's language, the code stays the same
    assert response.status_code == 404
    body = response.json()["error"]
    assert body["code"] == "not_found"
    assert body["message"] == "未找到。"


def test_the_tokens_page_shows_how_to_send_a_token(rep, client_for):
    response = client_for(rep).get(reverse("accounts:api_token_list"))

    assert "Authorization: Bearer crm_…" in response.content.decode()


def test_a_token_request_looks_the_token_up_once(rep):
    # The preferences and idempotency middleware run before DRF authenticates; all three share
    # one lookup.
    rep.language = "zh-hans"
    rep.save(update_fields=["language"])
    _token, plain = api_token_create(user=rep, name="Shop")
    client = Client()
    client.get("/api/v1/me/", **bearer(plain))  # last_used_at is written on the first call

    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/me/", **bearer(plain))

    lookups = [query for query in queries if 'FROM "accounts_apitoken"' in query["sql"]]
    assert len(lookups) == 1
