from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

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
    marketing_consent = models.BooleanField(_("marketing consent"), default=False)
    marketing_consent_at = models.DateTimeField(_("consent given at"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    custom_attributes = models.JSONField(_("custom attributes"), default=dict, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
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
