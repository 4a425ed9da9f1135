"""Deals as threads of email: mail sent from a deal carries its reply token and placeholders,
and replies come back to the deal's timeline."""

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext_lazy as _

from mail.models import EmailTemplate, Mailbox
from mail.registry import ThreadKind, register_thread_kind
from sales.models import Deal

DEAL_PLACEHOLDERS = {
    "deal.name": _("The deal's name"),
    "deal.amount": _("The deal's amount, with its currency"),
    "deal.stage": _("The deal's stage"),
    "deal.expected_close_date": _("The deal's expected close date"),
    "deal.owner": _("The deal owner's name"),
}


def deal_placeholders(deal: Deal, language: str) -> dict[str, str]:
    owner = deal.owner
    return {
        "deal.name": deal.name,
        "deal.amount": f"{deal.currency} {number_format(deal.amount, 2, force_grouping=True)}",
        "deal.stage": deal.stage.name if deal.stage_id else "",
        "deal.expected_close_date": date_format(deal.expected_close_date)
        if deal.expected_close_date
        else "",
        "deal.owner": str(owner) if owner else "",
    }


def deal_thread_kind_register() -> None:
    register_thread_kind(
        ThreadKind(
            model="sales.deal",
            prefix="D",
            context=EmailTemplate.Context.DEAL,
            mailbox_purpose=Mailbox.Purpose.SALES,
            customer_of=lambda deal: deal.customer,
            placeholders=deal_placeholders,
            placeholder_labels=DEAL_PLACEHOLDERS,
        )
    )
