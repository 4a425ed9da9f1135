"""What analytics stores: trained models and their versions, the scores they give, the social
graph's measures and the recommendations, each recomputed by Celery jobs."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.timestamps import TimeStampedModel


class PredictiveModel(TimeStampedModel):
    """A named prediction (purchase propensity, churn risk, a builder's model...).

    Its versions are the training runs; `active_version` is the one that scores. A retrain holds
    `training_version` while it runs, which is how two retrains of one model never overlap.
    """

    class Kind(models.TextChoices):
        PURCHASE = "purchase", _("Purchase propensity")
        SATISFACTION = "satisfaction", _("Satisfaction")
        CHURN = "churn", _("Churn risk")
        TICKET_CATEGORY = "ticket_category", _("Ticket category")
        TICKET_SENTIMENT = "ticket_sentiment", _("Ticket sentiment")
        BUILDER = "builder", _("Prediction builder")

    class Subject(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        TICKET = "ticket", _("Ticket")

    name = models.SlugField(_("name"), max_length=60, unique=True)
    title = models.CharField(_("title"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    subject = models.CharField(
        _("scores"), max_length=10, choices=Subject.choices, default=Subject.CUSTOMER
    )
    description = models.TextField(_("description"), blank=True)
    target_field = models.CharField(_("target field"), max_length=120, blank=True)
    positive_value = models.CharField(_("positive value"), max_length=200, blank=True)
    feature_fields = models.JSONField(
        _("fields to use"), default=list, blank=True, help_text=_("Empty means every usable field.")
    )
    excluded_fields = models.JSONField(_("fields left out"), default=list, blank=True)
    active_version = models.ForeignKey(
        "ModelVersion",
        verbose_name=_("active version"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    training_version = models.ForeignKey(
        "ModelVersion",
        verbose_name=_("training now"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    training_started_at = models.DateTimeField(_("training since"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("predictive model")
        verbose_name_plural = _("predictive models")
        permissions = [
            ("train_predictivemodel", _("Can train, build and activate predictive models")),
            ("manage_dashboard", _("Can see the manager dashboard")),
        ]

    def __str__(self) -> str:
        return str(self.display_title)

    @property
    def display_title(self) -> str:
        """Built-in models show their kind's name, translated; builder models their own title."""
        return self.title if self.kind == self.Kind.BUILDER else self.get_kind_display()


class ModelVersion(TimeStampedModel):
    """One training run of a model: what it was trained on, how it scored on held-out data, and
    the joblib artifact, loaded only when its SHA-256 still matches."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        TRAINING = "training", _("Training")
        SCORING = "scoring", _("Scoring")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Nightly schedule")
        BUTTON = "button", _("Button")
        API = "api", _("API")
        COMMAND = "command", _("Command")
        BUILDER = "builder", _("Prediction builder")

    class Decision(models.TextChoices):
        PENDING = "", _("Not decided")
        PROMOTED = "promoted", _("Activated: held-out AUC not worse")
        REFUSED = "refused", _("Kept the active version: held-out AUC worse")
        ACTIVATED_BY_HAND = "manual", _("Activated by hand")
        ROLLED_BACK = "rollback", _("Rolled back to")

    model = models.ForeignKey(
        PredictiveModel,
        verbose_name=_("model"),
        on_delete=models.CASCADE,
        related_name="versions",
    )
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    stage = models.CharField(_("stage"), max_length=120, blank=True)
    trigger = models.CharField(_("started by"), max_length=10, choices=Trigger.choices)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    algorithm = models.CharField(_("algorithm"), max_length=60, blank=True)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    features = models.JSONField(_("features"), default=list, blank=True)
    train_rows = models.PositiveIntegerField(_("training rows"), null=True, blank=True)
    test_rows = models.PositiveIntegerField(_("held-out rows"), null=True, blank=True)
    positive_rate = models.FloatField(_("positive rate"), null=True, blank=True)
    metrics = models.JSONField(
        _("held-out metrics"),
        default=dict,
        blank=True,
        help_text=_("roc_auc, accuracy, precision, recall, log_loss, calibration, roc, confusion"),
    )
    feature_importance = models.JSONField(_("feature importance"), default=list, blank=True)
    training_seconds = models.FloatField(_("training time (s)"), null=True, blank=True)
    scored_rows = models.PositiveIntegerField(_("rows scored"), default=0)
    scoring_seconds = models.FloatField(_("scoring time (s)"), null=True, blank=True)
    artifact = models.FileField(_("artifact"), upload_to="models/%Y/%m/", blank=True)
    artifact_sha256 = models.CharField(_("artifact SHA-256"), max_length=64, blank=True)
    decision = models.CharField(
        _("decision"), max_length=10, choices=Decision.choices, blank=True, default=""
    )
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["model", "-number"]
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        constraints = [
            models.UniqueConstraint(fields=["model", "number"], name="model_version_unique"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="model_version_progress"),
        ]

    def __str__(self) -> str:
        return f"{self.model} v{self.number}"

    @property
    def roc_auc(self) -> float | None:
        return self.metrics.get("roc_auc")


class CustomerScore(models.Model):
    """The latest score of a customer-subject model for one customer, with the features that
    pushed it up or down, so lists can sort and filter by it."""

    model = models.ForeignKey(
        PredictiveModel, verbose_name=_("model"), on_delete=models.CASCADE, related_name="scores"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="scores",
    )
    version = models.ForeignKey(
        ModelVersion, verbose_name=_("version"), on_delete=models.CASCADE, related_name="+"
    )
    probability = models.FloatField(_("probability"))
    reasons = models.JSONField(
        _("reasons"),
        default=list,
        blank=True,
        help_text=_("[[feature, value, effect], ...], strongest first"),
    )
    scored_at = models.DateTimeField(_("scored at"))

    class Meta:
        ordering = ["model", "-probability", "customer"]
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        constraints = [
            models.UniqueConstraint(fields=["model", "customer"], name="customer_score_unique"),
            models.CheckConstraint(
                condition=Q(probability__gte=0) & Q(probability__lte=1),
                name="customer_score_probability",
            ),
        ]
        indexes = [
            models.Index(fields=["model", "-probability", "customer"], name="customer_score_rank"),
            models.Index(fields=["customer"], name="customer_score_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.model}: {self.customer_id} {self.probability:.2f}"


class TicketPrediction(models.Model):
    """The text models' reading of a ticket: the category it likely belongs to (to suggest the
    queue) and the chance the customer ends satisfied."""

    ticket = models.OneToOneField(
        "service.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="prediction",
        primary_key=True,
    )
    category = models.ForeignKey(
        "service.TicketCategory",
        verbose_name=_("suggested category"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    category_confidence = models.FloatField(_("category confidence"), null=True, blank=True)
    category_version = models.ForeignKey(
        ModelVersion,
        verbose_name=_("category model"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    positive_probability = models.FloatField(
        _("chance of a positive sentiment"), null=True, blank=True
    )
    sentiment_version = models.ForeignKey(
        ModelVersion,
        verbose_name=_("sentiment model"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    satisfaction_probability = models.FloatField(
        _("chance of a satisfied customer"), null=True, blank=True
    )
    satisfaction_reasons = models.JSONField(_("satisfaction reasons"), default=list, blank=True)
    satisfaction_version = models.ForeignKey(
        ModelVersion,
        verbose_name=_("satisfaction model"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    predicted_at = models.DateTimeField(_("predicted at"))

    class Meta:
        ordering = ["-predicted_at"]
        verbose_name = _("ticket prediction")
        verbose_name_plural = _("ticket predictions")
        indexes = [
            models.Index(fields=["category", "-predicted_at"], name="ticket_prediction_category"),
            models.Index(fields=["positive_probability"], name="ticket_prediction_sentiment"),
            models.Index(
                fields=["satisfaction_probability"], name="ticket_prediction_satisfaction"
            ),
        ]

    def __str__(self) -> str:
        return str(self.ticket_id)


class AnalyticsJob(TimeStampedModel):
    """A batch run other than training (the social graph, recommendations, re-scoring with a
    model's active version after an activation by hand), with its progress."""

    class Kind(models.TextChoices):
        GRAPH = "graph", _("Social graph")
        RECOMMENDATIONS = "recommendations", _("Recommendations")
        SCORING = "scoring", _("Scoring")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # The model a scoring job scores with; graph and recommendation jobs belong to no model.
    model = models.ForeignKey(
        PredictiveModel,
        verbose_name=_("model"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="jobs",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    stage = models.CharField(_("stage"), max_length=120, blank=True)
    trigger = models.CharField(_("started by"), max_length=10, choices=ModelVersion.Trigger.choices)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    stats = models.JSONField(_("figures"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("analytics job")
        verbose_name_plural = _("analytics jobs")
        indexes = [models.Index(fields=["kind", "-created_at"], name="analytics_job_kind")]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="analytics_job_progress"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class GraphEdge(models.Model):
    """One undirected edge of the latest social graph, stored both ways so a warm-introduction
    search can walk it from either end with an index lookup.

    Nodes are "c<id>" (customer), "o<id>" (company) and "u<id>" (staff)."""

    source = models.CharField(_("from"), max_length=24)
    target = models.CharField(_("to"), max_length=24)
    weight = models.FloatField(_("weight"), default=1.0)
    kinds = models.CharField(_("because of"), max_length=120, blank=True)

    class Meta:
        ordering = ["source", "target"]
        verbose_name = _("graph edge")
        verbose_name_plural = _("graph edges")
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="graph_edge_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.source} - {self.target}"


class CustomerInfluence(models.Model):
    customer = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="influence",
        primary_key=True,
    )
    pagerank = models.FloatField(_("PageRank"))
    degree = models.FloatField(_("degree centrality"))
    connections = models.PositiveIntegerField(_("connections"), default=0)
    community = models.PositiveIntegerField(_("community"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        ordering = ["-pagerank", "customer"]
        verbose_name = _("customer influence")
        verbose_name_plural = _("customer influence")
        indexes = [
            models.Index(fields=["-pagerank", "customer"], name="influence_rank"),
            models.Index(fields=["-degree", "customer"], name="influence_degree"),
            models.Index(fields=["-connections", "customer"], name="influence_connections"),
            models.Index(fields=["community", "-pagerank"], name="influence_community"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.pagerank:.5f}"


class Community(models.Model):
    """A community found in the latest graph, offered as a segment."""

    number = models.PositiveIntegerField(_("number"), unique=True)
    size = models.PositiveIntegerField(_("customers"))
    label = models.CharField(_("label"), max_length=200, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    segment = models.ForeignKey(
        "customers.Segment",
        verbose_name=_("segment made from it"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        ordering = ["-size", "number"]
        verbose_name = _("community")
        verbose_name_plural = _("communities")

    def __str__(self) -> str:
        return self.label or str(self.number)


class CustomerRecommendation(models.Model):
    customer = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="recommendation",
        primary_key=True,
    )
    similar = models.JSONField(
        _("similar customers"), default=list, blank=True, help_text=_("[[customer id, distance]]")
    )
    products = models.JSONField(
        _("next-best products"), default=list, blank=True, help_text=_("[[product id, score]]")
    )
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        ordering = ["customer"]
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")

    def __str__(self) -> str:
        return str(self.customer_id)


class OrderDailyTotal(models.Model):
    """Orders and revenue per day and per owner and team of the ordering customer, refreshed by
    Celery, so the revenue charts add up a few thousand rows instead of every order in the
    period. Customers seen only through a share are added from their orders at read time."""

    day = models.DateField(_("day"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer owner"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("customer team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    orders = models.PositiveIntegerField(_("orders"))
    revenue = models.DecimalField(_("revenue"), max_digits=16, decimal_places=2)
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        ordering = ["-day"]
        verbose_name = _("daily order total")
        verbose_name_plural = _("daily order totals")
        indexes = [
            models.Index(fields=["day"], name="order_daily_total_day"),
            models.Index(fields=["owner", "day"], name="order_daily_total_owner"),
            models.Index(fields=["team", "day"], name="order_daily_total_team"),
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.revenue}"


class CustomerValue(models.Model):
    """A customer's RFM scores, value tier and lifetime value over the last 365 days, computed in
    one pass by a Celery job (nightly), so the value charts and the top-value list read one row
    per customer instead of ranking every order."""

    customer = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="value",
        primary_key=True,
    )
    recency_days = models.PositiveIntegerField(_("days since last order"), null=True, blank=True)
    frequency = models.PositiveIntegerField(_("orders in the last 365 days"))
    monetary = models.DecimalField(_("spend in the last 365 days"), max_digits=16, decimal_places=2)
    recency_score = models.PositiveSmallIntegerField(_("recency score"))
    frequency_score = models.PositiveSmallIntegerField(_("frequency score"))
    monetary_score = models.PositiveSmallIntegerField(_("monetary score"))
    value_tier = models.CharField(_("value tier"), max_length=20)
    lifetime_value = models.DecimalField(
        _("lifetime value"), max_digits=16, decimal_places=2, default=0
    )
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        ordering = ["-lifetime_value", "customer"]
        verbose_name = _("customer value")
        verbose_name_plural = _("customer values")
        indexes = [
            models.Index(fields=["value_tier"], name="customer_value_tier"),
            models.Index(fields=["-lifetime_value", "customer"], name="customer_value_clv"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.value_tier}"
