"""Placeholder until the pipelines pages land; replaced wholesale by their module."""

from django.http import HttpResponse
from django.urls import path


def _placeholder(request, *args, **kwargs):
    return HttpResponse("pipelines")


urlpatterns = [
    path("pipelines/", _placeholder, name="pipeline_list"),
]
