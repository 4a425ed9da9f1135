"""Templates' placeholders: `{{ customer.first_name }}` and the like, filled from a fixed set of
values. Deliberately not the Django template language: a template is written by users and must
not reach anything but the values offered here."""

import re

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from mail import registry
from mail.models import EmailTemplate

PLACEHOLDER_RE = re.compile(r"\{\{\s*([a-z_]+(?:\.[a-z_]+)*)\s*\}\}")

BASE_PLACEHOLDERS = {
    "customer.name": _("The customer's name"),
    "customer.first_name": _("The customer's first name (the whole name if it has no space)"),
    "customer.email": _("The customer's email"),
    "customer.company": _("The customer's company"),
    "sender.name": _("Your name"),
    "sender.email": _("Your email"),
}
CAMPAIGN_PLACEHOLDERS = {
    "campaign.name": _("The campaign's name"),
    "unsubscribe_url": _("The recipient's one-click unsubscribe link"),
}


def placeholder_labels(context: str) -> dict[str, str]:
    """The placeholders a template used from `context` may contain, with what each is."""
    labels = dict(BASE_PLACEHOLDERS)
    if context == EmailTemplate.Context.CAMPAIGN:
        labels.update(CAMPAIGN_PLACEHOLDERS)
    for kind in registry.thread_kinds():
        if kind.context == context:
            labels.update(kind.placeholder_labels)
    return labels


def placeholders_unknown(text: str, *, context: str) -> list[str]:
    known = placeholder_labels(context)
    return sorted({name for name in PLACEHOLDER_RE.findall(text or "") if name not in known})


def placeholders_fill(text: str, values: dict[str, str]) -> str:
    """`text` with each placeholder replaced by its value; one with no value becomes empty."""
    return PLACEHOLDER_RE.sub(lambda match: str(values.get(match.group(1), "")), text or "")


def first_name(name: str) -> str:
    name = (name or "").strip()
    return name.split()[0] if " " in name else name


def customer_placeholders(customer) -> dict[str, str]:
    if customer is None:
        return {}
    return {
        "customer.name": customer.name,
        "customer.first_name": first_name(customer.name),
        "customer.email": customer.email,
        "customer.company": customer.company.name if customer.company_id else "",
    }


def sender_placeholders(user) -> dict[str, str]:
    if user is None:
        return {}
    return {"sender.name": str(user), "sender.email": user.email}


def language_for(customer) -> str:
    """The language mail to `customer` is written in: theirs, else the site's."""
    return (getattr(customer, "language", "") or settings.LANGUAGE_CODE).lower()


def template_version(*, name: str, language: str) -> EmailTemplate | None:
    """The active version of template `name` in `language`, else in the site's language, else
    any."""
    versions = {
        template.language.lower(): template
        for template in EmailTemplate.objects.filter(name=name, is_active=True)
    }
    return (
        versions.get(language.lower())
        or versions.get(settings.LANGUAGE_CODE.lower())
        or next(iter(versions.values()), None)
    )


def template_render(
    *, template: EmailTemplate, customer=None, sender=None, record=None, extra=None
) -> tuple[str, str]:
    """(subject, body) of `template` for this customer, sender and record (a deal or ticket),
    with numbers and dates written the way the template's language writes them."""
    values = {**customer_placeholders(customer), **sender_placeholders(sender)}
    with translation.override(template.language):
        if record is not None:
            kind = registry.thread_kind_for_model(record._meta.label_lower)
            if kind is not None:
                values.update(kind.placeholders(record, template.language))
        values.update(extra or {})
        return (
            placeholders_fill(template.subject, values).replace("\n", " ").strip(),
            placeholders_fill(template.body, values),
        )
