"""The content security policy sent with every response, and what error reports leave out.

Scripts only come from our own origin, so no inline <script> can run; behaviour lives in files
under static/. Inline style attributes stay allowed because the admin and Swagger UI set them.

Error reports (Django's technical 500 page and the email sent to ADMINS) mask the encrypted
fields' values and the usual secrets: in POST data, in traceback variables and in the dicts and
query dicts those variables hold.
"""

import re
from functools import cached_property, wraps

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.datastructures import MultiValueDict
from django.views.debug import SafeExceptionReporterFilter
from django.views.decorators.clickjacking import xframe_options_exempt

from crm.encryption import encrypted_field_names

_POLICY = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self' ws: wss:",
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
]
CONTENT_SECURITY_POLICY = "; ".join([*_POLICY, "frame-ancestors 'none'"])
# For the few public pages other sites may embed in an <iframe> (web-to-lead forms).
EMBEDDABLE_CONTENT_SECURITY_POLICY = "; ".join([*_POLICY, "frame-ancestors *"])


def embeddable(view):
    """Let any site frame this view; everything else may only be framed by nobody."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.headers["Content-Security-Policy"] = EMBEDDABLE_CONTENT_SECURITY_POLICY
        return response

    return xframe_options_exempt(wrapped)


def acts_for_nobody(view):
    """Mark a public view that never looks at who is signed in (an unsubscribe link, a tracking
    pixel in an email): the session gates (the idle sign-out, two-factor) let it through, so the
    link works the same for a colleague whose session went idle as for anyone else."""
    view.acts_for_nobody = True
    return view


def request_acts_for_nobody(request: HttpRequest) -> bool:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return getattr(match.func, "acts_for_nobody", False)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


class SensitiveDataReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, plus the encrypted fields by name and any posted sensitive value by
    content, and active with DEBUG on too: these values never belong in an error report."""

    @cached_property
    def hidden_settings(self) -> re.Pattern:
        names = "|".join(sorted(map(re.escape, encrypted_field_names())))
        return re.compile(f"{super().hidden_settings.pattern}|{names}", flags=re.IGNORECASE)

    def is_active(self, request) -> bool:
        return True

    def _is_sensitive(self, name) -> bool:
        return isinstance(name, str) and bool(self.hidden_settings.search(name))

    def _cleansed(self, multivaluedict: MultiValueDict) -> MultiValueDict:
        if not any(self._is_sensitive(name) for name in multivaluedict):
            return multivaluedict
        cleansed = multivaluedict.copy()
        for name in cleansed:
            if self._is_sensitive(name):
                cleansed[name] = self.cleansed_substitute
        return cleansed

    def get_post_parameters(self, request):
        return self._cleansed(super().get_post_parameters(request)) if request else {}

    def get_cleansed_multivaluedict(self, request, multivaluedict):
        return self._cleansed(super().get_cleansed_multivaluedict(request, multivaluedict))

    def _posted_secrets(self, request) -> list[str]:
        if request is None or request.method != "POST":
            return []
        return [
            value
            for name, values in request.POST.lists()
            if self._is_sensitive(name)
            for value in values
            if value.strip()
        ]

    def get_traceback_frame_variables(self, request, tb_frame):
        secrets = self._posted_secrets(request)
        cleansed = []
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            if self._is_sensitive(name):
                value = self.cleansed_substitute
            elif isinstance(value, dict):
                value = self.cleanse_setting(name, value)
            # A posted secret may travel under any name: a plain string, a model's field, a list.
            if secrets and value is not self.cleansed_substitute:
                shown = repr(value)
                if any(secret in shown for secret in secrets):
                    value = self.cleansed_substitute
            cleansed.append((name, value))
        return cleansed
