"""Request rates per token, per user and per anonymous address: 429 with Retry-After and the
project's error body."""

import json

import pytest
from django.core.cache import cache
from django.test import Client

from crm.accounts.services import api_token_create

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
SCHEMA = "/api/v1/schema/?format=json"


@pytest.fixture
def rates(settings):
    """rates(token=..., user=..., anonymous=...) sets low rates for this test; the counts start
    at zero."""
    cache.clear()

    def set_rates(*, token="1000/minute", user="1000/minute", anonymous="1000/minute"):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"token": token, "user": user, "anonymous": anonymous},
        }

    return set_rates


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def assert_throttled(response) -> None:
    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) > 0
    error = json.loads(response.content)["error"]
    assert error["code"] == "throttled"
    assert error["message"]
    assert error["fields"] == {}


def test_a_token_is_throttled_on_its_own_rate(rep, rates):
    # given a rate of two requests a minute per token, and two tokens of the rep
    rates(token="2/minute")
    _first, first = api_token_create(user=rep, name="First")
    _second, second = api_token_create(user=rep, name="Second")
    client = Client()

    # when the first token makes three requests
    answers = [client.get(ME, **bearer(first)) for _ in range(3)]

    # then the third is refused, while the other token still has its own allowance
    assert [answer.status_code for answer in answers[:2]] == [200, 200]
    assert_throttled(answers[2])
    assert client.get(ME, **bearer(second)).status_code == 200


def test_the_tokens_of_one_user_share_the_users_rate(rep, rep_teammate, rates):
    # given a user rate of three requests a minute, and two tokens of the rep
    rates(user="3/minute")
    _first, first = api_token_create(user=rep, name="First")
    _second, second = api_token_create(user=rep, name="Second")
    _other, teammates = api_token_create(user=rep_teammate, name="Teammate")
    client = Client()

    # when the two tokens make four requests between them
    answers = [client.get(ME, **bearer(token)) for token in (first, second, first, second)]

    # then the fourth is refused, but another user is not held back
    assert [answer.status_code for answer in answers[:3]] == [200, 200, 200]
    assert_throttled(answers[3])
    assert client.get(ME, **bearer(teammates)).status_code == 200


def test_a_signed_in_browser_is_throttled_on_the_user_rate(rep_client, rates):
    # given
    rates(user="2/minute", token="1/minute")

    # when
    answers = [rep_client.get(ME) for _ in range(3)]

    # then the token rate does not apply to a session, the user rate does
    assert [answer.status_code for answer in answers[:2]] == [200, 200]
    assert_throttled(answers[2])


def test_anonymous_callers_are_throttled_by_address(rates):
    # given a low anonymous rate; the schema is the one resource open to anonymous callers
    # (elsewhere an anonymous call is refused with 401 before its rate is counted)
    rates(anonymous="1/minute")

    # when
    answers = [Client().get(SCHEMA, REMOTE_ADDR="192.0.2.10") for _ in range(2)]
    elsewhere = Client().get(SCHEMA, REMOTE_ADDR="192.0.2.11")

    # then the second call from the address is throttled; another address is answered
    assert answers[0].status_code == 200
    assert_throttled(answers[1])
    assert elsewhere.status_code == 200


def test_requests_go_through_when_the_cache_is_down(rep, rates, settings):
    # given low rates and a cache nobody listens to (port 9)
    rates(token="1/minute", user="1/minute")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    _token, plain = api_token_create(user=rep, name="CI")

    # when  # then nothing is counted and nothing is refused
    assert [Client().get(ME, **bearer(plain)).status_code for _ in range(3)] == [200] * 3
