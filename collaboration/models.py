import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.audit.history import audited_history
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

    history = audited_history()

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
        MENTION = "mention", _("Mention")
        RECORD_SHARED = "record_shared", _("Record shared")
        SLA_WARNING = "sla_warning", _("SLA warning")
        EVENT_INVITATION = "event_invitation", _("Meeting invitation")
        EVENT_REMINDER = "event_reminder", _("Meeting reminder")
        WEBHOOK_DISABLED = "webhook_disabled", _("Webhook disabled")
        AUTOMATION = "automation", _("Workflow rule")
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
    # A recipient may want a kind only in the daily email, not in the bell (their preferences).
    in_app = models.BooleanField(_("shown in the app"), default=True)
    email_pending = models.BooleanField(_("waiting for the email digest"), default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(
                fields=["recipient", "read_at", "-created_at"], name="notification_inbox_idx"
            ),
            models.Index(
                fields=["recipient", "created_at"],
                condition=Q(email_pending=True),
                name="notification_digest_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class NotificationPreference(models.Model):
    """How one user wants one kind of notification; a kind without a row is shown in the app and
    left out of the email digest."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Notification.Kind.choices)
    in_app = models.BooleanField(_("in the app"), default=True)
    email_digest = models.BooleanField(_("in the email digest"), default=False)

    class Meta:
        ordering = ["user", "kind"]
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_pref_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.kind}"


class TaskComment(TimeStampedModel):
    task = models.ForeignKey(
        Task, verbose_name=_("task"), on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    body = models.TextField(_("comment"))

    # A comment is visible exactly when its task is.
    visibility_path = "task"

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("task comment")
        verbose_name_plural = _("task comments")
        indexes = [models.Index(fields=["task", "created_at"], name="task_comment_task_idx")]

    def __str__(self) -> str:
        return f"{self.task} · {self.author}"


# Chat --------------------------------------------------------------------------------------------


class ChatRoom(TimeStampedModel):
    """Where messages are posted. Who may read a room depends on its kind:
    - team: the team's members and manager;
    - direct and group: the users with a membership row;
    - record: whoever may see the record (a customer, deal or ticket) under the visibility rule.
    """

    class Kind(models.TextChoices):
        TEAM = "team", _("Team")
        DIRECT = "direct", _("Direct message")
        GROUP = "group", _("Private group")
        RECORD = "record", _("Record discussion")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=120, blank=True)
    team = models.OneToOneField(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="chat_room",
    )
    related_type = models.ForeignKey(
        ContentType,
        verbose_name=_("record type"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    related_id = models.PositiveBigIntegerField(_("record id"), null=True, blank=True)
    related_record = GenericForeignKey("related_type", "related_id")
    # "<smaller user id>:<larger user id>", so two users have one direct room however it is opened.
    direct_key = models.CharField(_("direct key"), max_length=41, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    last_message_at = models.DateTimeField(_("last message at"), null=True, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("members"),
        through="ChatMembership",
        related_name="chat_rooms",
        blank=True,
    )

    class Meta:
        ordering = ["-last_message_at", "-id"]
        verbose_name = _("chat room")
        verbose_name_plural = _("chat rooms")
        constraints = [
            models.UniqueConstraint(
                fields=["related_type", "related_id"],
                condition=Q(kind="record"),
                name="chat_room_record_unique",
            ),
            models.UniqueConstraint(
                fields=["direct_key"], condition=Q(kind="direct"), name="chat_room_direct_unique"
            ),
            models.CheckConstraint(
                condition=~Q(kind="team") | Q(team__isnull=False),
                name="chat_room_team_has_team",
            ),
            models.CheckConstraint(
                condition=~Q(kind="record")
                | Q(related_type__isnull=False, related_id__isnull=False),
                name="chat_room_record_has_record",
            ),
            models.CheckConstraint(
                condition=~Q(kind="direct") | Q(direct_key__isnull=False),
                name="chat_room_direct_has_key",
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "-last_message_at"], name="chat_room_kind_idx"),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.get_kind_display()} #{self.pk}"


class ChatMembership(models.Model):
    """A user's place in a room: the membership itself for direct and group rooms, and for every
    kind the read position that unread counts start from."""

    room = models.ForeignKey(
        ChatRoom, verbose_name=_("room"), on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="chat_memberships",
    )
    last_read_message_id = models.PositiveBigIntegerField(_("last read message"), default=0)
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)

    class Meta:
        ordering = ["room", "user"]
        verbose_name = _("chat membership")
        verbose_name_plural = _("chat memberships")
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="chat_membership_unique"),
        ]
        indexes = [models.Index(fields=["user", "room"], name="chat_membership_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} in {self.room}"


class ChatMessage(models.Model):
    room = models.ForeignKey(
        ChatRoom, verbose_name=_("room"), on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="chat_messages",
    )
    body = models.TextField(_("message"), blank=True)
    # The sender's own id for the message, so a retried send (after a dropped connection or
    # through the HTTP fallback) is stored once.
    client_id = models.CharField(_("client id"), max_length=64, blank=True)
    mentioned_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("mentioned users"),
        related_name="chat_mentions",
        blank=True,
    )
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    edited_at = models.DateTimeField(_("edited at"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_id"],
                condition=~Q(client_id=""),
                name="chat_message_client_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["room", "id"], name="chat_message_room_idx"),
            models.Index(fields=["author", "created_at"], name="chat_message_author_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.author}: {self.body[:40]}"


# Files -------------------------------------------------------------------------------------------


def attachment_upload_to(attachment: "Attachment", filename: str) -> str:
    # The stored name is random: the original name is kept in `name`, and nothing can be guessed.
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class Attachment(TimeStampedModel):
    """A file on any record (customer, deal, ticket, task, chat message), downloaded only through
    a view that checks the record's visibility."""

    related_type = models.ForeignKey(
        ContentType, verbose_name=_("record type"), on_delete=models.CASCADE, related_name="+"
    )
    related_id = models.PositiveBigIntegerField(_("record id"))
    related_record = GenericForeignKey("related_type", "related_id")
    file = models.FileField(_("file"), upload_to=attachment_upload_to, max_length=200)
    name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    content_type = models.CharField(_("content type"), max_length=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )

    history = audited_history()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        indexes = [
            models.Index(
                fields=["related_type", "related_id", "-created_at"], name="attachment_record_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.name


# Calendar ----------------------------------------------------------------------------------------


class Event(TimeStampedModel):
    """A meeting, call or other appointment on the shared calendar."""

    class Kind(models.TextChoices):
        MEETING = "meeting", _("Meeting")
        CALL = "call", _("Call")
        OTHER = "other", _("Other")

    # The organiser is whose event it is, so the visibility rule reads it as the owner; attendees
    # see it too.
    visibility_owner_field = "organizer"
    visibility_participants = "attendees__user"

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.MEETING)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    all_day = models.BooleanField(_("all day"), default=False)
    location = models.CharField(_("location"), max_length=200, blank=True)
    video_url = models.URLField(_("video link"), max_length=500, blank=True)
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("organiser"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="organized_events",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
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
    remind_minutes_before = models.PositiveIntegerField(
        _("remind minutes before"), default=15, help_text=_("0 for no reminder")
    )
    reminded_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # Set once the meeting has taken place and been logged as an interaction of its customers.
    logged_at = models.DateTimeField(_("logged on the timeline at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    history = audited_history()

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [
            models.Index(fields=["organizer", "starts_at"], name="event_organizer_idx"),
            models.Index(fields=["team", "starts_at"], name="event_team_idx"),
            models.Index(fields=["starts_at"], name="event_starts_idx"),
            models.Index(fields=["related_type", "related_id"], name="event_related_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gte=F("starts_at")), name="event_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(related_type__isnull=True, related_id__isnull=True)
                | Q(related_type__isnull=False, related_id__isnull=False),
                name="event_related_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class EventAttendee(models.Model):
    """A user invited to an event, with their answer."""

    class Response(models.TextChoices):
        PENDING = "pending", _("Not answered")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        TENTATIVE = "tentative", _("Maybe")

    event = models.ForeignKey(
        Event, verbose_name=_("event"), on_delete=models.CASCADE, related_name="attendees"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="event_attendances",
    )
    response = models.CharField(
        _("response"), max_length=10, choices=Response.choices, default=Response.PENDING
    )

    class Meta:
        ordering = ["event", "user"]
        verbose_name = _("attendee")
        verbose_name_plural = _("attendees")
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="event_attendee_unique"),
        ]
        indexes = [models.Index(fields=["user", "event"], name="event_attendee_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.event}"


class EventGuest(models.Model):
    """A customer invited to an event, named generically so this app needs no customer model; the
    name and email are kept as they were when invited."""

    event = models.ForeignKey(
        Event, verbose_name=_("event"), on_delete=models.CASCADE, related_name="guests"
    )
    guest_type = models.ForeignKey(
        ContentType, verbose_name=_("guest record type"), on_delete=models.CASCADE, related_name="+"
    )
    guest_id = models.PositiveBigIntegerField(_("guest record id"))
    guest = GenericForeignKey("guest_type", "guest_id")
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), blank=True)

    class Meta:
        ordering = ["event", "name"]
        verbose_name = _("guest")
        verbose_name_plural = _("guests")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "guest_type", "guest_id"], name="event_guest_unique"
            ),
        ]
        indexes = [models.Index(fields=["guest_type", "guest_id"], name="event_guest_record_idx")]

    def __str__(self) -> str:
        return f"{self.name} · {self.event}"


class CalendarFeed(TimeStampedModel):
    """A user's private iCalendar feed. Only a hash of the token is kept; revoking deletes the row,
    and a new feed gets a new token."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="calendar_feed",
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["user"]
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return str(self.user)
