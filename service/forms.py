"""Forms of the ticket pages: the list's filters and bulk actions, the new-ticket and edit forms,
the reply box, the status and assign forms, and the canned response form."""

from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.urls import reverse_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import Team, User
from crm.accounts.selectors import user_is_admin, user_list_active, user_team_ids
from crm.forms import FieldSecurityFormMixin, MultipleFileField
from customers.models import Customer
from customers.selectors.customers import customer_list_visible
from customers.views.records import RecordPickerInput
from service.models import CannedResponse, Ticket, TicketCategory, TicketMessage
from service.selectors.queues import TicketFilter
from service.services.tickets import WORKFLOW


class CustomerPickerField(forms.ModelChoiceField):
    """A customer the user may see, chosen by typing part of their name, email or phone."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Customer"))
        super().__init__(
            queryset=Customer.objects.none(),
            widget=RecordPickerInput(
                search_url=reverse_lazy("customers:customer_picker"),
                placeholder=_("Type a name, email or phone"),
            ),
            **kwargs,
        )


def _tag_names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def ticket_filter_for_page(*, params, queryset: QuerySet[Ticket]) -> TicketFilter:
    """A TicketFilter whose form reads well on the list: "any" choices, the customer hidden."""
    ticket_filter = TicketFilter(params, queryset=queryset)
    form = ticket_filter.form
    form.fields["assignee"].empty_label = _("Any assignee")
    form.fields["team"].empty_label = _("Any team")
    form.fields["category"].empty_label = _("Any category")
    for name in ("status", "priority", "type", "channel"):
        form.fields[name].empty_label = _("Any")
    form.fields["customer"].widget = forms.HiddenInput()
    return ticket_filter


def _category_choices() -> QuerySet[TicketCategory]:
    return TicketCategory.objects.filter(is_active=True).order_by("name")


class TicketFieldsForm(FieldSecurityFormMixin, forms.Form):
    """The fields a new ticket and an edited one share."""

    secured_model = Ticket

    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    type = forms.ChoiceField(label=_("Type"), choices=Ticket.Type.choices)
    channel = forms.ChoiceField(label=_("Channel"), choices=Ticket.Channel.choices)
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Ticket.Priority.choices, initial=Ticket.Priority.NORMAL
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=TicketCategory.objects.none(), required=False
    )
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separate tags with commas.")
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = _category_choices()
        self.fields["team"].queryset = Team.objects.order_by("name")
        self.fields_secure(user=user)

    def clean_tags(self) -> list[str]:
        return _tag_names(self.cleaned_data["tags"])


class TicketCreateForm(TicketFieldsForm):
    customer = CustomerPickerField()
    assignee = forms.ModelChoiceField(
        label=_("Assignee"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Left empty, the ticket is yours."),
    )
    attachments = MultipleFileField(label=_("Attachments"))

    field_order = ["customer", "subject", "description"]

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["customer"].queryset = customer_list_visible(user=user)
        self.fields["assignee"].queryset = user_list_active()
        self.fields["team"].help_text = _("Left empty, the assignee's team.")

    def service_values(self) -> dict[str, Any]:
        values = dict(self.cleaned_data)
        # Left empty, the service decides (the creator and their team).
        for name in ("assignee", "team", "category"):
            if values.get(name) is None:
                values.pop(name, None)
        return values


class TicketEditForm(TicketFieldsForm):
    version = forms.IntegerField(widget=forms.HiddenInput())

    def service_values(self) -> dict[str, Any]:
        values = dict(self.cleaned_data)
        values.pop("version")
        return values


def ticket_edit_initial(ticket: Ticket) -> dict[str, Any]:
    return {
        "subject": ticket.subject,
        "description": ticket.description,
        "type": ticket.type,
        "channel": ticket.channel,
        "priority": ticket.priority,
        "category": ticket.category_id,
        "team": ticket.team_id,
        "tags": ", ".join(tag.name for tag in ticket.tags.all()),
        "version": ticket.version,
    }


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 5}))
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (TicketMessage.Kind.REPLY, _("Public reply")),
            (TicketMessage.Kind.NOTE, _("Internal note")),
        ],
        initial=TicketMessage.Kind.REPLY,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    attachments = MultipleFileField(label=_("Attachments"))
    status = forms.ChoiceField(label=_("Then set the status to"), required=False)

    def __init__(self, *args, ticket: Ticket, **kwargs):
        super().__init__(*args, **kwargs)
        moves = [(value, Ticket.Status(value).label) for value in WORKFLOW[ticket.status]]
        self.fields["status"].choices = [("", _("Leave as it is")), *moves]


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Ticket.Status.choices)
    version = forms.IntegerField()


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=User.objects.none(), required=False, empty_label=_("Nobody")
    )
    version = forms.IntegerField(widget=forms.HiddenInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = user_list_active()


class BulkForm(forms.Form):
    """Selected rows of the ticket list ("<id>:<version>" each) and what to do with them."""

    ACTION_ASSIGN = "assign"
    ACTION_CLOSE = "close"

    action = forms.ChoiceField(
        choices=[(ACTION_ASSIGN, _("Assign to")), (ACTION_CLOSE, _("Close"))]
    )
    assignee = forms.ModelChoiceField(
        label=_("Assign to"), queryset=User.objects.none(), required=False, empty_label=_("Nobody")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = user_list_active()
        self.selected: dict[int, int] = {}

    def clean(self):
        cleaned = super().clean()
        for value in self.data.getlist("tickets") if hasattr(self.data, "getlist") else []:
            pk, _colon, version = value.partition(":")
            if not (pk.isdigit() and version.isdigit()):
                raise forms.ValidationError(gettext("The selection could not be read."))
            self.selected[int(pk)] = int(version)
        if not self.selected:
            raise forms.ValidationError(gettext("Select at least one ticket."))
        return cleaned


class CannedResponseForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "{customer_name}, {ticket_number}, {ticket_subject} and {agent_name} are filled in "
            "when the response is used."
        ),
    )
    team = forms.ModelChoiceField(
        label=_("Share with team"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=_("Only me"),
    )

    def __init__(self, *args, user: User, response: CannedResponse | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        teams = Team.objects.order_by("name")
        if not user_is_admin(user):
            condition = Q(pk__in=user_team_ids(user))
            if response is not None and response.team_id:
                condition |= Q(pk=response.team_id)
            teams = teams.filter(condition)
        self.fields["team"].queryset = teams


def customer_for_new_ticket(*, user: User, customer_id: str) -> Customer | None:
    """The customer a "New ticket" link names (?customer=<id>), if the user may see them."""
    if not customer_id.isdigit():
        return None
    return customer_list_visible(user=user).filter(pk=int(customer_id)).first()
