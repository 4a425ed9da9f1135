from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class ActivityEvent(models.Model):
    """One thing that happened, written by whichever app it happened in (a deal won, a ticket
    escalated, a customer import finished, a file shared) and read as each team's feed.

    It lives in the ground floor so that every app can write to it without importing another.
    """

    class Verb(models.TextChoices):
        DEAL_WON = "deal_won", _("won a deal")
        DEAL_LOST = "deal_lost", _("lost a deal")
        TICKET_ESCALATED = "ticket_escalated", _("escalated a ticket")
        TICKET_RESOLVED = "ticket_resolved", _("resolved a ticket")
        CUSTOMERS_IMPORTED = "customers_imported", _("imported customers")
        FILE_SHARED = "file_shared", _("shared a file")
        RECORD_SHARED = "record_shared", _("shared a record")
        RECORD_UNSHARED = "record_unshared", _("stopped sharing a record")
        MEETING_HELD = "meeting_held", _("held a meeting")

    verb = models.CharField(_("what happened"), max_length=24, choices=Verb.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="activity_events",
    )
    target_type = models.ForeignKey(
        ContentType,
        verbose_name=_("record type"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    target_id = models.PositiveBigIntegerField(_("record id"), null=True, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    summary = models.CharField(_("summary"), max_length=300)
    url = models.CharField(_("link"), max_length=500, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activity")
        indexes = [
            models.Index(fields=["team", "-created_at", "-id"], name="activity_team_idx"),
            models.Index(fields=["-created_at", "-id"], name="activity_created_idx"),
            models.Index(fields=["target_type", "target_id"], name="activity_target_idx"),
        ]

    def __str__(self) -> str:
        return self.summary
