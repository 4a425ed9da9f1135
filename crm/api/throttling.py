"""Request rates per API token, per user and per anonymous address (429 with Retry-After).

A request made with a token counts against the token and against its user, so the tokens of one
user share the user's rate. The rates are read when a request comes in, not when DRF is
imported, so a change of settings (an operator's, or a test's) takes effect at once.

The counts live in the cache (Redis when configured, shared by the workers). When the cache
cannot be reached a request is let through, as crm.ratelimit does: a lost limit for a while is
better than an API that answers every call with a 500 while Redis is down.
"""

import logging

from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

from crm.accounts.models import ApiToken

logger = logging.getLogger(__name__)


class _ThrottleMixin:
    """The rate as the settings give it now; a request let through when the cache is down."""

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception:  # any cache backend failure (a Redis connection error, say)
            logger.warning(
                "%s rate not counted: the cache is unreachable", self.scope, exc_info=True
            )
            return True

    def get_rate(self) -> str | None:
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError:
            raise ImproperlyConfigured(f"No throttle rate set for scope {self.scope!r}") from None


class TokenRateThrottle(_ThrottleMixin, SimpleRateThrottle):
    scope = "token"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class UserRateThrottle(_ThrottleMixin, SimpleRateThrottle):
    scope = "user"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AnonymousRateThrottle(_ThrottleMixin, AnonRateThrottle):
    scope = "anonymous"
