"""Placeholder until the forecasts pages land; replaced wholesale by their module."""

from django.http import HttpResponse
from django.urls import path


def _placeholder(request, *args, **kwargs):
    return HttpResponse("forecasts")


urlpatterns = [
    path("forecast/", _placeholder, name="forecast"),
]
