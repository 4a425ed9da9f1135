import zoneinfo
from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import User


def _time_zone_choices() -> list[tuple[str, str]]:
    return [("", _("Server default"))] + [
        (name, name) for name in sorted(zoneinfo.available_timezones())
    ]


class ProfileForm(forms.ModelForm):
    time_zone = forms.ChoiceField(label=_("time zone"), choices=_time_zone_choices, required=False)

    class Meta:
        model = User
        fields = ["display_name", "phone", "avatar", "time_zone", "language"]


class DateInput(forms.DateInput):
    input_type = "date"


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("name"),
        max_length=100,
        help_text=_("What will use it, say “Accounting export”."),
    )
    read_only = forms.BooleanField(
        label=_("read only"),
        required=False,
        help_text=_("Allow only reading (GET, HEAD and OPTIONS requests)."),
    )
    expires_at = forms.DateField(
        label=_("expires on"),
        required=False,
        widget=DateInput,
        help_text=_("Optional. The token stops working at the end of this day."),
    )

    def clean_expires_at(self) -> datetime | None:
        day = self.cleaned_data["expires_at"]
        if day is None:
            return None
        return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
