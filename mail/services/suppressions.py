"""Suppressed addresses: the addresses mail must no longer go to.

The provider's bounce and complaint reports add them (actor None: the system); an administrator
may add one by hand or take one off the list, say once the customer fixed their mailbox.
Addresses are kept in lower case, so one mailbox is one row whatever case a report spells it in.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from crm.accounts.models import User
from crm.accounts.selectors import user_is_admin
from mail.models import SuppressedAddress


def _require_admin(actor: User | None) -> None:
    # No actor: the system itself (a provider's report, a command).
    if actor is not None and not user_is_admin(actor):
        raise PermissionDenied(_("Only administrators manage suppressed addresses."))


def address_normalize(address: str) -> str:
    return (address or "").strip().lower()


def address_suppress(
    *,
    actor: User | None,
    address: str,
    reason: str,
    detail: str = "",
    provider: str = "",
    event_id: str = "",
) -> SuppressedAddress:
    """Put `address` on the list, or, when it is there already, record the latest report on it:
    the same report twice leaves the same row."""
    _require_admin(actor)
    address = address_normalize(address)
    errors = {}
    try:
        validate_email(address)
    except ValidationError:
        errors["address"] = [_("Enter a valid email address.")]
    if reason not in SuppressedAddress.Reason.values:
        errors["reason"] = [_("Choose a reason from the list.")]
    if errors:
        raise ValidationError(errors)
    values = {
        "reason": reason,
        "detail": (detail or "").strip(),
        "provider": (provider or "")[:40],
        "event_id": (event_id or "")[:255],
    }
    suppressed = SuppressedAddress.objects.filter(address=address).first()
    if suppressed is None:
        try:
            with transaction.atomic():
                return SuppressedAddress.objects.create(address=address, **values)
        except IntegrityError:
            # Two reports on one address at once: the other made the row; this one updates it.
            suppressed = SuppressedAddress.objects.get(address=address)
    changed = [name for name, value in values.items() if getattr(suppressed, name) != value]
    for name in changed:
        setattr(suppressed, name, values[name])
    if changed:
        suppressed.save(update_fields=[*changed, "updated_at"])
    return suppressed


def address_unsuppress(*, actor: User | None, suppressed: SuppressedAddress) -> None:
    """Take the address off the list: mail may go to it again."""
    _require_admin(actor)
    suppressed.delete()
