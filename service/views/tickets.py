"""Placeholder until the tickets pages land; replaced wholesale by their module."""

from django.http import HttpResponse
from django.urls import path


def _placeholder(request, *args, **kwargs):
    return HttpResponse("tickets")


urlpatterns = [
    path("tickets/", _placeholder, name="ticket_list"),
    path("tickets/new/", _placeholder, name="ticket_create"),
    path("tickets/<int:pk>/", _placeholder, name="ticket_detail"),
    path("canned-responses/", _placeholder, name="canned_list"),
]
