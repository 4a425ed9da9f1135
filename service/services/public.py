"""The public support form: anyone may open a ticket without signing in.

A submission is taken in whole or not at all, in one transaction: the customer (found by email,
or created as a lead from the website) and the ticket, unassigned in the customer's team's
queue. The visitor is told the same thing whether their email was known or not, and a bot that
fills the hidden honeypot field is told the same thing too, while nothing is stored.
"""

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.ratelimit import rate_limit_reached
from customers.cleaning import CleaningError, fold_whitespace, normalise_email, normalise_phone
from customers.models import Customer
from customers.selectors.customers import customer_find_same
from customers.services.customers import customer_create
from service.models import Ticket
from service.services.tickets import ticket_create

HONEYPOT_FIELD = "website"

# Submissions one address may send per window; more are refused with HTTP 429.
SUBMISSION_LIMIT = 5
SUBMISSION_WINDOW_SECONDS = 10 * 60

MAX_LENGTHS = {"name": 200, "email": 254, "phone": 50, "subject": 200, "message": 5000}
REQUIRED = {
    "name": gettext_lazy("Please tell us your name."),
    "email": gettext_lazy("Please give an email address so we can answer you."),
    "subject": gettext_lazy("Please give your request a subject."),
    "message": gettext_lazy("Please tell us what it is about."),
}


def ticket_public_rate_limit_reached(*, ip_address: str | None) -> bool:
    """Count one more submission from this address; True once over the limit."""
    return rate_limit_reached(
        key=f"service:public_form:{ip_address or 'unknown'}",
        limit=SUBMISSION_LIMIT,
        window_seconds=SUBMISSION_WINDOW_SECONDS,
    )


def ticket_public_clean(*, data: Mapping[str, Any]) -> dict[str, str]:
    """What the visitor sent, cleaned as the customer forms clean it; a ValidationError names
    each field that is wrong."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, limit in MAX_LENGTHS.items():
        raw = str(data.get(name) or "")
        value = raw.strip() if name == "message" else fold_whitespace(raw)
        if len(value) > limit:
            errors[name] = _("Write at most %(count)d characters.") % {"count": limit}
            continue
        try:
            if name == "email":
                value = normalise_email(value)
            elif name == "phone":
                value = normalise_phone(value)
        except CleaningError as exc:
            errors[name] = str(exc)
            continue
        if not value and name in REQUIRED:
            errors[name] = REQUIRED[name]
            continue
        values[name] = value
    ticket_type = str(data.get("type") or Ticket.Type.INQUIRY)
    if ticket_type not in Ticket.Type.values:
        errors["type"] = _("Choose one of the kinds offered.")
    values["type"] = ticket_type
    if errors:
        raise ValidationError(errors)
    return values


def _language_for(language: str | None) -> str:
    return language if language in {code for code, _name in settings.LANGUAGES} else ""


def ticket_public_submit(
    *, data: Mapping[str, Any], honeypot: str = "", language: str | None = None
) -> Ticket | None:
    """Open a ticket from the public form; None when the honeypot was filled (a bot), in which
    case nothing is stored. Raises ValidationError by field for bad input.

    A customer with this email (the oldest, whoever owns them) gets the ticket and is left as
    they are, so the form cannot change a known customer; otherwise a lead from the website is
    created, in the language the visitor used, for the satisfaction survey later."""
    if honeypot.strip():
        return None
    values = ticket_public_clean(data=data)
    with transaction.atomic():
        customer = customer_find_same(email=values["email"])
        if customer is None:
            customer = customer_create(
                actor=None,
                name=values["name"],
                email=values["email"],
                phone=values.get("phone", ""),
                status=Customer.Status.LEAD,
                source=Customer.Source.WEBSITE,
                language=_language_for(language),
            )
        return ticket_create(
            actor=None,
            customer=customer,
            subject=values["subject"],
            description=values["message"],
            type=values["type"],
            channel=Ticket.Channel.WEB_FORM,
        )
