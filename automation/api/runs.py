"""The runs of workflow rules: what each found and did, read only."""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from automation import selectors
from automation.models import Rule, RuleRun
from crm.api.fields import FieldsMixin
from crm.api.pagination import CursorPagination
from crm.api.serializers import StrictModelSerializer


class RuleRunSerializer(StrictModelSerializer):
    rule_name = serializers.CharField(source="rule.name", read_only=True)

    class Meta:
        model = RuleRun
        fields = [
            "id",
            "rule",
            "rule_name",
            "record_type",
            "record_id",
            "record_label",
            "cause",
            "cause_data",
            "chain",
            "status",
            "conditions_met",
            "condition_results",
            "action_results",
            "attempts",
            "next_attempt_at",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class RuleRunFilter(filters.FilterSet):
    record_type = filters.ChoiceFilter(choices=Rule.RecordType.choices)

    class Meta:
        model = RuleRun
        fields = ["rule", "status", "record_type", "record_id"]


@extend_schema_view(
    list=extend_schema(summary=str(_("The runs of your workflow rules, newest first"))),
    retrieve=extend_schema(summary=str(_("One run: what it found and what it did"))),
)
class RuleRunViewSet(FieldsMixin, viewsets.ReadOnlyModelViewSet):
    """Each time a rule ran on a record: what set it off, each condition's result, each action's
    outcome, and the error of a failed or stopped run."""

    serializer_class = RuleRunSerializer
    filterset_class = RuleRunFilter
    pagination_class = CursorPagination
    ordering = ("-created_at", "-id")
    filter_backends = [filters.DjangoFilterBackend]

    def get_queryset(self):
        return selectors.rule_runs_visible(user=self.request.user)
