"""The placeholders a rule's texts (a task's title, a notification, a chat message) may hold:
the same ones as email templates for the record's kind, and the record's name and link."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from automation.record_types import RecordKind
from mail import registry as mail_registry
from mail.rendering import (
    BASE_PLACEHOLDERS,
    PLACEHOLDER_RE,
    customer_placeholders,
    placeholders_fill,
)

RULE_PLACEHOLDERS = {
    "record.name": gettext_lazy("The record's name"),
    "record.url": gettext_lazy("The link to the record's page"),
    "rule.name": gettext_lazy("The rule's name"),
}
MAX_TEXT_LENGTH = 2000


def placeholder_labels(kind: RecordKind) -> dict[str, str]:
    labels = {
        name: label for name, label in BASE_PLACEHOLDERS.items() if name.startswith("customer.")
    }
    thread_kind = mail_registry.thread_kind_for_model(kind.model._meta.label_lower)
    if thread_kind is not None:
        labels.update(thread_kind.placeholder_labels)
    labels.update(RULE_PLACEHOLDERS)
    return labels


def text_clean(value, *, kind: RecordKind, name: str, required: bool = True, max_length=None):
    """The text with its placeholders checked; errors are named after the setting `name`."""
    text = str(value or "").strip()
    limit = max_length or MAX_TEXT_LENGTH
    if required and not text:
        raise ValidationError({name: [_("This cannot be empty.")]})
    if len(text) > limit:
        raise ValidationError({name: [_("Keep it under %(max)d characters.") % {"max": limit}]})
    known = placeholder_labels(kind)
    unknown = sorted({found for found in PLACEHOLDER_RE.findall(text) if found not in known})
    if unknown:
        raise ValidationError(
            {name: [_("Unknown placeholder: %(names)s.") % {"names": ", ".join(unknown)}]}
        )
    return text


def text_fill(text: str, *, kind: RecordKind, record: Model, rule_name: str) -> str:
    customer = kind.customer_of(record)
    values = {
        **customer_placeholders(customer),
        "record.name": str(record),
        "record.url": f"{settings.CRM_SITE_URL}{kind.url(record)}",
        "rule.name": rule_name,
    }
    thread_kind = mail_registry.thread_kind_for_model(kind.model._meta.label_lower)
    if thread_kind is not None:
        values.update(thread_kind.placeholders(record, settings.LANGUAGE_CODE))
    return placeholders_fill(text, values)
