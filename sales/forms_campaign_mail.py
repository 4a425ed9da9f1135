"""The form that starts sending an email campaign from its page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from sales.selectors.campaign_mail import campaign_mail_template_names


class CampaignMailingForm(forms.Form):
    template_name = forms.ChoiceField(
        label=_("Template"),
        help_text=_("Each member gets the version in their language, else the site's language."),
    )
    tracking = forms.BooleanField(
        label=_("Track opens and clicks"),
        required=False,
        initial=True,
        help_text=_("Adds an invisible image and rewrites links to count opens and clicks."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template_name"].choices = [
            ("", _("Choose a template")),
            *((name, name) for name in campaign_mail_template_names()),
        ]
