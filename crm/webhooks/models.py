import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.timestamps import TimeStampedModel


class WebhookSubscription(TimeStampedModel):
    """An integrator's wish to hear of some events: each one is POSTed, signed with `secret`, to
    `target_url`. It only carries events about records its owner may see.

    After `settings.CRM_WEBHOOK_DISABLE_AFTER` deliveries in a row have failed it is switched
    off (`is_active` false, `disabled_at` and `disabled_reason` set) and its owner told."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="webhook_subscriptions",
    )
    name = models.CharField(_("name"), max_length=100)
    target_url = models.URLField(_("target URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=64)
    events = models.JSONField(_("events"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    allow_private_network = models.BooleanField(
        _("may call private addresses"),
        default=False,
        help_text=_(
            "Only an administrator may set this: it lets the target resolve to loopback or "
            "private addresses, which are otherwise refused to stop server-side request forgery."
        ),
    )
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("why it was disabled"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="webhooksub_owner_created"),
            models.Index(fields=["is_active"], name="webhooksub_active"),
        ]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event to one subscription, and where its sending stands."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RETRYING = "retrying", _("Retrying")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Failed")

    subscription = models.ForeignKey(
        WebhookSubscription,
        verbose_name=_("subscription"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    event = models.CharField(_("event"), max_length=40)
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4, editable=False)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempt_count = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(
        _("last response code"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["subscription", "-created_at"], name="webhookdel_sub_created"),
            models.Index(fields=["status", "next_attempt_at"], name="webhookdel_status_next"),
            models.Index(fields=["event"], name="webhookdel_event"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription}"


class WebhookAttempt(models.Model):
    """One try at sending a delivery: what came back, or why nothing did."""

    delivery = models.ForeignKey(
        WebhookDelivery,
        verbose_name=_("delivery"),
        on_delete=models.CASCADE,
        related_name="attempts",
    )
    number = models.PositiveSmallIntegerField(_("attempt"))
    attempted_at = models.DateTimeField(_("attempted at"), auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    response_excerpt = models.CharField(_("response excerpt"), max_length=1000, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        ordering = ["delivery", "number"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhookattempt_number")
        ]

    def __str__(self) -> str:
        return f"{self.delivery} #{self.number}"
