"""/api/v1/ for web forms (/web-forms/), their submissions (/web-form-submissions/, read only),
assignment rules (/assignment-rules/, with POST /assignment-rules/{id}/move/) and what the rules
assigned (/assignments/, read only).

Reads go through the selectors and writes through the services, so the API refuses exactly what
the builder and the rule pages refuse.
"""

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.accounts.models import Team
from crm.accounts.selectors import records_visible_to, user_list_active
from crm.api.calls import ServiceWritesMixin, call_service
from crm.api.fields import FieldsMixin
from crm.api.filters import IsoDateTimeFilter
from crm.api.serializers import StrictModelSerializer
from customers.api.records import ChangeOnPostPermissions, ContentTypeField
from sales.models import Assignment, AssignmentRule, Campaign, WebForm, WebFormSubmission
from sales.selectors import webforms as selectors
from sales.services import assignment as assignment_services
from sales.services import webforms as webform_services


class VisibleCampaignField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return records_visible_to(
            user=self.context["request"].user, queryset=Campaign.objects.all()
        )


# Web forms ---------------------------------------------------------------------------------------


class WebFormSerializer(StrictModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=user_list_active(), allow_null=True, required=False
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), allow_null=True, required=False
    )
    campaign = VisibleCampaignField(allow_null=True, required=False)
    hosted_url = serializers.SerializerMethodField()
    submission_count = serializers.SerializerMethodField()

    class Meta:
        model = WebForm
        fields = [
            "id",
            "name",
            "slug",
            "title",
            "fields",
            "thank_you_text",
            "owner",
            "team",
            "campaign",
            "source",
            "is_active",
            "hosted_url",
            "submission_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Uniqueness is the service's to check, with the same message the builder shows.
        extra_kwargs = {"slug": {"validators": []}}

    def get_fields(self):
        # Declared here: a class attribute named `fields` would hide the serializer's own.
        fields = super().get_fields()
        fields["fields"] = serializers.ListField(
            child=serializers.ChoiceField(choices=WebForm.Field.choices),
            help_text=_("The fields the form asks for: the name, and an email or a phone number."),
        )
        return fields

    def get_hosted_url(self, form: WebForm) -> str:
        path = reverse("sales:webform_public", args=[form.slug])
        return self.context["request"].build_absolute_uri(path)

    def get_submission_count(self, form: WebForm) -> int:
        return getattr(form, "submission_count", 0)


class WebFormFilter(filters.FilterSet):
    class Meta:
        model = WebForm
        fields = ["is_active", "campaign", "source", "owner", "team"]


class WebFormViewSet(FieldsMixin, ServiceWritesMixin, viewsets.ModelViewSet):
    """Lead-capture forms; each is served at its `hosted_url` and embedded with an iframe."""

    serializer_class = WebFormSerializer
    filterset_class = WebFormFilter
    search_fields = ["name", "slug", "title"]
    ordering_fields = ["name", "created_at"]

    def get_queryset(self):
        return selectors.webform_list_visible(user=self.request.user)

    create_service = webform_services.webform_create
    update_service = webform_services.webform_update
    delete_service = webform_services.webform_delete
    record_argument = "form"


class WebFormSubmissionSerializer(StrictModelSerializer):
    class Meta:
        model = WebFormSubmission
        fields = ["id", "form", "customer", "created_lead", "data", "ip_address", "submitted_at"]
        read_only_fields = fields


class WebFormSubmissionFilter(filters.FilterSet):
    submitted_from = IsoDateTimeFilter(field_name="submitted_at", lookup_expr="gte")
    submitted_to = IsoDateTimeFilter(field_name="submitted_at", lookup_expr="lt")

    class Meta:
        model = WebFormSubmission
        fields = ["form", "customer", "created_lead"]


class WebFormSubmissionViewSet(FieldsMixin, viewsets.ReadOnlyModelViewSet):
    """What visitors sent through the web forms the caller may see, newest first."""

    serializer_class = WebFormSubmissionSerializer
    filterset_class = WebFormSubmissionFilter
    ordering_fields = ["submitted_at"]

    def get_queryset(self):
        return selectors.webform_submissions_visible(user=self.request.user)


# Assignment rules --------------------------------------------------------------------------------


class AssignmentRuleSerializer(StrictModelSerializer):
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), allow_null=True, required=False
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=user_list_active(), allow_null=True, required=False
    )
    fallback_owner = serializers.PrimaryKeyRelatedField(
        queryset=user_list_active(), allow_null=True, required=False
    )
    assignment_count = serializers.SerializerMethodField()

    class Meta:
        model = AssignmentRule
        fields = [
            "id",
            "name",
            "is_active",
            "position",
            "applies_to",
            "match",
            "match_values",
            "strategy",
            "team",
            "owner",
            "fallback_owner",
            "assignment_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "position", "created_at", "updated_at"]
        # The model's check constraints are the service's to explain, field by field.
        validators: list = []

    def get_assignment_count(self, rule: AssignmentRule) -> int:
        return getattr(rule, "assignment_count", 0)


class RuleMoveSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=[("up", _("Up")), ("down", _("Down"))])


class AssignmentRuleFilter(filters.FilterSet):
    class Meta:
        model = AssignmentRule
        fields = ["is_active", "applies_to", "strategy", "team"]


class AssignmentRuleViewSet(FieldsMixin, ServiceWritesMixin, viewsets.ModelViewSet):
    """Who gets new leads and deals: the first active rule, by `position`, that matches."""

    serializer_class = AssignmentRuleSerializer
    filterset_class = AssignmentRuleFilter
    ordering_fields = ["position", "name"]

    def get_queryset(self):
        return selectors.assignment_rule_list()

    create_service = assignment_services.assignment_rule_create
    update_service = assignment_services.assignment_rule_update
    delete_service = assignment_services.assignment_rule_delete
    record_argument = "rule"

    @extend_schema(request=RuleMoveSerializer, responses=AssignmentRuleSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def move(self, request, pk=None):
        """Swap the rule with the one tried before (`up`) or after (`down`) it."""
        rule = self.get_object()
        body = RuleMoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        call_service(
            assignment_services.assignment_rule_move,
            actor=request.user,
            rule=rule,
            direction=body.validated_data["direction"],
        )
        moved = self.get_queryset().get(pk=rule.pk)
        return Response(self.get_serializer(moved).data, status=status.HTTP_200_OK)


# Assignments -------------------------------------------------------------------------------------


@extend_schema_field({"type": "string", "example": "customers.customer"})
class RecordTypeField(ContentTypeField):
    pass


class AssignmentSerializer(StrictModelSerializer):
    record_type = RecordTypeField(source="content_type", read_only=True)
    record_id = serializers.IntegerField(source="object_id", read_only=True)

    class Meta:
        model = Assignment
        fields = ["id", "record_type", "record_id", "rule", "assigned_to", "assigned_at"]
        read_only_fields = fields


@extend_schema(
    parameters=[
        OpenApiParameter(
            "record_type",
            str,
            description=str(_("“customers.customer” (leads) or “sales.deal”.")),
        ),
        OpenApiParameter("record_id", int, description=str(_("The record's id."))),
    ]
)
class AssignmentViewSet(
    FieldsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Which rule gave which lead or deal to whom, for the records the caller may see."""

    serializer_class = AssignmentSerializer
    filter_backends: list = []
    # Names the model for the schema, which is built without a database; rows come from
    # get_queryset.
    queryset = Assignment.objects.none()

    def get_queryset(self):
        params = self.request.query_params
        record_type: ContentType | None = None
        record_id: int | None = None
        if params.get("record_type"):
            record_type = _record_type(params["record_type"])
        if params.get("record_id"):
            try:
                record_id = int(params["record_id"])
            except ValueError as exc:
                raise serializers.ValidationError({"record_id": [_("A whole number.")]}) from exc
        return selectors.assignment_list_visible(
            user=self.request.user, record_type=record_type, record_id=record_id
        )


def _record_type(value: str) -> ContentType:
    try:
        return ContentTypeField().to_internal_value(value)
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({"record_type": exc.detail}) from exc


routes = [
    ("web-forms", WebFormViewSet, "web-form"),
    ("web-form-submissions", WebFormSubmissionViewSet, "web-form-submission"),
    ("assignment-rules", AssignmentRuleViewSet, "assignment-rule"),
    ("assignments", AssignmentViewSet, "assignment"),
]
urlpatterns: list = []
