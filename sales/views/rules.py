"""Placeholder until the rules pages land; replaced wholesale by their module."""

from django.http import HttpResponse
from django.urls import path


def _placeholder(request, *args, **kwargs):
    return HttpResponse("rules")


urlpatterns = [
    path("assignment-rules/", _placeholder, name="rule_list"),
]
