"""Panels on the home page, contributed by each app from AppConfig.ready().

Like the navigation, the home page lives in the ground floor and must not import the apps; each
app registers a function that returns its panel (or None when the user has nothing to see).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class HomePanel:
    title: str
    figure: str
    caption: str
    url: str


_providers: list[tuple[int, Callable[[HttpRequest], HomePanel | None]]] = []


def register_home_panel(order: int, provider: Callable[[HttpRequest], HomePanel | None]) -> None:
    _providers.append((order, provider))
    _providers.sort(key=lambda entry: entry[0])


def home_panels_for(request: HttpRequest) -> list[HomePanel]:
    panels = (provider(request) for _, provider in _providers)
    return [panel for panel in panels if panel is not None]
