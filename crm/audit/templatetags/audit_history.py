"""`{% record_history record %}`: a record's history section, loaded when scrolled to."""

from django import template
from django.db.models import Model
from django.urls import reverse

from crm.audit.registry import record_history_kind

register = template.Library()


@register.inclusion_tag("audit/_history_section.html", takes_context=True)
def record_history(context, record: Model) -> dict:
    kind = record_history_kind(record._meta.label_lower)
    if kind is None:
        return {"history_url": ""}
    return {"history_url": reverse("audit:record_history", args=[kind.label, record.pk])}
