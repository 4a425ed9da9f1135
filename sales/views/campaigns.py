"""Placeholder until the campaigns pages land; replaced wholesale by their module."""

from django.http import HttpResponse
from django.urls import path


def _placeholder(request, *args, **kwargs):
    return HttpResponse("campaigns")


urlpatterns = [
    path("campaigns/", _placeholder, name="campaign_list"),
    path("campaigns/<int:pk>/", _placeholder, name="campaign_detail"),
]
