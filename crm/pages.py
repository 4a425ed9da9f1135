"""Small helpers every app's browser views share: whether htmx asked, where to go next, and a
service's refusal shown on the form."""

from collections.abc import Mapping

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


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
