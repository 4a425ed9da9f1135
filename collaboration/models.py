from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.timestamps import TimeStampedModel


class Task(TimeStampedModel):
    """A follow-up someone has to do, optionally about one record (a customer, deal or ticket).

    The link is generic so that this app needs none of the apps whose records it points at.
    """

    class Kind(models.TextChoices):
        CALL = "call", _("Call back")
        EMAIL = "email", _("Send email")
        QUOTE = "quote", _("Send quote")
        MEETING = "meeting", _("Meeting")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)

    # The assignee is whose task it is, so the visibility rule reads it as the owner.
    visibility_owner_field = "assignee"

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.OTHER)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    remind_minutes_before = models.PositiveIntegerField(
        _("remind minutes before"), default=30, help_text=_("0 for no reminder")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="created_tasks",
    )
    related_type = models.ForeignKey(
        ContentType,
        verbose_name=_("related record type"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    related_id = models.PositiveBigIntegerField(_("related record id"), null=True, blank=True)
    related_record = GenericForeignKey("related_type", "related_id")
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)
    overdue_notified_at = models.DateTimeField(_("overdue notice sent at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"], name="task_assignee_due_idx"),
            models.Index(fields=["team", "status", "due_at"], name="task_team_due_idx"),
            models.Index(fields=["status", "due_at"], name="task_status_due_idx"),
            models.Index(fields=["related_type", "related_id"], name="task_related_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(related_type__isnull=True, related_id__isnull=True)
                | Q(related_type__isnull=False, related_id__isnull=False),
                name="task_related_complete",
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(completed_at__isnull=False),
                name="task_done_has_completed_at",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class Notification(models.Model):
    """Something a user should know about; shown in their notification list until read."""

    class Kind(models.TextChoices):
        TASK_ASSIGNED = "task_assigned", _("Task assigned")
        TASK_REMINDER = "task_reminder", _("Task reminder")
        TASK_OVERDUE = "task_overdue", _("Task overdue")
        DEAL_STALE = "deal_stale", _("Deal stale")
        RECORD_ASSIGNED = "record_assigned", _("Record assigned")
        OTHER = "other", _("Other")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    related_type = models.ForeignKey(
        ContentType,
        verbose_name=_("related record type"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    related_id = models.PositiveBigIntegerField(_("related record id"), null=True, blank=True)
    related_record = GenericForeignKey("related_type", "related_id")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(
                fields=["recipient", "read_at", "-created_at"], name="notification_inbox_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.title
