from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.audit.history import audited_history
from crm.timestamps import TimeStampedModel
from customers.models import Customer


class Pipeline(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_default = models.BooleanField(_("default"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    history = audited_history()

    class Meta:
        ordering = ["position", "name", "id"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="pipeline_one_default"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Stage(TimeStampedModel):
    class Kind(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages"
    )
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices, default=Kind.OPEN)
    probability = models.PositiveSmallIntegerField(
        _("win probability (%)"), default=10, help_text=_("0 to 100")
    )
    stale_after_days = models.PositiveSmallIntegerField(
        _("stale after (days)"),
        null=True,
        blank=True,
        help_text=_("A deal that stays longer in this stage is flagged and its owner notified."),
    )

    class Meta:
        ordering = ["pipeline", "position", "id"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_name_unique"),
            models.CheckConstraint(
                condition=Q(probability__lte=100), name="stage_probability_at_most_100"
            ),
            models.CheckConstraint(
                condition=~Q(kind="won") | Q(probability=100), name="stage_won_is_certain"
            ),
            models.CheckConstraint(
                condition=~Q(kind="lost") | Q(probability=0), name="stage_lost_is_zero"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline.name} / {self.name}"

    @property
    def is_closed(self) -> bool:
        return self.kind != self.Kind.OPEN


class Campaign(TimeStampedModel):
    class Type(models.TextChoices):
        EMAIL = "email", _("Email")
        EVENT = "event", _("Event")
        SOCIAL = "social", _("Social")
        ADS = "ads", _("Advertising")
        REFERRAL = "referral", _("Referral")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    name = models.CharField(_("name"), max_length=200)
    type = models.CharField(_("type"), max_length=10, choices=Type.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    description = models.TextField(_("description"), blank=True)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    budget = models.DecimalField(_("budget"), max_digits=14, decimal_places=2, default=Decimal("0"))
    actual_cost = models.DecimalField(
        _("actual cost"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    currency = models.CharField(_("currency"), max_length=3)
    segment = models.ForeignKey(
        "customers.Segment",
        verbose_name=_("target segment"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="campaigns",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_campaigns",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="campaigns",
    )

    history = audited_history()

    class Meta:
        ordering = ["-start_date", "name", "id"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        indexes = [
            models.Index(fields=["status", "-start_date"], name="campaign_status_idx"),
            models.Index(fields=["type", "-start_date"], name="campaign_type_idx"),
            models.Index(fields=["owner", "-start_date"], name="campaign_owner_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(budget__gte=0) & Q(actual_cost__gte=0),
                name="campaign_money_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="campaign_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignMember(TimeStampedModel):
    class Response(models.TextChoices):
        SENT = "sent", _("Sent")
        OPENED = "opened", _("Opened")
        RESPONDED = "responded", _("Responded")
        CONVERTED = "converted", _("Converted")

    visibility_path = "campaign"

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="members"
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="campaign_memberships",
    )
    response = models.CharField(
        _("response"), max_length=10, choices=Response.choices, default=Response.SENT
    )
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)

    class Meta:
        ordering = ["campaign", "id"]
        verbose_name = _("campaign member")
        verbose_name_plural = _("campaign members")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="campaign_member_unique")
        ]
        indexes = [
            models.Index(fields=["campaign", "response"], name="campaign_member_response_idx"),
            # First campaign touch of a customer, for attribution.
            models.Index(fields=["customer", "created_at"], name="campaign_member_touch_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} / {self.customer_id}"


class CampaignMailing(TimeStampedModel):
    """One sending of an email campaign to its members, batch by batch in Celery. Each member
    with marketing consent and a deliverable address gets one email, written from the template
    in their language; the counts say how far it has got."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    visibility_path = "campaign"

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="mailings"
    )
    # The template's name: each recipient gets its version in their language, or the
    # site's default language when it has none in theirs.
    template_name = models.CharField(_("template"), max_length=100)
    tracking = models.BooleanField(
        _("track opens and clicks"),
        default=True,
        help_text=_("Adds an invisible image and rewrites links to count opens and clicks."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    total = models.PositiveIntegerField(_("members"), default=0)
    sent_count = models.PositiveIntegerField(_("sent"), default=0)
    skipped_count = models.PositiveIntegerField(_("skipped"), default=0)
    failed_count = models.PositiveIntegerField(_("failed"), default=0)
    # The highest member id handled, so a batch run again carries on after it.
    last_member_id = models.PositiveBigIntegerField(_("last member handled"), default=0)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("campaign mailing")
        verbose_name_plural = _("campaign mailings")
        indexes = [
            models.Index(fields=["campaign", "-created_at"], name="campaign_mailing_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} / {self.template_name}"


class AssignmentRule(TimeStampedModel):
    """Who gets a new lead or deal: the first active rule (by position) that matches wins."""

    class AppliesTo(models.TextChoices):
        LEADS = "leads", _("New leads")
        DEALS = "deals", _("New deals")
        BOTH = "both", _("Leads and deals")

    class Match(models.TextChoices):
        ANY = "any", _("Every record")
        CITY = "city", _("City is one of")
        PROVINCE = "province", _("Province is one of")
        SOURCE = "source", _("Source is one of")

    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round_robin", _("Round robin within the team")
        FIXED = "fixed", _("Always the same owner")

    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    applies_to = models.CharField(
        _("applies to"), max_length=5, choices=AppliesTo.choices, default=AppliesTo.BOTH
    )
    match = models.CharField(_("match"), max_length=10, choices=Match.choices, default=Match.ANY)
    match_values = models.CharField(
        _("values"),
        max_length=500,
        blank=True,
        help_text=_("Comma-separated; compared without regard to case."),
    )
    strategy = models.CharField(
        _("strategy"), max_length=12, choices=Strategy.choices, default=Strategy.ROUND_ROBIN
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="assignment_rules",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assignment_rules",
        help_text=_("For the fixed strategy: who always gets the record."),
    )
    fallback_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("fallback owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="fallback_assignment_rules",
        help_text=_("Gets the record when nobody in the team is available."),
    )
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last assigned"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    history = audited_history()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        constraints = [
            models.CheckConstraint(
                condition=~Q(strategy="round_robin") | Q(team__isnull=False),
                name="assignment_round_robin_has_team",
            ),
            models.CheckConstraint(
                condition=~Q(strategy="fixed") | Q(owner__isnull=False),
                name="assignment_fixed_has_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Assignment(models.Model):
    """Which rule gave which record (a lead or a deal) to whom, and when."""

    content_type = models.ForeignKey(
        ContentType, verbose_name=_("record type"), on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.PositiveBigIntegerField(_("record id"))
    record = GenericForeignKey("content_type", "object_id")
    rule = models.ForeignKey(
        AssignmentRule,
        verbose_name=_("rule"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assignments",
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)

    class Meta:
        ordering = ["-assigned_at", "-id"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="assignment_record_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.content_type_id}:{self.object_id} → {self.assigned_to_id}"


class Deal(TimeStampedModel):
    class LostReason(models.TextChoices):
        PRICE = "price", _("Price")
        COMPETITOR = "competitor", _("Went with a competitor")
        NO_BUDGET = "no_budget", _("No budget")
        NO_DECISION = "no_decision", _("No decision")
        TIMING = "timing", _("Bad timing")
        PRODUCT_FIT = "product_fit", _("Product does not fit")
        UNRESPONSIVE = "unresponsive", _("Stopped responding")
        OTHER = "other", _("Other")

    class ForecastCategory(models.TextChoices):
        PIPELINE = "pipeline", _("Pipeline")
        BEST_CASE = "best_case", _("Best case")
        COMMIT = "commit", _("Commit")
        OMITTED = "omitted", _("Omitted")

    name = models.CharField(_("name"), max_length=200)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="deals"
    )
    company = models.ForeignKey(
        "customers.Company",
        verbose_name=_("company"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deals",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_deals",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deals",
    )
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="deals"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals"
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(_("currency"), max_length=3)
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    source = models.CharField(
        _("source"), max_length=20, choices=Customer.Source.choices, blank=True
    )
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deals",
    )
    lost_reason = models.CharField(
        _("lost reason"), max_length=15, choices=LostReason.choices, blank=True
    )
    lost_note = models.CharField(_("lost note"), max_length=500, blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    forecast_category = models.CharField(
        _("forecast category"),
        max_length=10,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
    )
    description = models.TextField(_("description"), blank=True)
    stage_entered_at = models.DateTimeField(_("in stage since"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    stale_notified_at = models.DateTimeField(_("stale notice sent at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    history = audited_history()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        indexes = [
            # Board columns: cards of one stage, soonest close first; totals per stage.
            models.Index(
                fields=["stage", "expected_close_date", "id"], name="deal_stage_close_idx"
            ),
            models.Index(fields=["pipeline", "stage", "amount"], name="deal_pipeline_stage_idx"),
            models.Index(fields=["owner", "stage"], name="deal_owner_stage_idx"),
            models.Index(fields=["team", "stage"], name="deal_team_stage_idx"),
            models.Index(fields=["expected_close_date", "id"], name="deal_close_date_idx"),
            models.Index(fields=["closed_at"], name="deal_closed_at_idx"),
            models.Index(fields=["customer", "-created_at"], name="deal_customer_idx"),
            models.Index(fields=["campaign"], name="deal_campaign_idx"),
            models.Index(fields=["-created_at", "-id"], name="deal_created_idx"),
            models.Index(fields=["-amount", "-id"], name="deal_amount_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="deal_amount_not_negative"),
            models.CheckConstraint(condition=Q(version__gte=1), name="deal_version_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class DealLine(models.Model):
    visibility_path = "deal"

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        "customers.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="deal_lines",
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    discount_percent = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, default=Decimal("0")
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("deal line")
        verbose_name_plural = _("deal lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="deal_line_quantity_pos"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="deal_line_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100),
                name="deal_line_discount_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"

    @property
    def line_total(self) -> Decimal:
        if self.unit_price is None or self.quantity is None:
            return Decimal("0.00")
        gross = self.unit_price * self.quantity
        return (gross * (Decimal("100") - self.discount_percent) / Decimal("100")).quantize(
            Decimal("0.01")
        )


class DealStageChange(models.Model):
    """One move of a deal between stages (the first row, from no stage, is its creation)."""

    visibility_path = "deal"

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.ForeignKey(
        Stage,
        verbose_name=_("from stage"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    to_stage = models.ForeignKey(
        Stage, verbose_name=_("to stage"), on_delete=models.PROTECT, related_name="+"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("changed at"))
    seconds_in_from_stage = models.PositiveBigIntegerField(
        _("seconds in previous stage"), null=True, blank=True
    )

    class Meta:
        ordering = ["deal", "changed_at", "id"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        indexes = [
            models.Index(fields=["deal", "changed_at"], name="stage_change_deal_idx"),
            models.Index(fields=["to_stage", "changed_at"], name="stage_change_to_idx"),
            models.Index(fields=["changed_at"], name="stage_change_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} → {self.to_stage_id}"


class SalesTarget(TimeStampedModel):
    """A quota for one rep (owner) or one team over a month or a quarter."""

    class Period(models.TextChoices):
        MONTH = "month", _("Month")
        QUARTER = "quarter", _("Quarter")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rep"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sales_targets",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sales_targets",
    )
    period = models.CharField(_("period"), max_length=7, choices=Period.choices)
    period_start = models.DateField(_("period start"))
    amount = models.DecimalField(_("target amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)

    history = audited_history()

    class Meta:
        ordering = ["-period_start", "id"]
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")
        constraints = [
            models.CheckConstraint(
                condition=Q(owner__isnull=True, team__isnull=False)
                | Q(owner__isnull=False, team__isnull=True),
                name="target_for_rep_or_team",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="target_not_negative"),
            models.UniqueConstraint(
                fields=["owner", "period", "period_start"],
                condition=Q(owner__isnull=False),
                name="target_rep_period_unique",
            ),
            models.UniqueConstraint(
                fields=["team", "period", "period_start"],
                condition=Q(team__isnull=False),
                name="target_team_period_unique",
            ),
        ]
        indexes = [models.Index(fields=["period", "period_start"], name="target_period_idx")]

    def __str__(self) -> str:
        return f"{self.owner or self.team} {self.period_start:%Y-%m}"


class WebForm(TimeStampedModel):
    """A lead-capture form an admin builds; served as a hosted page and an embeddable snippet."""

    class Field(models.TextChoices):
        NAME = "name", _("Name")
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Phone")
        COMPANY = "company_name", _("Company")
        JOB_TITLE = "job_title", _("Job title")
        CITY = "city", _("City")
        PROVINCE = "province", _("Province/state")
        MESSAGE = "message", _("Message")

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("address"), max_length=60, unique=True)
    title = models.CharField(_("title shown on the form"), max_length=200, blank=True)
    fields = models.JSONField(_("fields"), default=list)
    thank_you_text = models.TextField(_("thank-you text"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("target owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="web_forms",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("target team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="web_forms",
    )
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="web_forms",
    )
    source = models.CharField(
        _("source"), max_length=20, choices=Customer.Source.choices, default="website"
    )
    is_active = models.BooleanField(_("active"), default=True)

    history = audited_history()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")

    def __str__(self) -> str:
        return self.name


class WebFormSubmission(models.Model):
    visibility_path = "form"

    form = models.ForeignKey(
        WebForm, verbose_name=_("form"), on_delete=models.CASCADE, related_name="submissions"
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("lead"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="web_form_submissions",
    )
    created_lead = models.BooleanField(_("created a new lead"), default=False)
    data = models.JSONField(_("submitted data"), default=dict)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("web form submission")
        verbose_name_plural = _("web form submissions")
        indexes = [
            models.Index(fields=["form", "-submitted_at"], name="webform_submission_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.form_id} @ {self.submitted_at:%Y-%m-%d %H:%M}"
