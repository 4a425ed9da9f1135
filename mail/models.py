"""Email the CRM sends and receives, the templates it is written from, the mailboxes it reads,
what it could not take in, and the addresses it must no longer write to."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.encryption import EncryptedTextField
from crm.timestamps import TimeStampedModel


class EmailTemplate(TimeStampedModel):
    """A subject and body with placeholders (`{{ customer.first_name }}`), in one language. The
    versions of one template in several languages share its name."""

    class Context(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        DEAL = "deal", _("Deal")
        TICKET = "ticket", _("Ticket")
        CAMPAIGN = "campaign", _("Campaign")

    name = models.CharField(_("name"), max_length=100)
    context = models.CharField(
        _("used from"), max_length=10, choices=Context.choices, default=Context.CUSTOMER
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))
    is_active = models.BooleanField(_("active"), default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="email_templates",
    )

    class Meta:
        ordering = ["name", "language"]
        verbose_name = _("email template")
        verbose_name_plural = _("email templates")
        constraints = [
            models.UniqueConstraint(
                fields=["name", "language"], name="email_template_name_language_unique"
            )
        ]
        indexes = [
            models.Index(fields=["context", "is_active", "name"], name="email_template_context_idx")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class EmailSignature(models.Model):
    """What a user's outgoing mail ends with."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="email_signature",
    )
    body = models.TextField(_("signature"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("email signature")
        verbose_name_plural = _("email signatures")

    def __str__(self) -> str:
        return str(self.user)


class Mailbox(TimeStampedModel):
    """An address the CRM reads: by IMAP polling when a host is set, and by a provider's
    inbound webhook for mail addressed to it. Mail to a support mailbox that belongs to no
    ticket opens one."""

    class Purpose(models.TextChoices):
        SUPPORT = "support", _("Support: new mail opens a ticket")
        SALES = "sales", _("Sales: mail goes to the customer's timeline")

    class Security(models.TextChoices):
        SSL = "ssl", _("SSL/TLS")
        STARTTLS = "starttls", _("STARTTLS")
        NONE = "none", _("None (loopback only)")

    name = models.CharField(_("name"), max_length=100)
    address = models.EmailField(_("address"), unique=True)
    purpose = models.CharField(
        _("purpose"), max_length=10, choices=Purpose.choices, default=Purpose.SUPPORT
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="mailboxes",
        help_text=_("Tickets opened from this mailbox wait in this team's queue."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    imap_host = models.CharField(_("IMAP host"), max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_security = models.CharField(
        _("IMAP security"), max_length=10, choices=Security.choices, default=Security.SSL
    )
    imap_username = models.CharField(_("IMAP user name"), max_length=255, blank=True)
    imap_password = EncryptedTextField(_("IMAP password"), blank=True, default="")
    imap_folder = models.CharField(_("IMAP folder"), max_length=255, default="INBOX")
    # Where polling stands: the folder's UIDVALIDITY and the highest UID taken in under it.
    imap_uidvalidity = models.PositiveBigIntegerField(_("UIDVALIDITY"), null=True, blank=True)
    imap_last_uid = models.PositiveBigIntegerField(_("last UID taken in"), default=0)
    last_polled_at = models.DateTimeField(_("last polled at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        indexes = [models.Index(fields=["is_active", "purpose"], name="mailbox_active_idx")]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"


class EmailMessage(TimeStampedModel):
    """One email, sent or received. Sent mail is queued and delivered by a Celery task; received
    mail is stored once per Message-ID whichever way it came in."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Received")
        OUTBOUND = "outbound", _("Sent")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        RECEIVED = "received", _("Received")
        BOUNCED = "bounced", _("Bounced")

    class Kind(models.TextChoices):
        PERSONAL = "personal", _("One to one")
        CAMPAIGN = "campaign", _("Campaign")

    visibility_path = "customer"

    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSONAL)
    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    in_reply_to = models.CharField(_("In-Reply-To"), max_length=255, blank=True)
    references = models.TextField(_("References"), blank=True)
    from_address = models.CharField(_("from"), max_length=320)
    from_name = models.CharField(_("sender name"), max_length=200, blank=True)
    to_addresses = models.JSONField(_("to"), default=list)
    cc_addresses = models.JSONField(_("cc"), default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body_text = models.TextField(_("text"), blank=True)
    body_html = models.TextField(_("HTML"), blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="emails",
    )
    # The deal, ticket or campaign mailing this mail belongs to; generic because those apps
    # build on this one.
    related_type = models.ForeignKey(
        ContentType,
        verbose_name=_("related record type"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    related_id = models.PositiveBigIntegerField(_("related record id"), null=True, blank=True)
    related_record = GenericForeignKey("related_type", "related_id")
    interaction = models.OneToOneField(
        "customers.Interaction",
        verbose_name=_("interaction"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="email",
    )
    mailbox = models.ForeignKey(
        Mailbox,
        verbose_name=_("mailbox"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
    )
    template = models.ForeignKey(
        EmailTemplate,
        verbose_name=_("template"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="emails_sent",
    )
    source = models.CharField(_("came in through"), max_length=40, blank=True)
    tracking = models.BooleanField(_("opens and clicks tracked"), default=False)
    attempts = models.PositiveSmallIntegerField(_("delivery attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    opened_at = models.DateTimeField(_("first opened at"), null=True, blank=True)
    open_count = models.PositiveIntegerField(_("opens"), default=0)
    clicked_at = models.DateTimeField(_("first clicked at"), null=True, blank=True)
    click_count = models.PositiveIntegerField(_("clicks"), default=0)
    bounced_at = models.DateTimeField(_("bounced at"), null=True, blank=True)
    # Attachments the upload checks refused, with why: the mail is kept, they are not.
    refused_attachments = models.JSONField(_("refused attachments"), default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("email")
        verbose_name_plural = _("emails")
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="email_customer_idx"),
            models.Index(fields=["related_type", "related_id"], name="email_related_idx"),
            models.Index(fields=["direction", "status", "-created_at"], name="email_status_idx"),
            models.Index(fields=["mailbox", "-created_at"], name="email_mailbox_idx"),
            models.Index(fields=["sent_by", "-created_at"], name="email_sender_idx"),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="queued"),
                name="email_queued_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.subject or self.message_id


class EmailAttachment(models.Model):
    visibility_path = "message__customer"

    message = models.ForeignKey(
        EmailMessage,
        verbose_name=_("email"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    file = models.FileField(_("file"), upload_to="mail/%Y/%m/")
    name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("content type"), max_length=100, blank=True)

    class Meta:
        ordering = ["message", "id"]
        verbose_name = _("email attachment")
        verbose_name_plural = _("email attachments")

    def __str__(self) -> str:
        return self.name


class InboundSetAside(models.Model):
    """A received message the CRM could not take in, kept with the reason so nothing is lost:
    an administrator can read it, download it whole, and try it again."""

    class Reason(models.TextChoices):
        MALFORMED = "malformed", _("Malformed")
        OVERSIZED = "oversized", _("Too large")
        NO_SENDER = "no_sender", _("No sender address")
        FAILED = "failed", _("Could not be processed")

    mailbox = models.ForeignKey(
        Mailbox,
        verbose_name=_("mailbox"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="set_aside",
    )
    source = models.CharField(_("came in through"), max_length=40)
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    detail = models.TextField(_("detail"), blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    from_address = models.CharField(_("from"), max_length=320, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"))
    raw = models.FileField(_("raw message"), upload_to="mail/set-aside/%Y/%m/")
    received_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("set-aside message")
        verbose_name_plural = _("set-aside messages")
        indexes = [
            models.Index(
                fields=["-received_at"],
                condition=Q(resolved_at__isnull=True),
                name="set_aside_open_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: {self.subject or self.message_id}"


class SuppressedAddress(TimeStampedModel):
    """An address mail must no longer go to, as the provider reported: it bounced for good, or
    its owner marked our mail as spam. Campaign mail skips it; one-to-one mail warns."""

    class Reason(models.TextChoices):
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Marked as spam")
        REJECTED = "rejected", _("Rejected by the provider")

    address = models.EmailField(_("address"), unique=True)
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    detail = models.TextField(_("detail"), blank=True)
    provider = models.CharField(_("reported by"), max_length=40, blank=True)
    event_id = models.CharField(_("provider event id"), max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")

    def __str__(self) -> str:
        return self.address
