"""The main navigation, filled by each app when it starts.

The base layout lives in the ground floor and must not import the apps, so every app registers
its own entries from AppConfig.ready(); the layout shows those the user has permission for.
"""

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url_name: str
    order: int
    permission: str | None = None

    @property
    def url(self) -> str:
        return reverse(self.url_name)


_registry: dict[str, NavItem] = {}


def register_nav_item(item: NavItem) -> None:
    _registry[item.key] = item


def nav_items_for(user) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    items = sorted(_registry.values(), key=lambda item: item.order)
    return [item for item in items if item.permission is None or user.has_perm(item.permission)]


def active_nav_key(items: list[NavItem], path: str) -> str | None:
    """The item whose URL is the longest prefix of the current path."""
    matching = [item for item in items if path.startswith(item.url)]
    return max(matching, key=lambda item: len(item.url)).key if matching else None


def navigation(request: HttpRequest) -> dict:
    items = nav_items_for(request.user)
    return {"nav_items": items, "nav_active": active_nav_key(items, request.path)}
