"""/api/v1/ for the social graph, over the customers the caller may see:
- GET /influence-scores/?community=&ordering=-pagerank|-degree|-connections,
  GET /influence-scores/{customer}/;
- GET /communities/, GET /communities/{number}/, POST /communities/{number}/segment/ (needs
  customers.add_segment and analytics.manage_dashboard) makes a customers segment of it;
- GET /introduction-path/?target=<customer id>&source=me|customer:<id>: the shortest chain of
  known ties, customers the caller may not see shown without name or id;
- GET /graph-jobs/, GET /graph-jobs/{id}/, POST /graph-jobs/ queues a rebuild (202; 409 while
  one is active; needs analytics.train_predictivemodel).
"""

from django.http import Http404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.api.recommendations import JobSerializer
from analytics.ml.graph import CUSTOMER, STAFF, SearchTooWide, node_name, node_split
from analytics.models import Community, ModelVersion
from analytics.selectors.network import (
    community_list,
    community_samples_visible,
    graph_jobs,
    influence_list_visible,
    influence_ordering,
    introduction_path,
)
from analytics.services.network import GraphBusy, community_segment_create, graph_build_request
from crm.api.calls import Conflict
from crm.api.fields import FieldsMixin
from crm.api.pagination import PageNumberPagination
from crm.api.serializers import NoInputSerializer
from customers.api.customers import CappedPageNumberPagination
from customers.models import Customer
from customers.selectors.customers import customer_get_visible

NODE_KINDS = {CUSTOMER: "customer", "o": "company", STAFF: "staff"}


class GraphPermission(permissions.BasePermission):
    """The view's `read_permission` for safe methods, `write_permission` for the others."""

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return request.user.has_perm(view.read_permission)
        return request.user.has_perms(view.write_permissions)


class InfluenceSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="pk", read_only=True)
    pagerank = serializers.FloatField(source="influence.pagerank", read_only=True)
    degree = serializers.FloatField(
        source="influence.degree", read_only=True, help_text=_("Ties / (nodes - 1).")
    )
    connections = serializers.IntegerField(source="influence.connections", read_only=True)
    community = serializers.IntegerField(
        source="influence.community", read_only=True, allow_null=True
    )
    computed_at = serializers.DateTimeField(source="influence.computed_at", read_only=True)

    class Meta:
        model = Customer
        fields = [
            "customer",
            "name",
            "pagerank",
            "degree",
            "connections",
            "community",
            "computed_at",
        ]
        read_only_fields = fields


@extend_schema(
    parameters=[
        OpenApiParameter("community", OpenApiTypes.INT, description="Community number."),
        OpenApiParameter(
            "ordering", OpenApiTypes.STR, enum=["-pagerank", "-degree", "-connections"]
        ),
    ]
)
class InfluenceViewSet(FieldsMixin, viewsets.ReadOnlyModelViewSet):
    """Customers by influence in the latest graph; {customer} is the customer id. The count
    stops at 10,000 (`count_is_exact` says whether it did), as for the customer list."""

    serializer_class = InfluenceSerializer
    # An exact COUNT over every customer a manager sees costs more than the page itself.
    pagination_class = CappedPageNumberPagination
    permission_classes = [GraphPermission]
    read_permission = "analytics.view_customerinfluence"
    write_permissions = ()
    filter_backends: list = []

    def get_queryset(self):
        params = self.request.query_params
        community = params.get("community")
        try:
            community = int(community) if community else None
        except ValueError:
            raise exceptions.ValidationError({"community": [_("Enter a whole number.")]}) from None
        return influence_list_visible(
            user=self.request.user,
            community=community,
            ordering=influence_ordering(params.get("ordering")),
        )


class CommunityMemberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CommunitySerializer(serializers.ModelSerializer):
    sample = serializers.SerializerMethodField(
        help_text=_("The most influential members the caller may see (at most three).")
    )

    class Meta:
        model = Community
        fields = ["number", "size", "label", "summary", "segment", "computed_at", "sample"]
        read_only_fields = fields

    @extend_schema_field(CommunityMemberSerializer(many=True))
    def get_sample(self, community) -> list[dict]:
        members = self.context["samples"].get(community.number, [])
        return CommunityMemberSerializer(members, many=True).data


class CommunityPagination(PageNumberPagination):
    # Each community on a page costs one query for its sample members.
    max_page_size = 100


class CommunityViewSet(FieldsMixin, viewsets.ReadOnlyModelViewSet):
    """Communities of the latest graph, largest first; {number} is the community's number."""

    serializer_class = CommunitySerializer
    pagination_class = CommunityPagination
    permission_classes = [GraphPermission]
    read_permission = "analytics.view_community"
    write_permissions = (
        "analytics.view_community",
        "analytics.manage_dashboard",
        "customers.add_segment",
    )
    lookup_field = "number"
    lookup_value_regex = r"\d+"
    filter_backends: list = []

    def get_queryset(self):
        return community_list()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "samples": {}}

    def get_serializer(self, *args, **kwargs):
        instance = args[0] if args else None
        if instance is not None:
            communities = instance if isinstance(instance, list) else [instance]
            numbers = [community.number for community in communities]
            kwargs["context"] = {
                **self.get_serializer_context(),
                "samples": community_samples_visible(user=self.request.user, numbers=numbers),
            }
            return self.serializer_class(*args, **kwargs)
        return super().get_serializer(*args, **kwargs)

    @extend_schema(request=None, responses={201: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def segment(self, request, number=None):
        """Make a customers segment of the community (once; again returns the same one)."""
        segment = community_segment_create(actor=request.user, community=self.get_object())
        return Response(
            {"segment": segment.pk, "name": segment.name}, status=status.HTTP_201_CREATED
        )


class PathStepSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(NODE_KINDS.values()))
    id = serializers.IntegerField(
        allow_null=True, help_text=_("null for a customer or company the caller may not see.")
    )
    label = serializers.CharField()
    hidden = serializers.BooleanField()
    tie = serializers.CharField(help_text=_("Why this step knows the one before it."))


class IntroductionPathSerializer(serializers.Serializer):
    found = serializers.BooleanField()
    too_wide = serializers.BooleanField(
        help_text=_("The search gave up: too many ties around the start or the target.")
    )
    steps = PathStepSerializer(many=True)


class IntroductionPathView(FieldsMixin, APIView):
    permission_classes = [GraphPermission]
    read_permission = "analytics.view_graphedge"
    write_permissions = ()

    @extend_schema(
        operation_id="introduction_path",
        parameters=[
            OpenApiParameter("target", OpenApiTypes.INT, required=True, description="Customer id."),
            OpenApiParameter(
                "source", OpenApiTypes.STR, description="me (default) or customer:<id>."
            ),
        ],
        responses=IntroductionPathSerializer,
        description=__doc__,
    )
    def get(self, request):
        target = self._visible_customer(request, request.query_params.get("target"), "target")
        source_value = request.query_params.get("source") or "me"
        if source_value == "me":
            source = node_name(STAFF, request.user.pk)
        elif source_value.startswith("customer:"):
            customer = self._visible_customer(
                request, source_value.removeprefix("customer:"), "source"
            )
            source = node_name(CUSTOMER, customer.pk)
        else:
            raise exceptions.ValidationError({"source": [_("Use me or customer:<id>.")]})
        try:
            steps = introduction_path(user=request.user, source=source, target=target)
        except SearchTooWide:
            return Response({"found": False, "too_wide": True, "steps": []})
        data = {
            "found": steps is not None,
            "too_wide": False,
            "steps": [
                {
                    "kind": NODE_KINDS[step.node.kind],
                    "id": None if step.node.hidden else node_split(step.node.node)[1],
                    "label": step.node.label,
                    "hidden": step.node.hidden,
                    "tie": step.kinds,
                }
                for step in steps or []
            ],
        }
        return Response(IntroductionPathSerializer(data).data)

    @staticmethod
    def _visible_customer(request, value, field: str) -> Customer:
        """The customer of that id the caller may see; 404 for one hidden from them as for one
        that does not exist."""
        try:
            pk = int(value)
        except (TypeError, ValueError):
            raise exceptions.ValidationError({field: [_("Enter a customer id.")]}) from None
        try:
            return customer_get_visible(user=request.user, pk=pk)
        except Customer.DoesNotExist:
            raise Http404 from None


class GraphJobViewSet(
    FieldsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Builds of the social graph, newest first; POST queues one."""

    serializer_class = JobSerializer
    permission_classes = [GraphPermission]
    read_permission = "analytics.view_analyticsjob"
    write_permissions = ("analytics.train_predictivemodel",)
    filter_backends: list = []

    def get_queryset(self):
        return graph_jobs()

    @extend_schema(request=None, responses={202: JobSerializer, 409: OpenApiTypes.OBJECT})
    def create(self, request, *args, **kwargs):
        NoInputSerializer(data=request.data).is_valid(raise_exception=True)
        try:
            job = graph_build_request(trigger=ModelVersion.Trigger.API, user=request.user)
        except GraphBusy as busy:
            raise Conflict(str(busy), code="busy") from busy
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


routes = [
    ("influence-scores", InfluenceViewSet, "influence"),
    ("communities", CommunityViewSet, "community"),
    ("graph-jobs", GraphJobViewSet, "graph-job"),
]
urlpatterns = [
    path("introduction-path/", IntroductionPathView.as_view(), name="introduction-path"),
]
