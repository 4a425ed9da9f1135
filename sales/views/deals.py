"""Placeholder until the deals pages land; replaced wholesale by their module."""

from django.http import HttpResponse
from django.urls import path


def _placeholder(request, *args, **kwargs):
    return HttpResponse("deals")


urlpatterns = [
    path("deals/", _placeholder, name="deal_list"),
    path("deals/new/", _placeholder, name="deal_create"),
    path("deals/<int:pk>/", _placeholder, name="deal_detail"),
    path("deals/<int:pk>/edit/", _placeholder, name="deal_edit"),
    path("deals/<int:pk>/delete/", _placeholder, name="deal_delete"),
    path("deals/<int:pk>/move/", _placeholder, name="deal_move"),
]
