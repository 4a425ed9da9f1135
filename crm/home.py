"""Panels on the home page, contributed by each app from AppConfig.ready().

Like the navigation, the home page lives in the ground floor and must not import the apps; each
app registers a function that returns its panel (or None when the user has nothing to see).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class HomePanel:
    """A figure at the top of the page (how many open tasks, how far on the target)."""

    title: str
    figure: str
    caption: str
    url: str


@dataclass(frozen=True)
class HomeEntry:
    """One line of a list panel: a task, a meeting, a contact with a customer."""

    label: str
    url: str
    note: str = ""
    # A line that needs attention first (a task past its due time).
    urgent: bool = False


@dataclass(frozen=True)
class HomeList:
    """The next few things the user should do or know, with a link to the page holding them all."""

    title: str
    url: str
    link_label: str
    entries: tuple[HomeEntry, ...]
    empty: str


Panel = HomePanel | HomeList
_providers: list[tuple[int, Callable[[HttpRequest], Panel | None]]] = []


def register_home_panel(order: int, provider: Callable[[HttpRequest], Panel | None]) -> None:
    _providers.append((order, provider))
    _providers.sort(key=lambda entry: entry[0])


def home_panels_for(request: HttpRequest) -> list[Panel]:
    panels = (provider(request) for _, provider in _providers)
    return [panel for panel in panels if panel is not None]
