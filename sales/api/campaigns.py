"""/api/v1/campaigns/ (with each campaign's figures, and POST /campaigns/{id}/add-segment-members/)
and /api/v1/campaign-members/.

Reads go through the selectors (the visibility rule; figures computed in the same query) and
writes through the services, so the API validates exactly as the pages do.
"""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from crm.accounts.models import Team
from crm.accounts.selectors import user_list_active
from crm.api.calls import ServiceWritesMixin, call_service
from crm.api.fields import FieldsMixin
from crm.api.pagination import CursorPagination
from crm.api.serializers import StrictModelSerializer
from customers.selectors.customers import customer_list_visible, segment_list_visible
from sales.models import Campaign, CampaignMember
from sales.selectors import campaigns as selectors
from sales.services import campaigns as services


class VisibleSegmentField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return segment_list_visible(user=self.context["request"].user)


class VisibleCampaignField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return selectors.campaign_list_visible(user=self.context["request"].user)


class VisibleCustomerField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return customer_list_visible(user=self.context["request"].user)


class CampaignFiguresSerializer(serializers.Serializer):
    """What the campaign reached and brought in (definitions: sales.selectors.campaigns).
    Money is in the campaign's currency; rates and ROI are fractions (0.25 is 25 %)."""

    members = serializers.IntegerField()
    leads = serializers.IntegerField(help_text=_("Every member counts as a lead."))
    sent = serializers.IntegerField()
    opened = serializers.IntegerField()
    responded = serializers.IntegerField()
    converted = serializers.IntegerField()
    deals = serializers.IntegerField()
    won_deals = serializers.IntegerField()
    won_revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
    order_revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
    revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
    cost_per_lead = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    conversion_rate = serializers.DecimalField(max_digits=8, decimal_places=4, allow_null=True)
    roi = serializers.DecimalField(
        max_digits=16,
        decimal_places=4,
        allow_null=True,
        help_text=_("(revenue - actual cost) / actual cost; null when the cost is 0."),
    )


class CampaignSerializer(StrictModelSerializer):
    segment = VisibleSegmentField(required=False, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=user_list_active(),
        required=False,
        allow_null=True,
        help_text=_("Left out, the caller."),
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    figures = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            *services.CAMPAIGN_EDITABLE_FIELDS,
            "figures",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"currency": {"required": False, "allow_blank": True}}

    @extend_schema_field(CampaignFiguresSerializer)
    def get_figures(self, campaign: Campaign) -> dict:
        return CampaignFiguresSerializer(selectors.campaign_figures(campaign)).data


class CampaignFilter(filters.FilterSet):
    owner = filters.NumberFilter(field_name="owner_id")
    team = filters.NumberFilter(field_name="team_id")
    segment = filters.NumberFilter(field_name="segment_id")
    running_from = filters.DateFilter(method="filter_running_from", label=_("Running on or after"))
    running_to = filters.DateFilter(method="filter_running_to", label=_("Running on or before"))

    class Meta:
        model = Campaign
        fields = ["type", "status", "owner", "team", "segment", "currency"]

    def filter_running_from(self, queryset, name, value):
        return queryset.exclude(end_date__lt=value)

    def filter_running_to(self, queryset, name, value):
        return queryset.exclude(start_date__gt=value)


class AddMembersPermission(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("sales.add_campaignmember")


class CampaignViewSet(FieldsMixin, ServiceWritesMixin, viewsets.ModelViewSet):
    """Campaigns the caller may see, each with its figures: for a campaign they may see, every
    deal and order attributed to it counts, whoever owns it."""

    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter
    search_fields = ["name"]
    ordering_fields = ["name", "start_date", "end_date", "actual_cost", "created_at"]

    def get_queryset(self):
        return selectors.campaigns_with_figures(
            selectors.campaign_list_visible(user=self.request.user).order_by(
                "-start_date", "name", "pk"
            )
        )

    create_service = services.campaign_create
    update_service = services.campaign_update
    delete_service = services.campaign_delete
    record_argument = "campaign"

    def reread(self, record: Campaign) -> Campaign:
        # Read again by id only: the caller may just have handed the campaign to someone else.
        return selectors.campaigns_with_figures(Campaign.objects.filter(pk=record.pk)).get()

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer("SegmentMembersAdded", {"added": serializers.IntegerField()}),
            202: inline_serializer("SegmentMembersQueued", {"task_id": serializers.CharField()}),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="add-segment-members",
        permission_classes=[AddMembersPermission],
    )
    def add_segment_members(self, request, pk=None):
        """Add the campaign's segment's customers that the caller may see and that are not
        members yet (for an email campaign, only those with marketing consent). Runs as a
        background task: 200 with the count when it has already run, else 202."""
        campaign = self.get_object()
        result = call_service(
            services.campaign_members_queue_from_segment, actor=request.user, campaign=campaign
        )
        if result.ready():
            return Response({"added": result.get()})
        return Response({"task_id": result.id}, status=status.HTTP_202_ACCEPTED)


class CampaignMemberSerializer(StrictModelSerializer):
    campaign = VisibleCampaignField()
    customer = VisibleCustomerField()
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = CampaignMember
        fields = [
            "id",
            "campaign",
            "customer",
            "customer_name",
            "response",
            "responded_at",
            "created_at",
        ]
        read_only_fields = ["id", "responded_at", "created_at"]
        # The service refuses a customer who is already a member, naming the customer.
        validators = []

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is None:
            # A new member starts as sent; its response is recorded afterwards.
            fields["response"].read_only = True
        else:
            # A member stays in its campaign, with its customer: only the response changes.
            fields["campaign"] = serializers.PrimaryKeyRelatedField(read_only=True)
            fields["customer"] = serializers.PrimaryKeyRelatedField(read_only=True)
        return fields


class CampaignMemberFilter(filters.FilterSet):
    campaign = filters.NumberFilter(field_name="campaign_id")
    customer = filters.NumberFilter(field_name="customer_id")

    class Meta:
        model = CampaignMember
        fields = ["campaign", "customer", "response"]


class CampaignMemberViewSet(
    FieldsMixin,
    ServiceWritesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Members of the campaigns the caller may see; add one, record its response (sent, opened,
    responded, converted; responded_at is set by the server), or remove it."""

    serializer_class = CampaignMemberSerializer
    filterset_class = CampaignMemberFilter
    pagination_class = CursorPagination
    ordering = ("-id",)
    filter_backends = [filters.DjangoFilterBackend]

    def get_queryset(self):
        return selectors.campaign_member_list_visible(user=self.request.user)

    create_service = services.campaign_member_add
    delete_service = services.campaign_member_remove
    record_argument = "member"

    def perform_update(self, serializer):
        response = serializer.validated_data.get("response", serializer.instance.response)
        serializer.instance = call_service(
            services.campaign_member_set_response,
            actor=self.request.user,
            member=serializer.instance,
            response=response,
        )


routes = [
    ("campaigns", CampaignViewSet, "campaign"),
    ("campaign-members", CampaignMemberViewSet, "campaign-member"),
]
urlpatterns: list = []
