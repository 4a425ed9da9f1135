"""Personal API tokens: `Authorization: Bearer crm_<prefix>_<secret>`."""

from rest_framework.authentication import BaseAuthentication


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        return None
