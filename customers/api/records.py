"""/api/v1/ for a customer's records: products, orders (lines nested on write), needs,
interactions and relationships, and GET /api/v1/customers/{id}/timeline/.

Reads go through the selectors (so through the visibility rule) and writes through the services,
so the API validates exactly as the browser forms do.
"""

from django.contrib.contenttypes.models import ContentType
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from crm.accounts.selectors import user_list_active
from crm.api.calls import call_service
from crm.api.fields import ExpandableSerializerMixin, FieldsMixin
from crm.api.filters import IsoDateTimeFilter
from crm.api.pagination import CursorPagination
from crm.api.permissions import ModelPermissions
from crm.api.serializers import StrictModelSerializer
from customers.api.customers import CustomerSummarySerializer
from customers.models import Customer, Interaction, Need, Order, OrderLine, Product, Relationship
from customers.selectors import customers as customer_selectors
from customers.selectors import records as selectors
from customers.selectors.timeline import TIMELINE_MAX_PAGE_SIZE, TIMELINE_PAGE_SIZE, Cursor
from customers.selectors.timeline import customer_timeline as timeline_page
from customers.services import records as services


class ChangeOnPostPermissions(ModelPermissions):
    """For actions that change an existing record through POST (`/orders/{id}/status/`)."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


class VisibleCustomerField(serializers.PrimaryKeyRelatedField):
    """A customer id the caller may see; any other id reads as unknown."""

    def get_queryset(self):
        return customer_selectors.customer_list_visible(user=self.context["request"].user)


@extend_schema_field({"type": "string", "example": "sales.deal", "nullable": True})
class ContentTypeField(serializers.Field):
    """A record type as "app_label.model"."""

    default_error_messages = {"unknown": _("Unknown record type “{value}”.")}

    def to_representation(self, value: ContentType) -> str:
        return f"{value.app_label}.{value.model}"

    def to_internal_value(self, data) -> ContentType:
        app_label, _dot, model = str(data).lower().partition(".")
        try:
            return ContentType.objects.get_by_natural_key(app_label, model)
        except ContentType.DoesNotExist:
            self.fail("unknown", value=data)


# Products ----------------------------------------------------------------------------------------


class ProductSerializer(StrictModelSerializer):
    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "category",
            "unit_price",
            "currency",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"currency": {"required": False, "allow_blank": True}}


class ProductFilter(filters.FilterSet):
    class Meta:
        model = Product
        fields = ["category", "is_active", "currency"]


class ProductViewSet(
    FieldsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The product catalogue shared by orders and deals; products are retired, not deleted."""

    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    search_fields = ["sku", "name", "category"]
    ordering_fields = ["name", "sku", "unit_price", "created_at"]

    def get_queryset(self):
        return selectors.product_list()

    def perform_create(self, serializer):
        serializer.instance = call_service(
            services.product_create, actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = call_service(
            services.product_update,
            actor=self.request.user,
            product=serializer.instance,
            **serializer.validated_data,
        )


# Orders ------------------------------------------------------------------------------------------


class OrderLineSerializer(StrictModelSerializer):
    product = serializers.PrimaryKeyRelatedField(queryset=selectors.product_list())
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
        model = OrderLine
        fields = ["id", "product", "product_name", "quantity", "unit_price", "line_total"]
        read_only_fields = ["id"]


class OrderSerializer(ExpandableSerializerMixin, StrictModelSerializer):
    customer = VisibleCustomerField()

    expandable_fields = {"customer": CustomerSummarySerializer}
    lines = OrderLineSerializer(many=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "customer",
            "number",
            "ordered_at",
            "status",
            "total_amount",
            "currency",
            "notes",
            "lines",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "total_amount", "created_at", "updated_at"]
        extra_kwargs = {
            "number": {"required": False, "allow_blank": True},
            "ordered_at": {"required": False},
            "currency": {"required": False, "allow_blank": True},
        }


class OrderStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Order.Status.choices)


class OrderFilter(filters.FilterSet):
    customer = filters.NumberFilter(field_name="customer_id")
    ordered_after = IsoDateTimeFilter(field_name="ordered_at", lookup_expr="gte")
    ordered_before = IsoDateTimeFilter(field_name="ordered_at", lookup_expr="lt")

    class Meta:
        model = Order
        fields = ["customer", "status", "currency", "ordered_after", "ordered_before"]


class OrderViewSet(
    FieldsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Orders of the customers the caller may see. An order's total is the sum of its lines;
    after creation only its status changes, through POST /orders/{id}/status/."""

    serializer_class = OrderSerializer
    pagination_class = CursorPagination
    ordering = ("-ordered_at", "-id")
    filterset_class = OrderFilter
    search_fields = ["number", "customer__name"]
    ordering_fields = ["ordered_at", "total_amount", "number"]

    def get_queryset(self):
        return selectors.order_list_visible(user=self.request.user).prefetch_related(
            "lines__product"
        )

    def perform_create(self, serializer):
        serializer.instance = call_service(
            services.order_create, actor=self.request.user, **serializer.validated_data
        )

    # The request is described inline: as a component of its own, the order statuses would
    # appear in two components and lose their plain enum name.
    @extend_schema(
        request={
            "application/json": {
                "type": "object",
                "properties": {"status": {"type": "string", "enum": Order.Status.values}},
                "required": ["status"],
            }
        },
        responses=OrderSerializer,
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="status",
        permission_classes=[ChangeOnPostPermissions],
    )
    def set_status(self, request, pk=None):
        """Move the order along its life cycle (pending, paid, shipped, completed; cancelled and
        refunded are final and stop counting as spend)."""
        order = self.get_object()
        data = OrderStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = call_service(
            services.order_update_status,
            actor=request.user,
            order=order,
            status=data.validated_data["status"],
        )
        return Response(OrderSerializer(order, context=self.get_serializer_context()).data)


# Needs -------------------------------------------------------------------------------------------


class NeedSerializer(StrictModelSerializer):
    customer = VisibleCustomerField()

    class Meta:
        model = Need
        fields = [
            "id",
            "customer",
            "text",
            "category",
            "priority",
            "status",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_by", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            # A need stays with its customer.
            fields["customer"] = serializers.PrimaryKeyRelatedField(read_only=True)
        return fields


class NeedFilter(filters.FilterSet):
    customer = filters.NumberFilter(field_name="customer_id")

    class Meta:
        model = Need
        fields = ["customer", "status", "priority", "category"]


class NeedViewSet(
    FieldsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """What customers asked for; close one by setting its status to met or dropped."""

    serializer_class = NeedSerializer
    pagination_class = CursorPagination
    ordering = ("-created_at", "-id")
    filterset_class = NeedFilter
    search_fields = ["text", "category"]
    ordering_fields = ["created_at", "priority", "status"]

    def get_queryset(self):
        return selectors.need_list_visible(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = call_service(
            services.need_create, actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = call_service(
            services.need_update,
            actor=self.request.user,
            need=serializer.instance,
            **serializer.validated_data,
        )


# Interactions ------------------------------------------------------------------------------------


class InteractionSerializer(ExpandableSerializerMixin, StrictModelSerializer):
    customer = VisibleCustomerField()
    handled_by = serializers.PrimaryKeyRelatedField(
        queryset=user_list_active(),
        required=False,
        allow_null=True,
        help_text=_("Left out, the caller."),
    )
    related_type = ContentTypeField(
        required=False,
        allow_null=True,
        help_text=_("The type of the deal or ticket this contact belongs to, e.g. sales.deal."),
    )

    expandable_fields = {"customer": CustomerSummarySerializer}

    class Meta:
        model = Interaction
        fields = [
            "id",
            "customer",
            "channel",
            "direction",
            "occurred_at",
            "subject",
            "summary",
            "duration_seconds",
            "outcome",
            "handled_by",
            "related_type",
            "related_id",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"occurred_at": {"required": False}}


class InteractionFilter(filters.FilterSet):
    customer = filters.NumberFilter(field_name="customer_id")
    handled_by = filters.NumberFilter(field_name="handled_by_id")
    occurred_after = IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Interaction
        fields = [
            "customer",
            "channel",
            "direction",
            "outcome",
            "handled_by",
            "occurred_after",
            "occurred_before",
        ]


class InteractionViewSet(
    FieldsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """One record per contact with a customer, on any channel; logging one moves the customer's
    last contact."""

    serializer_class = InteractionSerializer
    pagination_class = CursorPagination
    ordering = ("-occurred_at", "-id")
    filterset_class = InteractionFilter
    search_fields = ["subject", "summary"]
    ordering_fields = ["occurred_at", "duration_seconds"]

    def get_queryset(self):
        return selectors.interaction_list_visible(user=self.request.user).select_related(
            "related_type"
        )

    def perform_create(self, serializer):
        serializer.instance = call_service(
            services.interaction_log, actor=self.request.user, **serializer.validated_data
        )


# Relationships -----------------------------------------------------------------------------------


class RelationshipSerializer(StrictModelSerializer):
    from_customer = VisibleCustomerField()
    to_customer = VisibleCustomerField()

    class Meta:
        model = Relationship
        fields = ["id", "from_customer", "to_customer", "kind", "strength", "notes", "created_at"]
        read_only_fields = ["id", "created_at"]
        # The service checks uniqueness in both directions for the symmetric kinds.
        validators = []


class RelationshipFilter(filters.FilterSet):
    from_customer = filters.NumberFilter(field_name="from_customer_id")
    to_customer = filters.NumberFilter(field_name="to_customer_id")
    customer = filters.NumberFilter(method="filter_either_end", label=_("Either customer"))

    class Meta:
        model = Relationship
        fields = ["from_customer", "to_customer", "customer", "kind"]

    def filter_either_end(self, queryset, name, value):
        return queryset.filter(from_customer_id=value) | queryset.filter(to_customer_id=value)


class RelationshipViewSet(
    FieldsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Typed links between customers the caller may see at both ends."""

    serializer_class = RelationshipSerializer
    pagination_class = CursorPagination
    ordering = ("-created_at", "-id")
    filterset_class = RelationshipFilter
    search_fields = ["from_customer__name", "to_customer__name", "notes"]
    ordering_fields = ["created_at", "strength", "kind"]

    def get_queryset(self):
        return selectors.relationship_list_visible(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = call_service(
            services.relationship_create, actor=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        call_service(services.relationship_delete, actor=self.request.user, relationship=instance)


# Timeline ----------------------------------------------------------------------------------------


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    url = serializers.CharField()
    actor = serializers.CharField()
    badges = serializers.ListField(child=serializers.CharField())


class TimelinePageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    results = TimelineEntrySerializer(many=True)


class CustomerTimelineView(FieldsMixin, APIView):
    """Everything about one customer, newest first, a page at a time; follow `next`."""

    def get_queryset(self):
        return customer_selectors.customer_list_visible(user=self.request.user)

    @extend_schema(
        operation_id="customers_timeline",
        parameters=[
            OpenApiParameter("cursor", str, description=str(_("The `next` link's cursor."))),
            OpenApiParameter(
                "page_size",
                int,
                description=str(
                    _("Entries per page, at most %(max)d.") % {"max": TIMELINE_MAX_PAGE_SIZE}
                ),
            ),
        ],
        responses=TimelinePageSerializer,
    )
    def get(self, request, pk: int):
        try:
            customer = self.get_queryset().get(pk=pk)
        except Customer.DoesNotExist as exc:
            raise Http404 from exc
        try:
            before = (
                Cursor.decode(request.query_params["cursor"])
                if "cursor" in request.query_params
                else None
            )
        except ValueError as exc:
            raise serializers.ValidationError({"cursor": [_("This cursor is not valid.")]}) from exc
        try:
            page_size = int(request.query_params.get("page_size", TIMELINE_PAGE_SIZE))
        except ValueError as exc:
            raise serializers.ValidationError({"page_size": [_("A whole number.")]}) from exc
        page = timeline_page(customer=customer, user=request.user, before=before, limit=page_size)
        next_url = None
        if page.next_cursor is not None:
            next_url = replace_query_param(
                request.build_absolute_uri(), "cursor", page.next_cursor.encode()
            )
        body = TimelinePageSerializer({"next": next_url, "results": page.entries}).data
        return Response(body, status=status.HTTP_200_OK)


routes = [
    ("products", ProductViewSet, "product"),
    ("orders", OrderViewSet, "order"),
    ("needs", NeedViewSet, "need"),
    ("interactions", InteractionViewSet, "interaction"),
    ("relationships", RelationshipViewSet, "relationship"),
]
urlpatterns = [
    path(
        "customers/<int:pk>/timeline/",
        CustomerTimelineView.as_view(),
        name="customer-timeline",
    ),
]
