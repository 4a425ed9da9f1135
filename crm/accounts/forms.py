import zoneinfo

from django import forms
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
