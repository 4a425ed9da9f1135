"""Placeholder until the webforms pages land; replaced wholesale by their module."""

from django.http import HttpResponse
from django.urls import path


def _placeholder(request, *args, **kwargs):
    return HttpResponse("webforms")


urlpatterns = [
    path("web-forms/", _placeholder, name="webform_list"),
    path("f/<slug:slug>/", _placeholder, name="webform_public"),
]
