"""The content security policy sent with every response.

Scripts only come from our own origin, so no inline <script> can run; behaviour lives in files
under static/. Inline style attributes stay allowed because the admin and Swagger UI set them.
"""

from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.views.decorators.clickjacking import xframe_options_exempt

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


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
