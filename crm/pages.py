"""Small helpers every app's browser views share: whether htmx asked, a list page or only its
results, where to go next, and a service's refusal shown on the form."""

from collections.abc import Mapping

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme

# The id of a list page's results region, which its filters and paging links swap.
RESULTS_REGION = "results"


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def render_list_page(request: HttpRequest, template_name: str, context: dict) -> HttpResponse:
    """A list page, or only its `{% block results %}` when htmx asks to swap the results region.

    The template extends `page_base`: the site's layout, or a layout holding nothing but the
    results block. Anything else htmx asks for (a history restore, say) gets the whole page.
    """
    results_only = is_htmx(request) and request.headers.get("HX-Target") == RESULTS_REGION
    page_base = "_results_only.html" if results_only else "base.html"
    response = render(request, template_name, {**context, "page_base": page_base})
    # A browser must not answer a full page load with a cached results region, or the reverse.
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def safe_next_url(request: HttpRequest, fallback: str = "") -> str:
    """The `next` the page asked to return to, when it is one of ours; `fallback` otherwise."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return fallback


def form_errors_from_service(
    form: forms.BaseForm, error: ValidationError, *, field_names: Mapping[str, str] | None = None
) -> None:
    """Show a service's ValidationError on the form, on the fields it names where they exist
    (`field_names` maps a service's name to the form's where they differ)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, messages_ in error.message_dict.items():
        name = (field_names or {}).get(name, name)
        form.add_error(name if name in form.fields else None, messages_)
