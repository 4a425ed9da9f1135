"""Workflow rules: a trigger, conditions on the record and the records around it, and ordered
actions; and each time a rule ran, what it found and what it did."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.audit.history import audited_history
from crm.timestamps import TimeStampedModel


class Rule(TimeStampedModel):
    class RecordType(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        DEAL = "deal", _("Deal")
        TICKET = "ticket", _("Ticket")

    class Trigger(models.TextChoices):
        CREATED = "created", _("A record is created")
        UPDATED = "updated", _("A record is updated")
        FIELD_CHANGED = "field_changed", _("A field changes")
        STAGE_CHANGED = "stage_changed", _("A deal moves stage")
        SLA_BREACHED = "sla_breached", _("A ticket breaches its SLA")
        SURVEY_ANSWERED = "survey_answered", _("A satisfaction survey is answered")
        DATE_REACHED = "date_reached", _("A date is reached")
        SCHEDULE = "schedule", _("On a schedule")

    class Match(models.TextChoices):
        ALL = "all", _("All conditions are met")
        ANY = "any", _("Any condition is met")

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    record_type = models.CharField(_("record type"), max_length=10, choices=RecordType.choices)
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices)
    # What narrows the trigger: the field and value of a field change, the stage moved to, the
    # SLA target, the date field and offset, the schedule (automation.triggers).
    trigger_config = models.JSONField(_("trigger settings"), default=dict, blank=True)
    match = models.CharField(_("match"), max_length=3, choices=Match.choices, default=Match.ALL)
    is_enabled = models.BooleanField(_("enabled"), default=True)
    # Actions are done as the owner, on records the owner may see.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="automation_rules",
    )
    # Rules on a date or a schedule: when the beat next looks for records.
    next_run_at = models.DateTimeField(_("next run at"), null=True, blank=True)
    last_run_at = models.DateTimeField(_("last run at"), null=True, blank=True)

    history = audited_history(excluded_fields=["next_run_at", "last_run_at"])

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("workflow rule")
        verbose_name_plural = _("workflow rules")
        indexes = [
            models.Index(
                fields=["trigger", "record_type"],
                name="rule_trigger_idx",
                condition=Q(is_enabled=True),
            ),
            models.Index(
                fields=["next_run_at"],
                name="rule_next_run_idx",
                condition=Q(is_enabled=True, next_run_at__isnull=False),
            ),
            models.Index(fields=["owner", "name"], name="rule_owner_idx"),
        ]
        permissions = [("test_rule", _("Can test workflow rules against records"))]

    def __str__(self) -> str:
        return self.name


class RuleCondition(models.Model):
    rule = models.ForeignKey(
        Rule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="conditions"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    field = models.CharField(_("field"), max_length=60)
    operator = models.CharField(_("operator"), max_length=20)
    value = models.JSONField(_("value"), null=True, blank=True)

    history = audited_history()

    class Meta:
        ordering = ["rule", "position", "pk"]
        verbose_name = _("rule condition")
        verbose_name_plural = _("rule conditions")

    def __str__(self) -> str:
        return f"{self.field} {self.operator} {self.value!r}"


class RuleAction(models.Model):
    class Type(models.TextChoices):
        UPDATE_FIELD = "update_field", _("Update a field")
        ASSIGN_OWNER = "assign_owner", _("Assign the owner by an assignment rule")
        CREATE_TASK = "create_task", _("Create a task")
        SEND_EMAIL = "send_email", _("Send an email from a template")
        NOTIFY = "notify", _("Notify users or a team")
        POST_CHAT = "post_chat", _("Post in a chat room")
        CAMPAIGN_ADD = "campaign_add", _("Add the customer to a campaign")
        CAMPAIGN_REMOVE = "campaign_remove", _("Remove the customer from a campaign")
        CALL_WEBHOOK = "call_webhook", _("Call a webhook")

    rule = models.ForeignKey(
        Rule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="actions"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    action_type = models.CharField(_("action"), max_length=20, choices=Type.choices)
    params = models.JSONField(_("settings"), default=dict, blank=True)

    history = audited_history()

    class Meta:
        ordering = ["rule", "position", "pk"]
        verbose_name = _("rule action")
        verbose_name_plural = _("rule actions")

    def __str__(self) -> str:
        return self.get_action_type_display()


class RuleRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        RETRYING = "retrying", _("Waiting to retry")
        SUCCEEDED = "succeeded", _("Done")
        SKIPPED = "skipped", _("Conditions not met")
        FAILED = "failed", _("Failed")
        STOPPED = "stopped", _("Stopped by the loop guard")

    rule = models.ForeignKey(
        Rule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="runs"
    )
    record_type = models.CharField(_("record type"), max_length=10)
    record_id = models.PositiveBigIntegerField(_("record id"))
    record_label = models.CharField(_("record"), max_length=200, blank=True)
    # What set it off: the event ("deal.updated"), "date" or "schedule", with the event's details.
    cause = models.CharField(_("cause"), max_length=40)
    cause_data = models.JSONField(
        _("cause details"), default=dict, blank=True, encoder=DjangoJSONEncoder
    )
    # Set for runs that must happen once (a date rule on a day, a schedule's slot).
    once_key = models.CharField(_("once key"), max_length=80, blank=True)
    # The rules (and records) whose actions led to this run, oldest first: [[rule_id, "deal:7"]].
    chain = models.JSONField(_("chain"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    conditions_met = models.BooleanField(_("conditions met"), null=True)
    condition_results = models.JSONField(_("condition results"), default=list, blank=True)
    action_results = models.JSONField(_("action results"), default=list, blank=True)
    # The position of the first action not yet done: a retry starts there.
    next_action = models.PositiveSmallIntegerField(_("next action"), default=0)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("rule run")
        verbose_name_plural = _("rule runs")
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "record_type", "record_id", "once_key"],
                condition=~Q(once_key=""),
                name="rule_run_once_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["rule", "-created_at"], name="rule_run_rule_idx"),
            models.Index(fields=["rule", "status", "-created_at"], name="rule_run_status_idx"),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["queued", "retrying"]),
                name="rule_run_due_idx",
            ),
            models.Index(fields=["record_type", "record_id"], name="rule_run_record_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} · {self.record_label}"

    @property
    def record_key(self) -> str:
        return f"{self.record_type}:{self.record_id}"
