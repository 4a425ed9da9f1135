from django import forms
from django.utils.translation import gettext_lazy as _

from crm.webhooks.events import EVENTS


class WebhookSubscriptionForm(forms.Form):
    """The subscription page's form; the services check the address and the events. Only an
    admin sees the choice to let the webhook call private addresses."""

    name = forms.CharField(label=_("Name"), max_length=100)
    target_url = forms.URLField(
        label=_("Target URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Events are POSTed here as JSON, signed with the subscription's secret."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=list(EVENTS.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    allow_private_network = forms.BooleanField(
        label=_("May call private addresses"),
        required=False,
        help_text=_(
            "Lets the target resolve to loopback or private addresses, which are otherwise "
            "refused to stop server-side request forgery."
        ),
    )

    def __init__(self, *args, may_allow_private_network: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_allow_private_network:
            del self.fields["allow_private_network"]
