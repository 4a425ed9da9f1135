"""Placeholder until the slas pages land; replaced wholesale by their module."""

from django.http import HttpResponse
from django.urls import path


def _placeholder(request, *args, **kwargs):
    return HttpResponse("slas")


urlpatterns = [
    path("slas/", _placeholder, name="sla_policy_list"),
]
