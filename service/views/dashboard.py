"""Placeholder until the dashboard pages land; replaced wholesale by their module."""

from django.http import HttpResponse
from django.urls import path


def _placeholder(request, *args, **kwargs):
    return HttpResponse("dashboard")


urlpatterns = [
    path("dashboard/", _placeholder, name="dashboard"),
]
