from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.audit.history import audited_history
from crm.timestamps import TimeStampedModel
from customers.models import Customer


class BusinessCalendar(TimeStampedModel):
    """The hours SLA clocks run: working weekdays between a start and an end time, in a time
    zone, minus holidays."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    # ISO weekdays, 1 = Monday … 7 = Sunday.
    working_days = models.JSONField(_("working days"), default=list)
    day_starts_at = models.TimeField(_("day starts at"), default=time(9, 0))
    day_ends_at = models.TimeField(_("day ends at"), default=time(18, 0))
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="calendar_one_default"
            ),
            models.CheckConstraint(
                condition=Q(day_ends_at__gt=models.F("day_starts_at")),
                name="calendar_day_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Holiday(models.Model):
    calendar = models.ForeignKey(
        BusinessCalendar,
        verbose_name=_("calendar"),
        on_delete=models.CASCADE,
        related_name="holidays",
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="holiday_unique_date")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class TicketCategory(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    history = audited_history()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("ticket category")
        verbose_name_plural = _("ticket categories")

    def __str__(self) -> str:
        return self.name


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class SlaPolicy(TimeStampedModel):
    """Targets for tickets of one service tier and priority (blank matches any); the most
    specific active policy applies."""

    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    tier = models.CharField(
        _("service tier"), max_length=10, choices=Customer.Tier.choices, blank=True
    )
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices, blank=True)
    first_response_minutes = models.PositiveIntegerField(
        _("first response within (business minutes)")
    )
    resolution_minutes = models.PositiveIntegerField(_("resolution within (business minutes)"))
    warn_before_minutes = models.PositiveIntegerField(
        _("warn before breach (business minutes)"), default=60
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        verbose_name=_("business calendar"),
        on_delete=models.PROTECT,
        related_name="sla_policies",
    )
    escalate_raise_priority = models.BooleanField(_("raise priority on breach"), default=True)
    escalate_to_manager = models.BooleanField(
        _("reassign to the team manager on breach"), default=False
    )

    history = audited_history()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.UniqueConstraint(
                fields=["tier", "priority"],
                condition=Q(is_active=True),
                name="sla_one_active_per_tier_priority",
            ),
            models.CheckConstraint(
                condition=Q(resolution_minutes__gte=models.F("first_response_minutes")),
                name="sla_resolution_after_response",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Ticket(TimeStampedModel):
    class Type(models.TextChoices):
        INQUIRY = "inquiry", _("Inquiry")
        FEEDBACK = "feedback", _("Feedback")
        COMPLAINT = "complaint", _("Complaint")

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")
        CHAT = "chat", _("Chat")
        WEB_FORM = "web_form", _("Web form")
        SOCIAL = "social", _("Social media")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        PENDING = "pending", _("Pending on customer")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    Priority = Priority
    OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING)

    # The assignee is whose ticket it is, so the visibility rule reads it as the owner.
    visibility_owner_field = "assignee"

    number = models.CharField(_("number"), max_length=20, unique=True)
    type = models.CharField(_("type"), max_length=10, choices=Type.choices, default=Type.INQUIRY)
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.EMAIL
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.NEW
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="tickets"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
    )
    category = models.ForeignKey(
        TicketCategory,
        verbose_name=_("category"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
    )
    tags = models.ManyToManyField(
        "customers.Tag", verbose_name=_("tags"), blank=True, related_name="tickets"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="created_tickets",
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    # SLA: the policy that applied, the due times (pushed back by the time spent pending on the
    # customer), when they were met, and once-only markers for warnings and escalations.
    sla_policy = models.ForeignKey(
        SlaPolicy,
        verbose_name=_("SLA policy"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
    )
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first responded at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    sla_paused_at = models.DateTimeField(_("SLA paused since"), null=True, blank=True)
    sla_paused_seconds = models.PositiveIntegerField(
        _("business seconds paused"), default=0, db_default=0
    )
    # Business seconds, kept for the dashboard's percentiles in SQL.
    first_response_seconds = models.PositiveIntegerField(
        _("first response time (business seconds)"), null=True, blank=True
    )
    resolution_seconds = models.PositiveIntegerField(
        _("resolution time (business seconds)"), null=True, blank=True
    )
    first_response_breached = models.BooleanField(_("first response breached"), default=False)
    resolution_breached = models.BooleanField(_("resolution breached"), default=False)
    first_response_warned_at = models.DateTimeField(
        _("first response warning sent at"), null=True, blank=True
    )
    resolution_warned_at = models.DateTimeField(
        _("resolution warning sent at"), null=True, blank=True
    )
    first_response_escalated_at = models.DateTimeField(
        _("first response escalated at"), null=True, blank=True
    )
    resolution_escalated_at = models.DateTimeField(
        _("resolution escalated at"), null=True, blank=True
    )
    reopened_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    satisfaction_rating = models.PositiveSmallIntegerField(
        _("satisfaction rating"), null=True, blank=True
    )
    satisfaction_comment = models.TextField(_("satisfaction comment"), blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)

    history = audited_history()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["assignee", "status", "-created_at"], name="ticket_assignee_idx"),
            models.Index(fields=["team", "status", "-created_at"], name="ticket_team_idx"),
            models.Index(fields=["status", "-created_at"], name="ticket_status_idx"),
            models.Index(fields=["customer", "-created_at"], name="ticket_customer_idx"),
            models.Index(fields=["-created_at", "-id"], name="ticket_created_idx"),
            models.Index(fields=["resolution_due_at"], name="ticket_resolution_due_idx"),
            models.Index(fields=["first_response_due_at"], name="ticket_response_due_idx"),
            models.Index(fields=["resolved_at"], name="ticket_resolved_idx"),
            models.Index(fields=["category", "-created_at"], name="ticket_category_idx"),
            models.Index(fields=["channel", "-created_at"], name="ticket_channel_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction_rating__isnull=True)
                | Q(satisfaction_rating__gte=1, satisfaction_rating__lte=5),
                name="ticket_rating_1_to_5",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="ticket_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class TicketMessage(models.Model):
    """One entry of a ticket's thread: the customer writing, a public reply, or an internal note
    only the team sees."""

    class Kind(models.TextChoices):
        CUSTOMER = "customer", _("From the customer")
        REPLY = "reply", _("Public reply")
        NOTE = "note", _("Internal note")

    visibility_path = "ticket"

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="messages"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    body = models.TextField(_("text"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ticket_messages",
    )
    interaction = models.OneToOneField(
        "customers.Interaction",
        verbose_name=_("interaction"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ticket_message",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["ticket", "created_at", "id"]
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticket_message_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.get_kind_display()}"


class TicketAttachment(models.Model):
    visibility_path = "message__ticket"

    message = models.ForeignKey(
        TicketMessage,
        verbose_name=_("message"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    file = models.FileField(_("file"), upload_to="tickets/%Y/%m/")
    name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("content type"), max_length=100, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


class CannedResponse(TimeStampedModel):
    """A reusable reply; {customer_name}, {ticket_number}, {ticket_subject} and {agent_name}
    are filled in when it is used."""

    name = models.CharField(_("name"), max_length=100)
    body = models.TextField(_("text"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="canned_responses",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("shared with team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="canned_responses",
    )

    history = audited_history()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")

    def __str__(self) -> str:
        return self.name


class SatisfactionSurvey(models.Model):
    """A survey sent when a ticket was resolved; answered once, before it expires."""

    visibility_path = "ticket"

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="surveys"
    )
    # Random, and only its hash is stored: the link in the email is the secret.
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    language = models.CharField(_("language"), max_length=10, default="en")
    sent_to = models.EmailField(_("sent to"), blank=True)
    sent_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        indexes = [
            models.Index(fields=["ticket", "-sent_at"], name="survey_ticket_idx"),
            models.Index(fields=["-sent_at"], name="survey_sent_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="survey_rating_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | Q(rating__isnull=False),
                name="survey_answer_has_rating",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} @ {self.sent_at:%Y-%m-%d}"


class TicketStatusChange(models.Model):
    """Each move of a ticket between statuses, for the reopen rate and the ticket's history."""

    visibility_path = "ticket"

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(
        _("from status"), max_length=10, choices=Ticket.Status.choices, blank=True
    )
    to_status = models.CharField(_("to status"), max_length=10, choices=Ticket.Status.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("changed at"))

    class Meta:
        ordering = ["ticket", "changed_at", "id"]
        verbose_name = _("ticket status change")
        verbose_name_plural = _("ticket status changes")
        indexes = [
            models.Index(fields=["ticket", "changed_at"], name="ticket_status_change_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.from_status} → {self.to_status}"
