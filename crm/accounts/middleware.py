import zoneinfo

from django.utils import timezone, translation


class UserPreferencesMiddleware:
    """Activates the signed-in user's own time zone and language, when they chose one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
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
