"""Webhooks in the admin. Only administrators reach it, so this is where a subscription is
allowed to call private addresses (`allow_private_network`); saves go through the services,
which check the address and the events as the pages and the API do. The delivery log and its
attempts are a record of what happened and only shown."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.admin_services import ReadOnlyAdmin, ServiceAdmin, changed_values, error_text
from crm.webhooks import services
from crm.webhooks.events import EVENTS
from crm.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription


class WebhookSubscriptionAdminForm(forms.ModelForm):
    target_url = forms.URLField(label=_("Target URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=list(EVENTS.items()), widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookSubscription
        fields = ["owner", "name", "target_url", "events", "is_active", "allow_private_network"]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ServiceAdmin):
    form = WebhookSubscriptionAdminForm
    list_display = [
        "name",
        "owner",
        "target_url",
        "is_active",
        "allow_private_network",
        "consecutive_failures",
        "disabled_at",
    ]
    list_select_related = ["owner"]
    list_filter = ["is_active", "allow_private_network"]
    search_fields = ["name", "target_url", "owner__username"]
    raw_id_fields = ["owner"]
    readonly_fields = [
        "consecutive_failures",
        "disabled_at",
        "disabled_reason",
        "created_at",
        "updated_at",
    ]
    actions = ["enable", "send_ping"]

    def get_readonly_fields(self, request, obj=None):
        # A webhook carries events its owner may see, so it keeps the owner it was made for.
        return [*self.readonly_fields, "owner"] if obj else self.readonly_fields

    def service_save(self, request, form, formsets, change):
        if not change:
            return services.webhook_subscription_create(actor=request.user, **form.cleaned_data)
        changes = changed_values(form, services.SUBSCRIPTION_EDITABLE_FIELDS)
        if not changes:
            return None
        # The form has already written its values onto form.instance; the service compares
        # the new address with the stored one.
        stored = WebhookSubscription.objects.get(pk=form.instance.pk)
        return services.webhook_subscription_update(
            actor=request.user, subscription=stored, **changes
        )

    def service_delete(self, request, obj):
        services.webhook_subscription_delete(actor=request.user, subscription=obj)

    @admin.action(description=_("Switch on again, clearing the failures in a row"))
    def enable(self, request, queryset):
        for subscription in queryset:
            services.webhook_subscription_enable(actor=request.user, subscription=subscription)
        count = len(queryset)
        self.message_user(
            request,
            ngettext("%(count)d webhook switched on.", "%(count)d webhooks switched on.", count)
            % {"count": count},
        )

    @admin.action(description=_("Send a test ping"))
    def send_ping(self, request, queryset):
        for subscription in queryset:
            services.webhook_test_ping(actor=request.user, subscription=subscription)
        self.message_user(request, _("Test pings are on their way."))


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["number", "attempted_at", "status_code", "duration_ms", "error", "response_excerpt"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "subscription",
        "event",
        "status",
        "attempt_count",
        "last_status_code",
        "next_attempt_at",
    ]
    list_select_related = ["subscription"]
    list_filter = ["status", "event"]
    search_fields = ["event", "subscription__name"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    def has_redeliver_permission(self, request) -> bool:
        return request.user.has_perm("webhooks.change_webhooksubscription")

    @admin.action(description=_("Redeliver"), permissions=["redeliver"])
    def redeliver(self, request, queryset):
        sent = 0
        for delivery in queryset.select_related("subscription"):
            try:
                services.webhook_delivery_redeliver(actor=request.user, delivery=delivery)
            except ValidationError as exc:
                self.message_user(request, f"{delivery}: {error_text(exc)}", messages.WARNING)
            else:
                sent += 1
        self.message_user(
            request,
            ngettext("%(count)d delivery queued again.", "%(count)d deliveries queued again.", sent)
            % {"count": sent},
        )


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ReadOnlyAdmin):
    list_display = ["attempted_at", "delivery", "number", "status_code", "duration_ms", "error"]
    list_select_related = ["delivery", "delivery__subscription"]
    list_filter = ["status_code"]
    search_fields = ["delivery__event", "error"]
    show_full_result_count = False
