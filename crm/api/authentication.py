"""Personal API tokens: `Authorization: Bearer crm_<prefix>_<secret>` (or `Token crm_...`).

A token that authenticates is also held to its scope here, before any view's permissions run: a
read-only token may only read, whatever `permission_classes` a view sets, so no view can forget
the rule."""

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from crm.accounts import selectors, services
from crm.accounts.models import ApiToken
from crm.api.permissions import ReadOnlyToken, token_may_not_write

KEYWORDS = (b"bearer", b"token")


def _presented_token(request: HttpRequest) -> str | None:
    """The token in the Authorization header; None when the header is absent or is another kind
    of credential. AuthenticationFailed when it names a token but is malformed."""
    parts = get_authorization_header(request).split()
    if not parts or parts[0].lower() not in KEYWORDS:
        return None
    if len(parts) != 2:
        raise exceptions.AuthenticationFailed(
            _("Send the token as “Authorization: Bearer <token>”."), code="token_invalid"
        )
    try:
        return parts[1].decode()
    except UnicodeDecodeError:
        raise exceptions.AuthenticationFailed(
            _("The API token is not valid."), code="token_invalid"
        ) from None


def _refusal(token: ApiToken | None) -> exceptions.AuthenticationFailed | None:
    if token is None:
        return exceptions.AuthenticationFailed(
            _("The API token is not valid."), code="token_invalid"
        )
    status = selectors.api_token_status(token=token)
    if status == selectors.API_TOKEN_REVOKED:
        return exceptions.AuthenticationFailed(
            _("The API token was revoked."), code="token_revoked"
        )
    if status == selectors.API_TOKEN_EXPIRED:
        return exceptions.AuthenticationFailed(
            _("The API token has expired."), code="token_expired"
        )
    if not token.user.is_active:
        return exceptions.AuthenticationFailed(
            _("The API token's user is inactive."), code="user_inactive"
        )
    return None


def _token_found(request: HttpRequest, presented: str) -> ApiToken | None:
    """The token row `presented` names, whatever its status, looked up once per request: the
    middleware that runs before DRF (preferences, idempotency) and the authenticator share it."""
    if getattr(request, "crm_api_token_key", None) != presented:
        request.crm_api_token = selectors.api_token_find(token=presented)
        request.crm_api_token_key = presented
    return request.crm_api_token


def api_token_for_request(request: HttpRequest) -> ApiToken | None:
    """The valid token the request presents, or None (no token, or a bad one). No side effects:
    nothing is written and nothing is raised."""
    try:
        presented = _presented_token(request)
    except exceptions.AuthenticationFailed:
        return None
    if presented is None:
        return None
    token = _token_found(request, presented)
    return None if _refusal(token) else token


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


class ApiTokenAuthentication(BaseAuthentication):
    """`request.user` is the token's user and `request.auth` the ApiToken. Requests carrying a
    token need no CSRF token: no browser sends this header by itself."""

    keyword = "Bearer"

    def authenticate(self, request):
        presented = _presented_token(request)
        if presented is None:
            return None
        token = _token_found(request._request, presented)
        refusal = _refusal(token)
        if refusal is not None:
            raise refusal
        services.api_token_touch(token=token, ip_address=_client_ip(request))
        if token_may_not_write(token=token, method=request.method):
            raise ReadOnlyToken()
        return token.user, token

    def authenticate_header(self, request) -> str:
        # A header here makes DRF answer 401 (with WWW-Authenticate) rather than 403.
        return f'{self.keyword} realm="api"'


class ApiTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "crm_<prefix>_<secret>",
            "description": str(
                _(
                    "A personal API token made on the API tokens page of your profile or with "
                    "POST /api/v1/tokens/. A read-only token may only use GET, HEAD and OPTIONS."
                )
            ),
        }
