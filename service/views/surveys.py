"""Placeholder until the surveys pages land; replaced wholesale by their module."""

from django.http import HttpResponse
from django.urls import path


def _placeholder(request, *args, **kwargs):
    return HttpResponse("surveys")


urlpatterns = [
    path("survey/<str:token>/", _placeholder, name="survey_answer"),
]
