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
    # The key of the NavGroup whose menu holds this item; top level when empty.
    group: str = ""

    @property
    def url(self) -> str:
        return reverse(self.url_name)


@dataclass(frozen=True)
class NavGroup:
    """A menu in the navigation bar holding related items (the sales pages, say)."""

    key: str
    label: str
    order: int


@dataclass(frozen=True)
class NavEntry:
    """One place in the bar: a single item, or a group with the items the user may open."""

    key: str
    label: str
    order: int
    item: NavItem | None = None
    items: tuple[NavItem, ...] = ()


_registry: dict[str, NavItem] = {}
_groups: dict[str, NavGroup] = {}


def register_nav_item(item: NavItem) -> None:
    _registry[item.key] = item


def register_nav_group(group: NavGroup) -> None:
    _groups[group.key] = group


def nav_items_for(user) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    items = sorted(_registry.values(), key=lambda item: item.order)
    return [item for item in items if item.permission is None or user.has_perm(item.permission)]


def active_nav_key(items: list[NavItem], path: str) -> str | None:
    """The item whose URL is the longest prefix of the current path."""
    matching = [item for item in items if path.startswith(item.url)]
    return max(matching, key=lambda item: len(item.url)).key if matching else None


def nav_entries_for(items: list[NavItem]) -> list[NavEntry]:
    """The bar's entries in order; a group takes the place of its first item's group order."""
    entries: list[NavEntry] = []
    grouped: dict[str, list[NavItem]] = {}
    for item in items:
        group = _groups.get(item.group)
        if group is None:
            entries.append(NavEntry(key=item.key, label=item.label, order=item.order, item=item))
        else:
            grouped.setdefault(group.key, []).append(item)
    for key, members in grouped.items():
        group = _groups[key]
        entries.append(
            NavEntry(key=key, label=group.label, order=group.order, items=tuple(members))
        )
    return sorted(entries, key=lambda entry: entry.order)


def navigation(request: HttpRequest) -> dict:
    # Imported here: apps import this module from their apps.py, before any model is loaded.
    from crm.accounts.selectors import user_is_admin

    items = nav_items_for(request.user)
    active = active_nav_key(items, request.path)
    active_group = next((item.group for item in items if item.key == active), "")
    return {
        "nav_items": items,
        "nav_entries": nav_entries_for(items),
        "nav_active": active,
        "nav_active_group": active_group,
        "nav_shows_admin": request.user.is_staff and user_is_admin(request.user),
    }
