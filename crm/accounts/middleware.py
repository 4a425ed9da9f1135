from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.contrib.messages.storage import default_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.accounts import selectors, services
from crm.api.authentication import api_token_for_request
from crm.pages import is_htmx
from crm.security import request_acts_for_nobody


class UserPreferencesMiddleware:
    """Activates the user's own time zone and language, when they chose one: the signed-in
    user's, or the owner's of the API token the request carries."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if not user.is_authenticated and "HTTP_AUTHORIZATION" in request.META:
            token = api_token_for_request(request)
            user = token.user if token is not None else user
        if user.is_authenticated:
            timezone.activate(selectors.user_time_zone(user))
            if user.language:
                translation.activate(user.language)
                request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        timezone.deactivate()
        return response


def _wants_json(request: HttpRequest) -> bool:
    """htmx swaps, the API and scripts get a status code they can act on, not a login page."""
    return (
        is_htmx(request)
        or request.path.startswith("/api/")
        or "application/json" in request.headers.get("Accept", "")
    )


def _unauthorized(message: str) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": "not_authenticated", "message": message, "fields": {}}}, status=401
    )


class SessionActivityMiddleware:
    """Keeps the list of a user's browser sessions current and ends a session that went unused
    for CRM_SESSION_IDLE_MINUTES. Requests signed with an API token carry no session and pass,
    and so do views that act for nobody (an email's links), which neither end nor extend it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.user.is_authenticated
            and request.session.session_key
            and not request_acts_for_nobody(request)
        ):
            if selectors.user_session_is_idle(session=request.session):
                return self._signed_out(request)
            services.user_session_touch(request=request)
        return self.get_response(request)

    def _signed_out(self, request: HttpRequest) -> HttpResponse:
        minutes = settings.CRM_SESSION_IDLE_MINUTES
        logout(request)
        message = ngettext(
            "You were signed out after %(minutes)d minute of inactivity.",
            "You were signed out after %(minutes)d minutes of inactivity.",
            minutes,
        ) % {"minutes": minutes}
        if _wants_json(request):
            return _unauthorized(message)
        response = redirect_to_login(request.get_full_path())
        # The message middleware comes later in the chain and never sees this request, so the
        # message is stored here, in the session the logout just started.
        storage = default_storage(request)
        storage.add(messages.INFO, message)
        storage.update(response)
        return response


class TwoFactorRequiredMiddleware:
    """With CRM_REQUIRE_2FA_FOR_ADMINS on, staff and admins reach no page, the admin included,
    until their session is verified with a second factor: without a device they are sent to set
    one up. Requests with an API token are not signed in here and pass."""

    OPEN_URL_NAMES = ("accounts:two_factor_setup", "accounts:two_factor_verify", "logout")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            selectors.user_must_use_two_factor(user=user)
            and not user.is_verified()
            and not self._is_open(request)
        ):
            if _wants_json(request):
                return _unauthorized(_("Set up two-factor authentication to continue."))
            if selectors.two_factor_device_for(user=user) is not None:
                # Signed in without the code (before the rule was switched on): sign in again.
                logout(request)
                return redirect_to_login(request.get_full_path())
            return redirect("accounts:two_factor_setup")
        return self.get_response(request)

    def _is_open(self, request: HttpRequest) -> bool:
        if request.path.startswith((settings.STATIC_URL, settings.MEDIA_URL)):
            return True
        if request.path in {reverse(name) for name in self.OPEN_URL_NAMES}:
            return True
        return request_acts_for_nobody(request)
