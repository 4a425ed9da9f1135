"""/api/v1/ for workflow rules: the rules (/automation-rules/, conditions and actions nested,
with enable, disable, test and the catalogue of what a rule may be built from) and the log of
their runs (/automation-runs/).

Reads go through automation.selectors and writes through automation.services.rules, so the API
refuses exactly what the rule pages refuse; an error in a nested condition or action is named by
its place (`conditions.0.value`, `actions.1.message`)."""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from automation import selectors
from automation.actions.catalogue import action_describe
from automation.models import Rule, RuleAction, RuleCondition
from automation.naming import names_remembered
from automation.record_types import record_kind
from automation.services import rules as services
from automation.triggers import (
    trigger_describe,
)
from crm.api.calls import ServiceWritesMixin, call_service
from crm.api.fields import FieldsMixin
from crm.api.permissions import ModelPermissions
from crm.api.serializers import NoInputSerializer, StrictModelSerializer, StrictSerializer

RULE_EXAMPLE = {
    "id": 4,
    "name": "Welcome new VIP customers",
    "description": "A call within two days of becoming VIP.",
    "record_type": "customer",
    "trigger": "field_changed",
    "trigger_config": {"field": "tier", "value": ["vip"]},
    "trigger_description": "tier changes to VIP",
    "match": "all",
    "is_enabled": True,
    "owner": 3,
    "conditions": [{"field": "country", "operator": "eq", "value": "CN"}],
    "actions": [
        {
            "action_type": "create_task",
            "params": {
                "title": "Welcome call: {{ record.name }}",
                "description": "",
                "assignee": "owner",
                "due_in_days": 2,
                "priority": "high",
            },
            "description": "Create the task “Welcome call: {{ record.name }}” for the record's "
            "owner, due in 2 days",
        }
    ],
    "next_run_at": None,
    "last_run_at": None,
    "created_at": "2026-03-14T09:30:00+08:00",
    "updated_at": "2026-03-14T09:30:00+08:00",
}
RULE_WRITE_EXAMPLE = {
    key: RULE_EXAMPLE[key]
    for key in ("name", "record_type", "trigger", "trigger_config", "match", "conditions")
} | {
    "actions": [
        {
            "action_type": "create_task",
            "params": {"title": "Welcome call: {{ record.name }}", "due_in_days": 2},
        }
    ]
}
VALIDATION_EXAMPLE = {
    "error": {
        "code": "validation_error",
        "message": "The request has invalid fields.",
        "fields": {"conditions.0.value": ["Give a number, like 1000 or 12.5."]},
    }
}


class ChangeOnPostPermissions(ModelPermissions):
    """Switching a rule on or off changes it."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


class TestOnPostPermissions(ModelPermissions):
    """A dry run changes nothing, but shows what the rule would do to a record."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.test_%(model_name)s"]}


class RuleConditionSerializer(StrictSerializer):
    field = serializers.CharField(
        max_length=60, help_text=_("A field's key, from the catalogue's condition_fields.")
    )
    operator = serializers.CharField(
        max_length=20, help_text=_("One of the operators the catalogue gives for the field.")
    )
    value = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text=_(
            "What to compare with: a list of choice values, a number, a date (YYYY-MM-DD), a "
            "number of days or a text; none for empty, not empty, yes and no."
        ),
    )


class RuleActionSerializer(StrictSerializer):
    action_type = serializers.ChoiceField(choices=RuleAction.Type.choices)
    params = serializers.DictField(
        required=False,
        help_text=_("The action's settings; each action type's are checked as the rule form does."),
    )
    description = serializers.SerializerMethodField(
        help_text=_("The action in a sentence (read only).")
    )

    def get_description(self, rule_action: RuleAction) -> str:
        return action_describe(rule_action, record_kind(rule_action.rule.record_type))


class RuleSerializer(StrictModelSerializer):
    trigger_config = serializers.DictField(
        required=False,
        help_text=_(
            "What narrows the trigger: {field, value} of a field change, {stage}, {target} of an "
            "SLA, {field, attribute, days, direction, time} of a date, {frequency, time, "
            "weekday} of a schedule."
        ),
    )
    trigger_description = serializers.SerializerMethodField(
        help_text=_("The trigger in a sentence.")
    )
    conditions = RuleConditionSerializer(
        many=True,
        required=False,
        help_text=_("In order; when given on a write, they replace the rule's conditions."),
    )
    actions = RuleActionSerializer(
        many=True,
        required=False,
        help_text=_("Done in order; when given on a write, they replace the rule's actions."),
    )

    class Meta:
        model = Rule
        fields = [
            "id",
            "name",
            "description",
            "record_type",
            "trigger",
            "trigger_config",
            "trigger_description",
            "match",
            "is_enabled",
            "owner",
            "conditions",
            "actions",
            "next_run_at",
            "last_run_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "owner",
            "trigger_description",
            "next_run_at",
            "last_run_at",
            "created_at",
            "updated_at",
        ]

    def get_trigger_description(self, rule: Rule) -> str:
        return str(trigger_describe(rule, record_kind(rule.record_type)))

    def validate(self, attrs):
        # Nested items go to the service as plain dicts, which checks them against the rule.
        for name in ("conditions", "actions"):
            if name in attrs:
                attrs[name] = [dict(item) for item in attrs[name]]
        return attrs


class RecordBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    label = serializers.CharField(source="__str__")


class ConditionResultSerializer(serializers.Serializer):
    condition = serializers.CharField()
    met = serializers.BooleanField()


class ActionPlanSerializer(serializers.Serializer):
    action = serializers.CharField(help_text=_("The action in a sentence."))
    would = serializers.CharField(help_text=_("What it would do to this record now."))
    problem = serializers.CharField(help_text=_("Why it could not, if it could not."))
    nothing_to_do = serializers.BooleanField(
        default=False, help_text=_("True when the record is already as the action would make it.")
    )


class DryRunSerializer(serializers.Serializer):
    record = RecordBriefSerializer()
    conditions_met = serializers.BooleanField()
    conditions = ConditionResultSerializer(many=True)
    actions = ActionPlanSerializer(many=True)
    problem = serializers.CharField(
        help_text=_("Why the rule could not be tried at all (no active owner), if so.")
    )


class RuleTestSerializer(StrictSerializer):
    record = serializers.IntegerField(
        min_value=1, help_text=_("The id of a customer, deal or ticket, as the rule is about.")
    )


class ChoiceSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()


class OperatorSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class ConditionFieldSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField(
        help_text=_("text, number, choice, boolean, date, user, team, tags")
    )
    operators = OperatorSerializer(many=True)
    choices = ChoiceSerializer(many=True, allow_null=True)


class SettableFieldSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField()
    choices = ChoiceSerializer(many=True, allow_null=True)


class KeyLabelSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class PlaceholderSerializer(serializers.Serializer):
    name = serializers.CharField(help_text=_("Written {{ name }} in a text."))
    label = serializers.CharField()


class RecordTypeCatalogueSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    triggers = KeyLabelSerializer(many=True)
    changeable_fields = serializers.ListField(
        child=serializers.CharField(),
        help_text=_("The fields a field_changed trigger may wait for (trigger_config.field)."),
    )
    date_fields = serializers.ListField(
        child=serializers.CharField(),
        help_text=_(
            "The dates a date_reached trigger may wait for (trigger_config.field); "
            "custom_attribute takes trigger_config.attribute."
        ),
    )
    condition_fields = ConditionFieldSerializer(many=True)
    settable_fields = SettableFieldSerializer(many=True)
    action_types = KeyLabelSerializer(many=True)
    placeholders = PlaceholderSerializer(many=True)


class RuleFilter(filters.FilterSet):
    class Meta:
        model = Rule
        fields = ["record_type", "trigger", "is_enabled"]


@extend_schema_view(
    list=extend_schema(summary=str(_("List your workflow rules (an admin sees everyone's)"))),
    retrieve=extend_schema(summary=str(_("One workflow rule, with its conditions and actions"))),
    create=extend_schema(
        summary=str(_("Create a workflow rule")),
        examples=[
            OpenApiExample("New rule", value=RULE_WRITE_EXAMPLE, request_only=True),
            OpenApiExample("Created", value=RULE_EXAMPLE, response_only=True, status_codes=["201"]),
            OpenApiExample(
                "A condition refused",
                value=VALIDATION_EXAMPLE,
                response_only=True,
                status_codes=["400"],
            ),
        ],
    ),
    update=extend_schema(summary=str(_("Change a workflow rule"))),
    partial_update=extend_schema(summary=str(_("Change some of a workflow rule's fields"))),
    destroy=extend_schema(summary=str(_("Delete a workflow rule and its run log"))),
)
class RuleViewSet(FieldsMixin, ServiceWritesMixin, viewsets.ModelViewSet):
    """Workflow rules: a trigger on customers, deals or tickets, conditions on the record, and
    actions done in order as the rule's owner. Non-admins see and change their own rules only."""

    serializer_class = RuleSerializer
    filterset_class = RuleFilter
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "updated_at"]

    create_service = services.rule_create
    update_service = services.rule_update
    delete_service = services.rule_delete
    record_argument = "rule"

    def get_queryset(self):
        return selectors.rule_list_visible(user=self.request.user).prefetch_related(
            Prefetch("conditions", queryset=RuleCondition.objects.order_by("position", "pk")),
            # The prefetch gives each action its rule, whose record type describes it.
            Prefetch("actions", queryset=RuleAction.objects.order_by("position", "pk")),
        )

    def reread(self, record):
        return self.get_queryset().get(pk=record.pk)

    def dispatch(self, request, *args, **kwargs):
        # Describing rules names the teams, stages and campaigns they point at: a query per kind
        # of record for the whole answer (automation.naming).
        with names_remembered():
            return super().dispatch(request, *args, **kwargs)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        selectors.rules_names_preload(page if page is not None else queryset)
        return page

    def get_object(self):
        rule = super().get_object()
        selectors.rules_names_preload([rule])
        return rule

    def _enabled(self, request, *, enabled: bool):
        rule = self.get_object()
        call_service(services.rule_set_enabled, actor=request.user, rule=rule, enabled=enabled)
        return Response(self.get_serializer(self.reread(rule)).data)

    @extend_schema(
        summary=str(_("Switch the rule on")),
        request=NoInputSerializer,
        responses=RuleSerializer,
    )
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def enable(self, request, pk=None):
        """Switch the rule on: it runs on the events, dates or schedule it waits for."""
        NoInputSerializer(data=request.data).is_valid(raise_exception=True)
        return self._enabled(request, enabled=True)

    @extend_schema(
        summary=str(_("Switch the rule off")),
        request=NoInputSerializer,
        responses=RuleSerializer,
    )
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def disable(self, request, pk=None):
        """Switch the rule off: runs already queued still finish."""
        NoInputSerializer(data=request.data).is_valid(raise_exception=True)
        return self._enabled(request, enabled=False)

    @extend_schema(
        summary=str(_("Try the rule on a record without doing anything")),
        request=RuleTestSerializer,
        responses=DryRunSerializer,
        examples=[
            OpenApiExample("On customer 17", value={"record": 17}, request_only=True),
            OpenApiExample(
                "Dry run",
                value={
                    "record": {"id": 17, "label": "Li Wei"},
                    "conditions_met": True,
                    "conditions": [{"condition": "country is CN", "met": True}],
                    "actions": [
                        {
                            "action": "Notify the record's owner",
                            "would": "Notify Zhang Min",
                            "problem": "",
                            "nothing_to_do": False,
                        }
                    ],
                    "problem": "",
                },
                response_only=True,
            ),
        ],
    )
    @action(detail=True, methods=["post"], permission_classes=[TestOnPostPermissions])
    def test(self, request, pk=None):
        """Each condition's result on the record now, and what each action would do or why it
        could not. The record must be one both the caller and the rule's owner may see."""
        rule = self.get_object()
        serializer = RuleTestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = selectors.rule_record_get(
            rule=rule, user=request.user, pk=serializer.validated_data["record"]
        )
        if record is None:
            raise serializers.ValidationError(
                {
                    "record": [
                        _("No such %(kind)s, or one you or the rule's owner may not see.")
                        % {"kind": record_kind(rule.record_type).label}
                    ]
                }
            )
        return Response(DryRunSerializer(selectors.rule_test(rule=rule, record=record)).data)

    @extend_schema(
        summary=str(_("What rules may be built from, per record type")),
        responses=RecordTypeCatalogueSerializer(many=True),
        examples=[
            OpenApiExample(
                "Catalogue",
                value=[
                    {
                        "key": "ticket",
                        "label": "Ticket",
                        "triggers": [{"key": "sla_breached", "label": "A ticket breaches its SLA"}],
                        "changeable_fields": ["priority", "status"],
                        "date_fields": ["resolution_due_at", "created_at"],
                        "condition_fields": [
                            {
                                "key": "priority",
                                "label": "priority",
                                "kind": "choice",
                                "operators": [{"key": "in", "label": "is one of"}],
                                "choices": [{"value": "urgent", "label": "Urgent"}],
                            }
                        ],
                        "settable_fields": [
                            {
                                "key": "priority",
                                "label": "priority",
                                "kind": "choice",
                                "choices": [{"value": "urgent", "label": "Urgent"}],
                            }
                        ],
                        "action_types": [{"key": "notify", "label": "Notify users or a team"}],
                        "placeholders": [{"name": "record.name", "label": "The record's name"}],
                    }
                ],
                response_only=True,
            )
        ],
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def catalogue(self, request):
        """The triggers, the fields a condition may test and an action may set (as the caller's
        field rules allow), the action types and the placeholders of texts, per record type."""
        return Response(
            RecordTypeCatalogueSerializer(
                selectors.rule_catalogue(user=request.user), many=True
            ).data
        )
