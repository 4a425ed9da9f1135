"""Ticket categories: the list tickets are filed under, kept by managers. A category tickets are
filed under is deactivated rather than deleted, so their reports keep it."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.accounts.models import User
from service.models import TicketCategory

CATEGORY_EDITABLE_FIELDS = ("name", "is_active")


class CategoryInUse(ValidationError):
    """A deletion refused because tickets are filed under the category."""

    def __init__(self, message: str):
        super().__init__(message, code="in_use")


def _require(actor: User | None, permission: str) -> None:
    """No actor is the system itself (migrations, the demo)."""
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied


def _save(category: TicketCategory) -> TicketCategory:
    category.name = " ".join(category.name.split())
    category.full_clean()
    category.save()
    return category


def category_create(*, actor: User | None, name: str, is_active: bool = True) -> TicketCategory:
    _require(actor, "service.add_ticketcategory")
    return _save(TicketCategory(name=name, is_active=is_active))


def category_update(*, actor: User | None, category: TicketCategory, **values) -> TicketCategory:
    _require(actor, "service.change_ticketcategory")
    unknown = set(values) - set(CATEGORY_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be set here.") for name in sorted(unknown)}
        )
    for name, value in values.items():
        setattr(category, name, value)
    return _save(category)


def category_delete(*, actor: User | None, category: TicketCategory) -> None:
    _require(actor, "service.delete_ticketcategory")
    used = category.tickets.count()
    if used:
        raise CategoryInUse(
            ngettext(
                "%(count)d ticket is filed under this category; deactivate it instead.",
                "%(count)d tickets are filed under this category; deactivate it instead.",
                used,
            )
            % {"count": used}
        )
    category.delete()
