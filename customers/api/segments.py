"""/api/v1/segments/: saved customer filters, and GET /api/v1/segments/{id}/customers/ for the
members now, among the customers the caller may see."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, viewsets
from rest_framework.decorators import action

from crm.accounts.models import Team
from crm.api.calls import call_service
from crm.api.fields import FieldsMixin
from crm.api.pagination import CursorPagination
from crm.api.serializers import StrictModelSerializer
from customers.api.customers import CustomerOrdering, CustomerSerializer
from customers.forms import CustomerFilterForm
from customers.models import Segment
from customers.selectors import customers as selectors
from customers.selectors.customers import CustomerFilter
from customers.services.segments import segment_create, segment_delete, segment_update


@extend_schema_field(OpenApiTypes.OBJECT)
class CustomerFiltersField(serializers.Field):
    """A segment's filters: an object whose keys are the customer list page's query parameters
    (q, status, tier, owner, team, tag, city, age_min, age_max, spend_min, spend_max,
    contacted_after, contacted_before, never_contacted, company), checked by the page's form."""

    def to_representation(self, value):
        return value

    def to_internal_value(self, data) -> CustomerFilter:
        if not isinstance(data, dict):
            raise serializers.ValidationError(_("Expected an object of filters."))
        form = CustomerFilterForm(data, user=self.context["request"].user)
        unknown = sorted(set(data) - set(form.fields))
        if unknown:
            raise serializers.ValidationError(
                _("Unknown filters: %(names)s.") % {"names": ", ".join(unknown)}
            )
        if not form.is_valid():
            raise serializers.ValidationError(
                [f"{name}: {message}" for name, errors in form.errors.items() for message in errors]
            )
        return form.to_filter()


class SegmentSerializer(StrictModelSerializer):
    filters = CustomerFiltersField(required=False)
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Segment
        fields = [
            "id",
            "name",
            "description",
            "filters",
            "owner",
            "team",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["owner", "created_at", "updated_at"]


class SegmentViewSet(FieldsMixin, viewsets.ModelViewSet):
    """Segments the caller may see (the visibility rule: their own, their teams', shared)."""

    serializer_class = SegmentSerializer
    filterset_fields = ["owner", "team"]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at"]

    def get_queryset(self):
        return selectors.segment_list_visible(user=self.request.user)

    def perform_create(self, serializer) -> None:
        values = {"filters": CustomerFilter(), **serializer.validated_data}
        serializer.instance = call_service(segment_create, actor=self.request.user, **values)

    def perform_update(self, serializer) -> None:
        serializer.instance = call_service(
            segment_update,
            actor=self.request.user,
            segment=serializer.instance,
            **serializer.validated_data,
        )

    def perform_destroy(self, instance) -> None:
        call_service(segment_delete, actor=self.request.user, segment=instance)

    @extend_schema(responses=CustomerSerializer(many=True), filters=True)
    @action(
        detail=True,
        methods=["get"],
        url_path="customers",
        filter_backends=[CustomerOrdering],
        serializer_class=CustomerSerializer,
        pagination_class=CursorPagination,
    )
    def customers(self, request, pk=None):
        if not request.user.has_perm("customers.view_customer"):
            raise exceptions.PermissionDenied()
        segment = self.get_object()
        try:
            members = selectors.segment_customers_visible(
                user=request.user,
                segment=segment,
                ordering=request.query_params.get("ordering"),
            )
        except ValueError as exc:
            raise exceptions.ValidationError({"filters": [str(exc)]}) from exc
        page = self.paginate_queryset(members.prefetch_related("tags"))
        serializer = CustomerSerializer(page, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(serializer.data)


routes = [("segments", SegmentViewSet, "segment")]
urlpatterns = []
