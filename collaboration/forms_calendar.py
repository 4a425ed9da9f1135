"""The event form of the calendar pages; the checks themselves are the services'."""

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy

from collaboration.forms import DateTimeLocalInput
from collaboration.models import Event, EventAttendee
from collaboration.selectors.tasks import related_content_type, related_type_choices
from crm.accounts.models import User
from crm.accounts.selectors import user_list_active

CUSTOMER = "customers.customer"


class GuestIdsField(forms.TypedMultipleChoiceField):
    """Customer ids picked by searching, so there is no list of choices to check them against;
    the service checks that the user may see each one."""

    def __init__(self, **kwargs) -> None:
        super().__init__(coerce=int, **kwargs)

    def valid_value(self, value) -> bool:
        return True


class EventForm(forms.Form):
    """A new event or a change of one made from its `version`."""

    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), choices=Event.Kind.choices, initial=Event.Kind.MEETING
    )
    starts_at = forms.DateTimeField(label=gettext_lazy("Starts"), widget=DateTimeLocalInput())
    ends_at = forms.DateTimeField(label=gettext_lazy("Ends"), widget=DateTimeLocalInput())
    all_day = forms.BooleanField(label=gettext_lazy("All day"), required=False)
    location = forms.CharField(label=gettext_lazy("Location"), max_length=200, required=False)
    video_url = forms.CharField(
        label=gettext_lazy("Video link"),
        max_length=500,
        required=False,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    remind_minutes_before = forms.IntegerField(
        label=gettext_lazy("Remind (minutes before)"),
        min_value=0,
        initial=15,
        help_text=gettext_lazy("0 for no reminder."),
    )
    attendees = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Attendees"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=gettext_lazy("Colleagues to invite; hold Ctrl (⌘ on a Mac) to pick several."),
    )
    guests = GuestIdsField(label=gettext_lazy("Customer guests"), required=False)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    related_type = forms.ChoiceField(required=False, choices=[("", "—")], widget=forms.HiddenInput)
    related_id = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, editing: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        self.fields["attendees"].queryset = user_list_active()
        self.fields["related_type"].choices = [("", "—"), *related_type_choices()]
        if not editing:
            del self.fields["version"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if (cleaned.get("related_type") or None) is None:
            cleaned["related_id"] = None
        return cleaned

    def service_values(self) -> dict[str, Any]:
        """The event's own values for event_create/event_update."""
        data = self.cleaned_data
        values = {
            name: data[name]
            for name in (
                "title",
                "kind",
                "starts_at",
                "ends_at",
                "all_day",
                "location",
                "video_url",
                "remind_minutes_before",
                "description",
            )
        }
        label = data.get("related_type")
        related_type = related_content_type(label) if label else None
        values["related_type"] = related_type
        values["related_id"] = data.get("related_id") if related_type is not None else None
        if not self.editing and related_type is None:
            del values["related_type"], values["related_id"]
        return values

    def attendee_ids(self) -> list[int]:
        return [user.pk for user in self.cleaned_data["attendees"]]

    def guest_refs(self) -> list[tuple[str, int]]:
        return [(CUSTOMER, pk) for pk in self.cleaned_data["guests"]]

    def guest_ids(self) -> list[int]:
        """The guests picked so far (for drawing the form again), valid or not."""
        ids = []
        for value in self["guests"].value() or []:
            try:
                ids.append(int(value))
            except (TypeError, ValueError):
                continue
        return ids

    @classmethod
    def initial_for(cls, event: Event) -> dict[str, Any]:
        related_type = ""
        if event.related_type_id is not None:
            related_type = f"{event.related_type.app_label}.{event.related_type.model}"
        return {
            "title": event.title,
            "kind": event.kind,
            "starts_at": timezone.localtime(event.starts_at),
            "ends_at": timezone.localtime(event.ends_at),
            "all_day": event.all_day,
            "location": event.location,
            "video_url": event.video_url,
            "remind_minutes_before": event.remind_minutes_before,
            "attendees": [attendee.user_id for attendee in event.attendees.all()],
            "guests": [guest.guest_id for guest in event.guests.all()],
            "description": event.description,
            "related_type": related_type,
            "related_id": event.related_id,
            "version": event.version,
        }

    @classmethod
    def initial_from_query(cls, query) -> dict[str, Any]:
        """What a link to the new-event page fills in: ?start=ISO time or date, and the record
        the event is about (?related_type=sales.deal&related_id=42)."""
        initial: dict[str, Any] = {}
        start = _parse_start(query.get("start", ""))
        if start is not None:
            initial["starts_at"] = start
            initial["ends_at"] = start + timedelta(hours=1)
        label = query.get("related_type", "")
        try:
            related_id = int(query.get("related_id", ""))
        except ValueError:
            return initial
        if related_content_type(label) is not None and related_id > 0:
            initial["related_type"] = label.lower()
            initial["related_id"] = related_id
        return initial


def _parse_start(value: str) -> datetime | None:
    try:
        start = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if timezone.is_naive(start):
        if start.hour == start.minute == 0 and "T" not in value:
            # A bare date (from a day of the month grid) starts at nine.
            start = start.replace(hour=9)
        start = timezone.make_aware(start)
    return timezone.localtime(start)


class RespondForm(forms.Form):
    response = forms.ChoiceField(
        choices=[
            (EventAttendee.Response.ACCEPTED, gettext_lazy("Accept")),
            (EventAttendee.Response.TENTATIVE, gettext_lazy("Maybe")),
            (EventAttendee.Response.DECLINED, gettext_lazy("Decline")),
        ]
    )
