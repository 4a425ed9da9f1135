import zoneinfo
from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import FieldRule, User
from crm.accounts.services import VISIBLE


def _time_zone_choices() -> list[tuple[str, str]]:
    return [("", _("Server default"))] + [
        (name, name) for name in sorted(zoneinfo.available_timezones())
    ]


class ProfileForm(forms.ModelForm):
    time_zone = forms.ChoiceField(label=_("time zone"), choices=_time_zone_choices, required=False)
    # A plain file field: the service checks the picture, without decoding it as Django's
    # image field would, and says why one is refused.
    avatar = forms.FileField(label=_("avatar"), required=False)

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


class TwoFactorCodeForm(forms.Form):
    code = forms.CharField(
        label=_("code from your authenticator app"),
        max_length=10,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_code(self) -> str:
        return self.cleaned_data["code"].replace(" ", "")


class FieldRulesForm(forms.Form):
    """One record type's rules as a matrix: a choice of visible, read-only or hidden for each
    securable field and role. `changes()` gives the cells that differ from the stored rules."""

    def __init__(self, *args, model, fields: tuple[str, ...], roles, matrix: dict, **kwargs):
        super().__init__(*args, prefix=model._meta.label_lower.replace(".", "-"), **kwargs)
        self.model = model
        self.title = model._meta.verbose_name_plural
        self.roles = list(roles)
        self.matrix = matrix
        self.rows = []
        choices = [(VISIBLE, _("Visible")), *FieldRule.Access.choices]
        for field_name in fields:
            cells = []
            for role in self.roles:
                name = f"{field_name}__{role.pk}"
                self.fields[name] = forms.ChoiceField(
                    label=f"{model._meta.get_field(field_name).verbose_name} · {role.name}",
                    choices=choices,
                    initial=matrix.get((field_name, role.pk), VISIBLE),
                )
                cells.append(name)
            self.rows.append((model._meta.get_field(field_name).verbose_name, cells))

    @property
    def table(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(label, [self[name] for name in cells]) for label, cells in self.rows]

    def changes(self) -> dict:
        roles = {role.pk: role for role in self.roles}
        changes = {}
        for name, value in self.cleaned_data.items():
            field_name, role_id = name.rsplit("__", 1)
            if self.matrix.get((field_name, int(role_id)), VISIBLE) != value:
                changes[(field_name, roles[int(role_id)])] = value
        return changes
