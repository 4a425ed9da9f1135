"""Pages that belong to no app: home and the error pages."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

from crm.api.errors import error_body
from crm.home import HomeList, HomePanel, home_panels_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    panels = home_panels_for(request)
    return render(
        request,
        "home.html",
        {
            "panels": [panel for panel in panels if isinstance(panel, HomePanel)],
            "lists": [panel for panel in panels if isinstance(panel, HomeList)],
        },
    )


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    """A request Django refused before any view (a suspicious host or body, one too large)."""
    if _wants_json(request):
        body = error_body(code="bad_request", message=_("The request could not be read."))
        return JsonResponse(body, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    if _wants_json(request):
        body = error_body(code="permission_denied", message=_("You may not do this."))
        return JsonResponse(body, status=403)
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body(code="not_found", message=_("Not found.")), status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        body = error_body(
            code="server_error", message=_("The server could not complete the request.")
        )
        return JsonResponse(body, status=500)
    # No context processors: the error may come from one of them or from the database.
    return HttpResponse(loader.get_template("500.html").render(), status=500)
