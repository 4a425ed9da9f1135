"""Mailboxes the CRM reads, managed by administrators: create, change, delete, poll now.

The IMAP password is write-only: it is stored encrypted, never shown back, and a change that
leaves it blank keeps the stored one.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.accounts.models import User
from mail.models import Mailbox
from mail.services.imap import mailbox_poll_queue

MAILBOX_EDITABLE_FIELDS = (
    "name",
    "address",
    "purpose",
    "team",
    "is_active",
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_username",
    "imap_password",
    "imap_folder",
)
# Plain IMAP sends the password in the clear: allowed only to a server on this machine.
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def _require(actor: User, permission: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionDenied


def _apply(mailbox: Mailbox, values: dict[str, Any]) -> None:
    unknown = set(values) - set(MAILBOX_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be set here.") for name in sorted(unknown)}
        )
    password = values.pop("imap_password", None)
    for name, value in values.items():
        setattr(mailbox, name, value.strip() if isinstance(value, str) else value)
    mailbox.address = mailbox.address.lower()
    if password:
        mailbox.imap_password = password
    errors = {}
    if mailbox.imap_host:
        if not mailbox.imap_username:
            errors["imap_username"] = _("Give the user name to log in to the IMAP server with.")
        if not mailbox.imap_password:
            errors["imap_password"] = _("Give the password to log in to the IMAP server with.")
        if (
            mailbox.imap_security == Mailbox.Security.NONE
            and mailbox.imap_host.lower() not in LOOPBACK_HOSTS
        ):
            errors["imap_security"] = _(
                "Without SSL or STARTTLS the password travels in the clear: only a server on "
                "this machine may be read that way."
            )
    if not 0 < mailbox.imap_port < 65536:
        errors["imap_port"] = _("A port is a number from 1 to 65535.")
    if errors:
        raise ValidationError(errors)
    mailbox.full_clean()


def mailbox_create(*, actor: User, **values) -> Mailbox:
    _require(actor, "mail.add_mailbox")
    mailbox = Mailbox()
    _apply(mailbox, values)
    mailbox.save()
    return mailbox


def mailbox_update(*, actor: User, mailbox: Mailbox, **values) -> Mailbox:
    """Change the given fields. Pointing the mailbox at another server or folder starts its
    polling afresh (de-duplication keeps mail already taken in from being stored twice)."""
    _require(actor, "mail.change_mailbox")
    before = (mailbox.imap_host, mailbox.imap_username, mailbox.imap_folder)
    _apply(mailbox, values)
    if (mailbox.imap_host, mailbox.imap_username, mailbox.imap_folder) != before:
        mailbox.imap_uidvalidity = None
        mailbox.imap_last_uid = 0
    mailbox.save()
    return mailbox


def mailbox_delete(*, actor: User, mailbox: Mailbox) -> None:
    """Mail already received keeps its messages; they simply lose their mailbox."""
    _require(actor, "mail.delete_mailbox")
    mailbox.delete()


def mailbox_poll_request(*, actor: User, mailbox: Mailbox) -> None:
    """Queue a poll now, instead of waiting for the beat."""
    _require(actor, "mail.change_mailbox")
    if not mailbox.imap_host:
        raise ValidationError(_("This mailbox has no IMAP server to poll."))
    if not mailbox.is_active:
        raise ValidationError(_("Switch the mailbox on before polling it."))
    with transaction.atomic():
        mailbox_poll_queue(mailbox_id=mailbox.pk)
