"""Placeholder until the public pages land; replaced wholesale by their module."""

from django.http import HttpResponse
from django.urls import path


def _placeholder(request, *args, **kwargs):
    return HttpResponse("public")


urlpatterns = [
    path("support/", _placeholder, name="ticket_public_form"),
]
