"""Query-string filters shared by every app's API."""

from datetime import UTC

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, held in UTC. Python takes offsets up to ±23:59 but PostgreSQL only
    up to ±15:59, so an offset is applied here rather than sent to the database; a moment
    beyond the calendar's ends is refused like any other bad value."""

    default_error_messages = {"overflow": _("Enter a date and time within years 1 to 9999.")}

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError as exc:
            raise forms.ValidationError(self.error_messages["overflow"], code="overflow") from exc


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField
