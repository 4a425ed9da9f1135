"""Placeholder until the myday pages land; replaced wholesale by their module."""

from django.http import HttpResponse
from django.urls import path


def _placeholder(request, *args, **kwargs):
    return HttpResponse("myday")


urlpatterns = [
    path("my-day/", _placeholder, name="my_day"),
]
