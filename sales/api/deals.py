"""/api/v1/ for pipelines, stages and deals: deals with their line items nested, the business
operation POST /api/v1/deals/{id}/move/, a deal's GET /api/v1/deals/{id}/history/, and every
visible stage change at /api/v1/deal-stage-changes/.

Deals are read through the selectors (so through the visibility rule: another team's deal is a
404) and written through the deal services, so the API validates a change, checks its `version`
and records the stage history exactly as the board and the forms do.
"""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from crm.accounts.api import UserSummarySerializer
from crm.accounts.models import Team
from crm.accounts.selectors import user_list_active
from crm.api.calls import ServiceWritesMixin, call_service
from crm.api.fields import ExpandableSerializerMixin, FieldsMixin
from crm.api.filters import IsoDateTimeFilter
from crm.api.pagination import CursorPagination
from crm.api.serializers import StrictModelSerializer, representation_json
from customers.api.customers import CustomerSummarySerializer
from customers.api.records import ChangeOnPostPermissions, VisibleCustomerField
from customers.selectors.customers import company_list_visible
from customers.selectors.records import product_list
from sales.models import Deal, DealLine, DealStageChange, Pipeline, Stage
from sales.selectors import deals as selectors
from sales.selectors.campaigns import campaign_list_visible
from sales.services import deals as services
from sales.services import pipelines as pipeline_services

# Pipelines and stages ----------------------------------------------------------------------------


class StageSerializer(StrictModelSerializer):
    """A stage of a pipeline; `position` orders the board's columns. `won` stages have
    probability 100 and `lost` ones 0; a stage stays in its pipeline."""

    class Meta:
        model = Stage
        fields = [
            "id",
            "pipeline",
            "name",
            "position",
            "kind",
            "probability",
            "stale_after_days",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # The pipeline service checks the names and the probabilities, with the same messages
        # as the pages; the serializer only reads the input.
        validators: list = []


class PipelineSerializer(StrictModelSerializer):
    """A pipeline; its stages are listed here and written through /stages/."""

    stages = StageSerializer(many=True, read_only=True)

    class Meta:
        model = Pipeline
        fields = [
            "id",
            "name",
            "description",
            "is_default",
            "is_active",
            "position",
            "stages",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # As for stages, the pipeline service checks the name and the default flag.
        validators: list = []
        extra_kwargs = {
            "name": {"validators": []},
            "is_default": {
                "validators": [],
                "help_text": _("Set, the pipeline becomes the default instead of the current one."),
            },
        }


class PipelineViewSet(FieldsMixin, ServiceWritesMixin, viewsets.ModelViewSet):
    """Pipelines with their stages, in board order. Making one the default takes the flag from
    the current default. A pipeline that deals use cannot be deleted (in_use); deactivate it
    instead."""

    serializer_class = PipelineSerializer
    filterset_fields = ["is_active", "is_default"]
    search_fields = ["name", "description"]
    ordering_fields = ["position", "name", "created_at"]

    create_service = pipeline_services.pipeline_create
    update_service = pipeline_services.pipeline_update
    delete_service = pipeline_services.pipeline_delete
    record_argument = "pipeline"

    def get_queryset(self):
        return Pipeline.objects.prefetch_related(
            Prefetch("stages", queryset=Stage.objects.order_by("position", "pk"))
        ).order_by("position", "name", "pk")

    def reread(self, record):
        return self.get_queryset().get(pk=record.pk)


class StageFilter(filters.FilterSet):
    class Meta:
        model = Stage
        fields = ["pipeline", "kind"]


class StageViewSet(FieldsMixin, ServiceWritesMixin, viewsets.ModelViewSet):
    """The stages of every pipeline. `won` stages have probability 100 and `lost` ones 0, and a
    pipeline keeps at least one open stage. A stage that deals are in or have passed through
    cannot be deleted (in_use)."""

    serializer_class = StageSerializer
    filterset_class = StageFilter
    search_fields = ["name"]
    ordering_fields = ["position", "name"]

    create_service = pipeline_services.stage_create
    update_service = pipeline_services.stage_update
    delete_service = pipeline_services.stage_delete
    record_argument = "stage"

    def get_queryset(self):
        return selectors.stage_list()


# Deals -------------------------------------------------------------------------------------------


class VisibleCampaignField(serializers.PrimaryKeyRelatedField):
    """A campaign id the caller may see; any other id reads as unknown."""

    def get_queryset(self):
        return campaign_list_visible(user=self.context["request"].user)


class VisibleCompanyField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return company_list_visible(user=self.context["request"].user)


class DealLineSerializer(StrictModelSerializer):
    """A product on a deal; `line_total` is quantity × unit price less the discount."""

    product = serializers.PrimaryKeyRelatedField(queryset=product_list())
    product_name = serializers.CharField(source="product.name", read_only=True)
    unit_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=_("Left out, the product's catalogue price."),
    )
    line_total = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = DealLine
        fields = [
            "id",
            "product",
            "product_name",
            "quantity",
            "unit_price",
            "discount_percent",
            "line_total",
        ]
        read_only_fields = ["id"]
        extra_kwargs = {
            "quantity": {"min_value": 1},
            "discount_percent": {"min_value": 0, "max_value": 100},
        }


class PipelineSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Pipeline
        fields = ["id", "name"]
        read_only_fields = fields


class StageSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Stage
        fields = ["id", "name", "kind", "probability"]
        read_only_fields = fields


class DealSerializer(ExpandableSerializerMixin, StrictModelSerializer):
    """A deal with its line items; `version` is what a later change must name."""

    customer = VisibleCustomerField()
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    company = VisibleCompanyField(required=False, allow_null=True)
    campaign = VisibleCampaignField(required=False, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=user_list_active(),
        required=False,
        allow_null=True,
        help_text=_("Left out, whom the assignment rules pick, else the caller."),
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    pipeline = serializers.PrimaryKeyRelatedField(
        queryset=Pipeline.objects.all(),
        required=False,
        help_text=_("Left out, the stage's pipeline, else the default pipeline."),
    )
    stage = serializers.PrimaryKeyRelatedField(
        queryset=Stage.objects.select_related("pipeline"),
        required=False,
        help_text=_("Left out, the pipeline's first open stage."),
    )
    stage_name = serializers.CharField(source="stage.name", read_only=True)
    # A plain string: as a choice field it would be a second enum component of the stage kinds.
    stage_kind = serializers.CharField(
        source="stage.kind", read_only=True, help_text=_("open, won or lost.")
    )
    stage_probability = serializers.IntegerField(source="stage.probability", read_only=True)
    is_stale = serializers.BooleanField(
        read_only=True,
        help_text=_("Open and in its stage longer than the stage's limit."),
    )
    lines = DealLineSerializer(
        many=True,
        required=False,
        help_text=_("Given, they replace the deal's lines and set its amount to their total."),
    )

    expandable_fields = {
        "customer": CustomerSummarySerializer,
        "stage": StageSummarySerializer,
        "pipeline": PipelineSummarySerializer,
        "owner": UserSummarySerializer,
    }
    # The lines' total is the deal's amount.

    class Meta:
        model = Deal
        fields = [
            "id",
            "name",
            "customer",
            "customer_name",
            "company",
            "owner",
            "team",
            "pipeline",
            "stage",
            "stage_name",
            "stage_kind",
            "stage_probability",
            "amount",
            "currency",
            "expected_close_date",
            "source",
            "campaign",
            "lost_reason",
            "lost_note",
            "next_step",
            "forecast_category",
            "description",
            "lines",
            "stage_entered_at",
            "closed_at",
            "is_stale",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "stage_entered_at",
            "closed_at",
            "version",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "currency": {"required": False, "allow_blank": True},
            "amount": {"min_value": 0},
        }


def deal_payload(deal: Deal) -> dict:
    """The deal as GET /api/v1/deals/{id}/ shows it: the record of its webhook events, read
    afresh (with its stale flag and lines) so it shows the committed change (only its id once
    it is gone)."""
    fresh = (
        selectors.deals_with_stale_flag(
            Deal.objects.select_related(
                "customer", "owner", "team", "pipeline", "stage", "campaign", "company"
            ).prefetch_related("lines__product")
        )
        .filter(pk=deal.pk)
        .first()
    )
    return representation_json(DealSerializer(fresh).data) if fresh else {"id": deal.pk}


class DealUpdateSerializer(DealSerializer):
    """A change to a deal, made from `version` (required, PATCH included)."""

    version = serializers.IntegerField(
        min_value=1,
        help_text=_("The version the change was made from; a stale one is refused with 409."),
    )

    class Meta(DealSerializer.Meta):
        read_only_fields = [
            name for name in DealSerializer.Meta.read_only_fields if name != "version"
        ]

    def validate(self, attrs):
        # PATCH makes every field optional; the version never is.
        if "version" not in attrs:
            raise serializers.ValidationError({"version": [_("This field is required.")]})
        return attrs


class DealMoveSerializer(StrictModelSerializer):
    """A move to another stage of the deal's pipeline, made from `version`."""

    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.select_related("pipeline"))
    version = serializers.IntegerField(min_value=1)

    class Meta:
        model = Deal
        fields = ["stage", "version", "lost_reason", "lost_note"]
        extra_kwargs = {
            "lost_reason": {"help_text": _("Required when the stage is a lost one.")},
        }


class DealStageChangeSerializer(serializers.ModelSerializer):
    """One move of a deal between stages; `from_stage` is empty for its creation."""

    deal_name = serializers.CharField(source="deal.name", read_only=True)
    from_stage_name = serializers.CharField(
        source="from_stage.name", read_only=True, allow_null=True
    )
    to_stage_name = serializers.CharField(source="to_stage.name", read_only=True)

    class Meta:
        model = DealStageChange
        fields = [
            "id",
            "deal",
            "deal_name",
            "from_stage",
            "from_stage_name",
            "to_stage",
            "to_stage_name",
            "changed_by",
            "changed_at",
            "seconds_in_from_stage",
        ]
        read_only_fields = fields


@extend_schema_view(
    update=extend_schema(request=DealUpdateSerializer, responses=DealSerializer),
    partial_update=extend_schema(request=DealUpdateSerializer, responses=DealSerializer),
)
class DealViewSet(FieldsMixin, viewsets.ModelViewSet):
    """Deals the caller may see, with the board's filters. A change names the `version` it was
    made from; a stale one is refused with 409 (conflict), and nothing is written."""

    filterset_class = selectors.DealFilter
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["created_at", "amount", "expected_close_date", "name", "stage_entered_at"]
    pagination_class = CursorPagination

    def get_queryset(self):
        return selectors.deal_list_visible(user=self.request.user).prefetch_related(
            "lines__product"
        )

    def filter_queryset(self, queryset):
        # Flagged here rather than in get_queryset, which the permission check also calls:
        # the flag reads the stages' limits, once per request is enough.
        return selectors.deals_with_stale_flag(super().filter_queryset(queryset))

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return DealUpdateSerializer
        return DealSerializer

    def _output(self, deal: Deal) -> dict:
        fresh = selectors.deals_with_stale_flag(self.get_queryset()).get(pk=deal.pk)
        return DealSerializer(fresh, context=self.get_serializer_context()).data

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        deal = call_service(
            services.deal_create,
            actor=request.user,
            lines=values.pop("lines", None),
            **values,
        )
        return Response(self._output(deal), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        deal = self.get_object()
        serializer = self.get_serializer(
            deal, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        deal = call_service(
            services.deal_update,
            actor=request.user,
            deal=deal,
            version=values.pop("version"),
            lines=values.pop("lines", None),
            **values,
        )
        return Response(self._output(deal))

    def perform_destroy(self, instance):
        call_service(services.deal_delete, actor=self.request.user, deal=instance)

    @extend_schema(
        request=DealMoveSerializer,
        responses=DealSerializer,
        examples=[
            OpenApiExample(
                "Move to the next stage",
                value={"stage": 3, "version": 4},
                request_only=True,
            ),
            OpenApiExample(
                "Mark as lost",
                value={
                    "stage": 6,
                    "version": 5,
                    "lost_reason": "competitor",
                    "lost_note": "Chose a local vendor with on-site support.",
                },
                request_only=True,
            ),
        ],
    )
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def move(self, request, pk=None):
        """Move the deal to another stage of its pipeline, as dragging its card on the board
        does; a lost stage needs `lost_reason`. The move is recorded in the deal's history."""
        deal = self.get_object()
        data = DealMoveSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        deal = call_service(
            services.deal_move_stage, actor=request.user, deal=deal, **data.validated_data
        )
        return Response(self._output(deal))

    @extend_schema(responses=DealStageChangeSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filter_backends=[], ordering_fields=[])
    def history(self, request, pk=None):
        """The deal's stage changes, oldest first; the first one (from no stage) is its creation."""
        deal = self.get_object()
        changes = self.paginate_queryset(selectors.deal_stage_history(deal=deal))
        return self.get_paginated_response(
            DealStageChangeSerializer(
                changes, many=True, context=self.get_serializer_context()
            ).data
        )


class DealStageChangeFilter(filters.FilterSet):
    deal = filters.NumberFilter(field_name="deal_id")
    changed_after = IsoDateTimeFilter(field_name="changed_at", lookup_expr="gte")
    changed_before = IsoDateTimeFilter(field_name="changed_at", lookup_expr="lt")

    class Meta:
        model = DealStageChange
        fields = ["deal", "from_stage", "to_stage", "changed_after", "changed_before"]


class DealStageChangeViewSet(FieldsMixin, viewsets.ReadOnlyModelViewSet):
    """Every stage change of the deals the caller may see, newest first."""

    serializer_class = DealStageChangeSerializer
    pagination_class = CursorPagination
    ordering = ("-changed_at", "-id")
    filterset_class = DealStageChangeFilter
    filter_backends = [filters.DjangoFilterBackend]

    def get_queryset(self):
        return selectors.stage_change_list_visible(user=self.request.user)


routes = [
    ("pipelines", PipelineViewSet, "pipeline"),
    ("stages", StageViewSet, "stage"),
    ("deals", DealViewSet, "deal"),
    ("deal-stage-changes", DealStageChangeViewSet, "deal-stage-change"),
]
urlpatterns: list = []
