"""The notification preferences form: for every kind, in the app and in the email digest."""

from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class PreferenceRow:
    kind: str
    label: str
    in_app: forms.BoundField
    email_digest: forms.BoundField


class NotificationPreferencesForm(forms.Form):
    """Two checkboxes per kind, named `<kind>-in_app` and `<kind>-email_digest`; built from
    collaboration.selectors.notifications.notification_preferences_for."""

    def __init__(self, *args, preferences: list[tuple[str, str, bool, bool]], **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = [(kind, label) for kind, label, _in_app, _email in preferences]
        for kind, label, in_app, email_digest in preferences:
            self.fields[f"{kind}-in_app"] = forms.BooleanField(
                label=_("%(kind)s in the app") % {"kind": label},
                required=False,
                initial=in_app,
            )
            self.fields[f"{kind}-email_digest"] = forms.BooleanField(
                label=_("%(kind)s in the email digest") % {"kind": label},
                required=False,
                initial=email_digest,
            )

    def rows(self) -> list[PreferenceRow]:
        return [
            PreferenceRow(
                kind=kind,
                label=label,
                in_app=self[f"{kind}-in_app"],
                email_digest=self[f"{kind}-email_digest"],
            )
            for kind, label in self.kinds
        ]

    def service_values(self) -> dict[str, dict[str, bool]]:
        return {
            kind: {
                "in_app": self.cleaned_data[f"{kind}-in_app"],
                "email_digest": self.cleaned_data[f"{kind}-email_digest"],
            }
            for kind, _label in self.kinds
        }
