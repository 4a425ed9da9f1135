"""Security headers under production settings: HSTS, a content security policy without inline
scripts, nosniff, a referrer policy, no framing, and secure, HttpOnly cookies; and templates that
need no inline script to work."""

import re

import pytest
from django.conf import settings
from django.test import override_settings

from crm import env

pytestmark = pytest.mark.django_db

PRODUCTION = {
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
    "SECURE_SSL_REDIRECT": True,
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
}
HTTPS = {"secure": True, "headers": {"X-Forwarded-Proto": "https"}}


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for directive in header.split(";"):
        name, *values = directive.split()
        directives[name] = values
    return directives


@override_settings(**PRODUCTION)
def test_a_page_carries_every_security_header(rep_client):
    # given production settings  # when a signed-in page is served over HTTPS
    response = rep_client.get("/customers/", **HTTPS)

    # then
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    policy = csp_directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert not {"'unsafe-inline'", "'unsafe-eval'"} & set(policy["default-src"])


@override_settings(**PRODUCTION)
def test_plain_http_is_sent_to_https(client):
    # given  # when  # then
    response = client.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


@override_settings(**PRODUCTION)
def test_session_and_csrf_cookies_are_secure_and_the_session_one_http_only(client, rep):
    # given production settings  # when someone signs in over HTTPS
    client.get("/accounts/login/", **HTTPS)
    csrf_token = client.cookies[settings.CSRF_COOKIE_NAME].value
    rep.set_password("a-long-enough-password")
    rep.save()
    response = client.post(
        "/accounts/login/",
        {"username": rep.username, "password": "a-long-enough-password"},
        HTTP_X_CSRFTOKEN=csrf_token,
        **HTTPS,
    )

    # then both cookies are Secure and the session cookie cannot be read by scripts
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    csrf = client.cookies[settings.CSRF_COOKIE_NAME]
    assert session["secure"] is True
    assert session["httponly"] is True
    assert csrf["secure"] is True


def test_production_settings_turn_on_what_the_tests_above_assume():
    # given  # when the production settings module is read  # then
    text = (env.BASE_DIR / "crm" / "settings" / "production.py").read_text()
    for name in PRODUCTION:
        assert re.search(rf"^{name} = ", text, re.MULTILINE), name


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)


def test_templates_have_no_inline_scripts_or_event_handler_attributes():
    # given every template of the project  # when read  # then none needs an inline script
    offenders = []
    for path in sorted((env.BASE_DIR / "templates").rglob("*.html")):
        text = path.read_text()
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER):
            offenders += [f"{path.name}: {match.group(0)}" for match in pattern.finditer(text)]
    assert offenders == []
