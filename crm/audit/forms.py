"""Filters of the audit log's two tabs."""

from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.audit.models import AuditEvent
from crm.audit.selectors import CHANGE_KINDS, history_tracked_model, history_tracked_models


def _day_start(day) -> datetime | None:
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time.min))


class AuditFilterForm(forms.Form):
    """Who and when, shared by both tabs; `until` includes the whole day it names."""

    user = forms.ModelChoiceField(
        label=_("User"), queryset=get_user_model().objects.order_by("username"), required=False
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for form_field in self.fields.values():
            is_select = isinstance(form_field.widget, forms.Select)
            form_field.widget.attrs["class"] = (
                "form-select form-select-sm" if is_select else "form-control form-control-sm"
            )

    def period(self) -> dict:
        until = self.cleaned_data.get("until")
        return {
            "since": _day_start(self.cleaned_data.get("since")),
            "until": _day_start(until + timedelta(days=1)) if until else None,
        }


class AuditEventFilterForm(AuditFilterForm):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("Any kind")), *AuditEvent.Kind.choices], required=False
    )
    ip_address = forms.GenericIPAddressField(label=_("IP address"), required=False)

    def filters(self) -> dict:
        return {
            "kind": self.cleaned_data.get("kind") or "",
            "actor": self.cleaned_data.get("user"),
            "ip_address": self.cleaned_data.get("ip_address") or "",
            **self.period(),
        }


class RecordChangeFilterForm(AuditFilterForm):
    type = forms.ChoiceField(label=_("Record type"), required=False)
    action = forms.ChoiceField(
        label=_("Action"), choices=[("", _("Any action")), *CHANGE_KINDS.items()], required=False
    )
    record = forms.IntegerField(label=_("Record id"), min_value=1, required=False)

    field_order = ["type", "record", "action", "user", "since", "until"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [
            (model._meta.label_lower, str(model._meta.verbose_name).capitalize())
            for model in history_tracked_models()
        ]

    def model(self):
        return history_tracked_model(self.cleaned_data.get("type") or "")

    def filters(self) -> dict:
        return {
            "actor": self.cleaned_data.get("user"),
            "action": self.cleaned_data.get("action") or "",
            "record_id": self.cleaned_data.get("record"),
            **self.period(),
        }
