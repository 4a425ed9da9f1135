"""Placeholder until the reports pages land; replaced wholesale by their module."""

from django.http import HttpResponse
from django.urls import path


def _placeholder(request, *args, **kwargs):
    return HttpResponse("reports")


urlpatterns = [
    path("reports/", _placeholder, name="reports"),
]
