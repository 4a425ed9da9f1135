"""The email pages' forms. They only shape input: `email_send` and the template services check
addresses, placeholders and attachments, so the pages and the API refuse the same things."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from crm.forms import MultipleFileField
from mail.models import EmailMessage, EmailTemplate, Mailbox
from mail.services.mailboxes import MAILBOX_EDITABLE_FIELDS
from mail.services.outbound import MAX_SIGNATURE_LENGTH


class ComposeForm(forms.Form):
    to = forms.CharField(
        label=_("To"),
        max_length=5000,
        help_text=_("Separate several addresses with commas."),
    )
    cc = forms.CharField(label=_("Cc"), max_length=5000, required=False)
    template_name = forms.ChoiceField(label=_("Template"), required=False)
    template_language = forms.ChoiceField(label=_("Template language"), required=False)
    subject = forms.CharField(label=_("Subject"), max_length=300, required=False)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 12}))
    attachments = MultipleFileField(label=_("Attachments"))
    signature = forms.BooleanField(label=_("Add my signature"), required=False, initial=True)

    def __init__(self, *args, template_names: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template_name"].choices = [
            ("", _("No template")),
            *[(name, name) for name in template_names],
        ]
        self.fields["template_language"].choices = list(settings.LANGUAGES)


class TemplatePickForm(forms.Form):
    """What the compose page's template picker sends to have subject and body filled in."""

    template_name = forms.CharField(required=False, max_length=100)
    template_language = forms.ChoiceField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template_language"].choices = [("", ""), *settings.LANGUAGES]


class EmailTemplateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("The versions of one template in several languages share its name."),
    )
    context = forms.ChoiceField(label=_("Used from"), choices=EmailTemplate.Context.choices)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    subject = forms.CharField(label=_("Subject"), max_length=300)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 12}))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class SignatureForm(forms.Form):
    body = forms.CharField(
        label=_("Signature"),
        required=False,
        max_length=MAX_SIGNATURE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Added below the mail you send when you tick “Add my signature”."),
    )


class EmailFilterForm(forms.Form):
    direction = forms.ChoiceField(
        label=_("Direction"),
        required=False,
        choices=[("", _("Sent and received")), *EmailMessage.Direction.choices],
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *EmailMessage.Status.choices],
    )
    q = forms.CharField(label=_("Subject or address"), required=False, max_length=200)
    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class MailboxForm(forms.ModelForm):
    """A mailbox's settings. The password is write-only: the field starts empty, and left empty
    on a change it keeps the stored one (mailbox_update)."""

    imap_password = forms.CharField(
        label=_("IMAP password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted and never shown; leave empty to keep the current one."),
    )

    class Meta:
        model = Mailbox
        fields = [
            *MAILBOX_EDITABLE_FIELDS,
        ]

    def _post_clean(self):
        # The service checks and saves; the form only shapes input, so it does not write its
        # values onto the stored mailbox.
        pass
