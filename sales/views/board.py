"""Placeholder until the board pages land; replaced wholesale by their module."""

from django.http import HttpResponse
from django.urls import path


def _placeholder(request, *args, **kwargs):
    return HttpResponse("board")


urlpatterns = [
    path("board/", _placeholder, name="board"),
    path("board/<int:pipeline_id>/", _placeholder, name="board_pipeline"),
    path("board/<int:pipeline_id>/stages/<int:stage_id>/cards/", _placeholder, name="board_column"),
]
