from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from collaboration.models import CalendarFeed, Event, EventAttendee, EventGuest
from collaboration.selectors.tasks import content_type_label
from collaboration.services.calendar import (
    EVENT_EDITABLE_FIELDS,
    calendar_feed_revoke,
    event_create,
    event_delete,
    event_update,
)
from crm.admin_services import ReadOnlyAdmin, ServiceAdmin, changed_values, given_values


class EventAttendeeInline(admin.TabularInline):
    model = EventAttendee
    extra = 0
    autocomplete_fields = ["user"]
    # Only the attendee answers; the admin invites and uninvites.
    readonly_fields = ["response"]


class EventGuestInline(admin.TabularInline):
    model = EventGuest
    extra = 0
    fields = ["guest_type", "guest_id", "name", "email"]
    # Copied from the customer by the service when invited.
    readonly_fields = ["name", "email"]


def _kept_rows(formset) -> list[dict]:
    return [
        form.cleaned_data
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


@admin.register(Event)
class EventAdmin(SimpleHistoryAdmin, ServiceAdmin):
    """Saves go through event_create / event_update, so an admin edit moves the version on,
    re-arms the reminder when the start moves, invites new attendees and tells them of a new
    time, and checks the guests, as every other change does. A refusal is reported at the top of
    the page and nothing is written."""

    list_display = ["title", "starts_at", "organizer", "team", "kind", "cancelled"]
    list_select_related = ["organizer", "team"]
    list_filter = ["kind", "team"]
    search_fields = ["title"]
    autocomplete_fields = ["team"]
    inlines = [EventAttendeeInline, EventGuestInline]
    readonly_fields = [
        "organizer",
        "reminded_at",
        "cancelled_at",
        "logged_at",
        "version",
        "created_at",
        "updated_at",
    ]
    date_hierarchy = "starts_at"
    show_full_result_count = False
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(boolean=True, description=_("cancelled"), ordering="cancelled_at")
    def cancelled(self, event: Event) -> bool:
        return event.cancelled_at is not None

    def _people(self, formsets, *, changed_only: bool) -> dict:
        people = {}
        for formset in formsets:
            if changed_only and not formset.has_changed():
                continue
            rows = _kept_rows(formset)
            if formset.model is EventAttendee:
                people["attendee_ids"] = [row["user"].pk for row in rows if row.get("user")]
            elif formset.model is EventGuest:
                people["guests"] = [
                    (content_type_label(row["guest_type"]), row["guest_id"])
                    for row in rows
                    if row.get("guest_type") and row.get("guest_id")
                ]
        return people

    def service_save(self, request, form, formsets, change):
        if not change:
            return event_create(
                actor=request.user,
                values=given_values(form, EVENT_EDITABLE_FIELDS),
                **self._people(formsets, changed_only=False),
            )
        values = changed_values(form, EVENT_EDITABLE_FIELDS)
        people = self._people(formsets, changed_only=True)
        if not values and not people:
            return None
        event = form.instance
        return event_update(
            actor=request.user, event=event, values=values, version=event.version, **people
        )

    def service_delete(self, request, obj):
        event_delete(actor=request.user, event=obj)


@admin.register(EventAttendee)
class EventAttendeeAdmin(ReadOnlyAdmin):
    """Invitations are changed on their event's page; the answers are the attendees'."""

    list_display = ["event", "user", "response"]
    list_select_related = ["event", "user"]
    list_filter = ["response"]
    search_fields = ["event__title", "user__username"]
    show_full_result_count = False


@admin.register(EventGuest)
class EventGuestAdmin(ReadOnlyAdmin):
    """Customer guests are changed on their event's page."""

    list_display = ["event", "name", "email"]
    list_select_related = ["event"]
    search_fields = ["event__title", "name", "email"]
    show_full_result_count = False


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnlyAdmin):
    """Who has a private calendar address, and when it was last read. Only a hash of the token
    is stored and it is not shown; deleting the row revokes the address."""

    list_display = ["user", "created_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    fields = ["user", "created_at", "last_used_at"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("collaboration.delete_calendarfeed")

    def delete_model(self, request, obj):
        calendar_feed_revoke(user=obj.user)

    def delete_queryset(self, request, queryset):
        for feed in queryset.select_related("user"):
            calendar_feed_revoke(user=feed.user)
