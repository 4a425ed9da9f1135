import uuid
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.audit.history import audited_history
from crm.encryption import EncryptedTextField
from crm.sort_keys import datetime_nulls_last
from crm.timestamps import TimeStampedModel


class Tag(TimeStampedModel):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class Company(TimeStampedModel):
    class Size(models.TextChoices):
        MICRO = "1-9", _("1–9 employees")
        SMALL = "10-49", _("10–49 employees")
        MEDIUM = "50-249", _("50–249 employees")
        LARGE = "250+", _("250 or more employees")

    name = models.CharField(_("name"), max_length=200)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    size = models.CharField(_("size"), max_length=10, choices=Size.choices, blank=True)
    website = models.URLField(_("website"), blank=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    province = models.CharField(_("province/state"), max_length=100, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("ISO code"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_companies",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="companies",
    )

    history = audited_history()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        indexes = [
            models.Index(fields=["name", "id"], name="company_name_idx"),
            models.Index(fields=["city"], name="company_city_idx"),
            models.Index(fields=["industry"], name="company_industry_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Customer(TimeStampedModel):
    class Gender(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")
        UNKNOWN = "", _("Unknown")

    class Status(models.TextChoices):
        LEAD = "lead", _("Lead")
        PROSPECT = "prospect", _("Prospect")
        CUSTOMER = "customer", _("Customer")
        CHURNED = "churned", _("Churned")

    class Tier(models.TextChoices):
        NORMAL = "normal", _("Normal")
        VIP = "vip", _("VIP")
        PREMIUM = "premium", _("Premium")

    class Source(models.TextChoices):
        WEBSITE = "website", _("Website")
        REFERRAL = "referral", _("Referral")
        EVENT = "event", _("Event")
        ADVERTISING = "advertising", _("Advertising")
        COLD_CALL = "cold_call", _("Cold call")
        SOCIAL = "social", _("Social media")
        PARTNER = "partner", _("Partner")
        IMPORT = "import", _("Import")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200)
    gender = models.CharField(
        _("gender"), max_length=10, choices=Gender.choices, blank=True, default=""
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True, help_text=_("E.164"))
    street = models.CharField(_("street"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    province = models.CharField(_("province/state"), max_length=100, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("ISO code"))
    annual_income = models.DecimalField(
        _("annual income"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    income_currency = models.CharField(_("income currency"), max_length=3, blank=True)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customers",
    )
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    status = models.CharField(
        _("lifecycle status"), max_length=10, choices=Status.choices, default=Status.LEAD
    )
    tier = models.CharField(
        _("service tier"), max_length=10, choices=Tier.choices, default=Tier.NORMAL
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_customers",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customers",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    language = models.CharField(
        _("preferred language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        default="",
        db_default="",
        help_text=_("For messages sent to the customer; blank means the site's default."),
    )
    marketing_consent = models.BooleanField(_("marketing consent"), default=False)
    marketing_consent_at = models.DateTimeField(_("consent given at"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    identity_number = EncryptedTextField(
        _("identity number"),
        blank=True,
        default="",
        db_default="",
        help_text=_("National ID or passport number; encrypted at rest."),
    )
    private_notes = EncryptedTextField(
        _("private notes"),
        blank=True,
        default="",
        db_default="",
        help_text=_("Encrypted at rest and hidden from the roles an admin chooses."),
    )
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    custom_attributes = models.JSONField(_("custom attributes"), default=dict, blank=True)
    # Kept in step by the order and interaction services so lists can filter and sort on them
    # in SQL at a million rows; total_spend is in the default currency.
    order_count = models.PositiveIntegerField(_("orders"), default=0, db_default=0)
    total_spend = models.DecimalField(
        _("total spend"),
        max_digits=16,
        decimal_places=2,
        default=Decimal("0"),
        db_default=Decimal("0"),
    )
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)

    history = audited_history(excluded_fields=["order_count", "total_spend", "last_contact_at"])

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [
            ("import_customer", _("Can import customers from CSV")),
            ("export_customer", _("Can export customer lists")),
            ("merge_customer", _("Can merge duplicate customers")),
            ("privacy_export_customer", _("Can export all personal data of a customer")),
            ("privacy_erase_customer", _("Can erase the personal data of a customer")),
            ("see_all_customer", _("Can see every customer, whoever owns them")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="customer_external_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(marketing_consent=False) | Q(marketing_consent_at__isnull=False),
                name="customer_consent_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["name", "id"], name="customer_name_idx"),
            models.Index(fields=["email"], name="customer_email_idx"),
            models.Index(fields=["phone"], name="customer_phone_idx"),
            models.Index(fields=["status", "name"], name="customer_status_idx"),
            models.Index(fields=["tier", "name"], name="customer_tier_idx"),
            models.Index(fields=["city"], name="customer_city_idx"),
            models.Index(fields=["birthday"], name="customer_birthday_idx"),
            models.Index(fields=["-created_at", "id"], name="customer_created_idx"),
            models.Index(fields=["total_spend", "id"], name="customer_spend_idx"),
            models.Index(fields=["last_contact_at", "id"], name="customer_contact_idx"),
            # The lists' and the API's sort by last contact, never-contacted last both ways.
            models.Index(
                datetime_nulls_last("last_contact_at", descending=False),
                "id",
                name="customer_contact_key_asc_idx",
            ),
            models.Index(
                datetime_nulls_last("last_contact_at", descending=True),
                "id",
                name="customer_contact_key_desc_idx",
            ),
            models.Index(fields=["owner", "name", "id"], name="customer_owner_name_idx"),
            models.Index(fields=["team", "name", "id"], name="customer_team_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def age(self) -> int | None:
        if self.birthday is None:
            return None
        today = date.today()
        had_birthday = (today.month, today.day) >= (self.birthday.month, self.birthday.day)
        return today.year - self.birthday.year - (0 if had_birthday else 1)


class Product(TimeStampedModel):
    """The small catalogue shared by orders here and deal line items in sales."""

    sku = models.CharField(_("SKU"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=100, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    is_active = models.BooleanField(_("active"), default=True)

    history = audited_history()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="product_price_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class Order(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PAID = "paid", _("Paid")
        SHIPPED = "shipped", _("Shipped")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")

    visibility_path = "customer"

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="orders"
    )
    number = models.CharField(_("number"), max_length=50, unique=True)
    ordered_at = models.DateTimeField(_("ordered at"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    total_amount = models.DecimalField(_("total"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    notes = models.TextField(_("notes"), blank=True)

    history = audited_history()

    class Meta:
        ordering = ["-ordered_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["customer", "-ordered_at"], name="order_customer_date_idx"),
            models.Index(fields=["-ordered_at", "-id"], name="order_date_idx"),
            models.Index(fields=["status"], name="order_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_amount__gte=0), name="order_total_not_negative"
            )
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    visibility_path = "order__customer"

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="order_lines"
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="order_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="order_line_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class Need(TimeStampedModel):
    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        MET = "met", _("Met")
        DROPPED = "dropped", _("Dropped")

    visibility_path = "customer"

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="needs"
    )
    text = models.TextField(_("what they need"))
    category = models.CharField(_("category"), max_length=100, blank=True)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    history = audited_history()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        indexes = [
            models.Index(fields=["customer", "status"], name="need_customer_status_idx"),
            models.Index(fields=["status", "priority"], name="need_status_priority_idx"),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class Interaction(TimeStampedModel):
    class Channel(models.TextChoices):
        CALL = "call", _("Phone call")
        EMAIL = "email", _("Email")
        CHAT = "chat", _("Chat")
        MEETING = "meeting", _("Meeting")
        SOCIAL = "social", _("Social media")
        SMS = "sms", _("SMS")
        WECHAT = "wechat", _("WeChat")
        WEB_FORM = "web_form", _("Web form")

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    class Outcome(models.TextChoices):
        COMPLETED = "completed", _("Completed")
        NO_ANSWER = "no_answer", _("No answer")
        FOLLOW_UP = "follow_up", _("Follow-up needed")
        POSITIVE = "positive", _("Positive")
        NEGATIVE = "negative", _("Negative")

    visibility_path = "customer"

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="interactions"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interactions",
    )
    occurred_at = models.DateTimeField(_("when"))
    # The deal or ticket this contact belongs to; generic because those apps build on this one.
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

    history = audited_history()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="interaction_customer_idx"),
            models.Index(fields=["-occurred_at", "-id"], name="interaction_date_idx"),
            models.Index(fields=["related_type", "related_id"], name="interaction_related_idx"),
            models.Index(fields=["handled_by", "-occurred_at"], name="interaction_handler_idx"),
        ]

    def __str__(self) -> str:
        return self.subject or self.get_channel_display()


class Relationship(TimeStampedModel):
    class Kind(models.TextChoices):
        REFERRED_BY = "referred_by", _("Referred by")
        COLLEAGUE = "colleague", _("Colleague")
        FAMILY = "family", _("Family")
        PARTNER = "partner", _("Partner")

    visibility_path = "from_customer"

    from_customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="relationships_from",
    )
    to_customer = models.ForeignKey(
        Customer,
        verbose_name=_("related customer"),
        on_delete=models.CASCADE,
        related_name="relationships_to",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    strength = models.PositiveSmallIntegerField(
        _("strength"), default=3, help_text=_("1 (weak) to 5 (strong)")
    )
    notes = models.TextField(_("notes"), blank=True)

    history = audited_history()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("relationship")
        verbose_name_plural = _("relationships")
        constraints = [
            models.UniqueConstraint(
                fields=["from_customer", "to_customer", "kind"], name="relationship_unique"
            ),
            models.CheckConstraint(
                condition=~Q(from_customer=models.F("to_customer")),
                name="relationship_not_to_self",
            ),
            models.CheckConstraint(
                condition=Q(strength__gte=1) & Q(strength__lte=5), name="relationship_strength_1_5"
            ),
        ]
        indexes = [models.Index(fields=["to_customer", "kind"], name="relationship_to_idx")]

    def __str__(self) -> str:
        return f"{self.from_customer_id} {self.kind} {self.to_customer_id}"


class Segment(TimeStampedModel):
    """A named, saved customer filter; membership is recomputed every time it is used."""

    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="segments",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("shared with team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="segments",
    )

    history = audited_history()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        indexes = [models.Index(fields=["owner", "name"], name="segment_owner_idx")]

    def __str__(self) -> str:
        return self.name


class ImportJob(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customer_imports",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    total_rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    merged_count = models.PositiveIntegerField(_("merged"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejected"), default=0)
    error = models.TextField(_("error"), blank=True)
    report = models.FileField(_("report"), upload_to="imports/reports/%Y/%m/", blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("customer import")
        verbose_name_plural = _("customer imports")
        indexes = [models.Index(fields=["owner", "-created_at"], name="import_owner_idx")]

    def __str__(self) -> str:
        return self.original_name

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == self.Status.COMPLETED else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))


class CustomerMerge(TimeStampedModel):
    """The record of one merge: which customer was folded into which, by whom, and what it held."""

    kept = models.ForeignKey(
        Customer,
        verbose_name=_("kept customer"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="merges",
    )
    merged_customer_id = models.PositiveBigIntegerField(_("merged customer id"))
    merged_snapshot = models.JSONField(_("merged customer's data"), default=dict)
    moved_rows = models.JSONField(_("rows moved"), default=dict)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("merged by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")

    def __str__(self) -> str:
        return f"#{self.merged_customer_id} → #{self.kept_id}"


class PrivacyRequest(TimeStampedModel):
    """The audit entry of a data export or an erasure carried out for one customer."""

    visibility_path = "customer"

    class Kind(models.TextChoices):
        EXPORT = "export", _("Export of personal data")
        ERASURE = "erasure", _("Erasure")

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="privacy_requests",
    )
    customer_reference = models.CharField(_("customer reference"), max_length=50)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("carried out by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("privacy request")
        verbose_name_plural = _("privacy requests")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.customer_reference}"


def export_file_path(job: "ExportJob", filename: str) -> str:
    # A random name: the file is only ever sent through the download view, to its requester,
    # and must not be guessable should the media folder be served.
    return f"customer-exports/{job.created_at:%Y/%m}/{uuid.uuid4().hex}-{filename}"


class ExportJob(TimeStampedModel):
    """A customer list written to a file by a worker, for the person who asked for it."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Format(models.TextChoices):
        CSV = "csv", _("CSV")
        XLSX = "xlsx", _("Excel")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.CASCADE,
        related_name="customer_exports",
    )
    file_format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    ordering = models.CharField(_("ordering"), max_length=30, blank=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        help_text=_("The language the file's headings and labels are written in."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    rows_total = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    file = models.FileField(_("file"), upload_to=export_file_path, blank=True)
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("customer export")
        verbose_name_plural = _("customer exports")
        indexes = [
            models.Index(fields=["requested_by", "-created_at", "-id"], name="export_requester_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="export_progress_at_most_100"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_file_format_display()} #{self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
