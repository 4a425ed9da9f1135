"""Placeholder until the task pages land; replaced wholesale by their module."""

from django.http import HttpResponse
from django.urls import path


def _placeholder(request, *args, **kwargs):
    return HttpResponse("tasks")


urlpatterns = [
    path("tasks/", _placeholder, name="task_list"),
    path("tasks/new/", _placeholder, name="task_create"),
    path("tasks/<int:pk>/", _placeholder, name="task_detail"),
    path("notifications/", _placeholder, name="notification_list"),
]
