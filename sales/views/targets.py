"""Placeholder until the targets pages land; replaced wholesale by their module."""

from django.http import HttpResponse
from django.urls import path


def _placeholder(request, *args, **kwargs):
    return HttpResponse("targets")


urlpatterns = [
    path("targets/", _placeholder, name="target_list"),
]
