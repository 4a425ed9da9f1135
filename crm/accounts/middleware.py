import zoneinfo

from django.utils import timezone, translation

from crm.api.authentication import api_token_for_request


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
            if user.time_zone:
                try:
                    timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
                except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                    timezone.deactivate()
            if user.language:
                translation.activate(user.language)
                request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        timezone.deactivate()
        return response
