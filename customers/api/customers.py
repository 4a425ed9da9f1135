"""/api/v1/customers/ and /api/v1/companies/: read, create, update and delete, with the customer
list page's filters, search and ordering, and GET /api/v1/customers/export/ for a filtered list
as CSV."""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.handlers.asgi import ASGIRequest
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import BaseFilterBackend, OrderingFilter, SearchFilter
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from crm.accounts.api import TeamSummarySerializer, UserSummarySerializer
from crm.accounts.field_security import field_access
from crm.accounts.models import Team
from crm.accounts.selectors import user_list_active
from crm.api.calls import call_service
from crm.api.fields import ExpandableSerializerMixin, FieldsMixin
from crm.api.pagination import CursorPagination, PageNumberPagination
from crm.api.permissions import ModelPermissions
from crm.api.serializers import (
    SecuredModelSerializer,
    StrictModelSerializer,
    representation_json,
)
from crm.replicas import replica_reads_when
from customers.forms import CustomerApiFilterForm
from customers.models import Company, Customer
from customers.selectors import customers as selectors
from customers.services.customers import (
    COMPANY_EDITABLE_FIELDS,
    CUSTOMER_EDITABLE_FIELDS,
    CUSTOMER_SENSITIVE_FIELDS,
    company_create,
    company_delete,
    company_update,
    customer_create,
    customer_delete,
    customer_update,
)
from customers.services.export import (
    EXPORT_PERMISSION,
    EXPORT_ROW_LIMIT,
    ExportTooLarge,
    customer_export_response,
)


def form_errors(form) -> exceptions.ValidationError:
    return exceptions.ValidationError(
        {
            ("non_field_errors" if name == NON_FIELD_ERRORS else name): list(messages)
            for name, messages in form.errors.items()
        }
    )


class CappedPageNumberPagination(PageNumberPagination):
    """Pages whose `count` stops at 10,000 (see CappedPaginator); `count_is_exact` says whether
    it did. Past the cap, narrow the filters or export."""

    django_paginator_class = selectors.CappedPaginator

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "count_is_exact": self.page.paginator.count_is_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["count_is_exact"] = {
            "type": "boolean",
            "description": "False when there are more rows than `count` (10,000).",
        }
        paginated["required"].append("count_is_exact")
        return paginated


class TagNamesField(serializers.ListField):
    child = serializers.CharField(max_length=50)

    def to_representation(self, value):
        return [tag.name for tag in value.all()]


class CompanySummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Company
        fields = ["id", "name"]
        read_only_fields = fields


class CustomerSummarySerializer(SecuredModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "email"]
        read_only_fields = fields


class CustomerSerializer(ExpandableSerializerMixin, StrictModelSerializer):
    age = serializers.IntegerField(read_only=True, allow_null=True)
    tags = TagNamesField(required=False)

    expandable_fields = {
        "company": CompanySummarySerializer,
        "owner": UserSummarySerializer,
        "team": TeamSummarySerializer,
    }

    class Meta:
        model = Customer
        fields = [
            "id",
            *CUSTOMER_EDITABLE_FIELDS,
            *CUSTOMER_SENSITIVE_FIELDS,
            "age",
            "tags",
            "marketing_consent_at",
            "order_count",
            "total_spend",
            "last_contact_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "marketing_consent_at",
            "order_count",
            "total_spend",
            "last_contact_at",
            "created_at",
            "updated_at",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "company" in self.fields:
            self.fields["company"].queryset = selectors.company_list_visible(user=request.user)
            self.fields["owner"].queryset = user_list_active()


def customer_payload(customer: Customer) -> dict:
    """The customer as GET /api/v1/customers/{id}/ shows it: the record of its webhook events,
    read afresh so it shows the committed change (only its id once it is gone).

    The encrypted fields are left out: the delivery log keeps payloads in clear, and they would
    leave the CRM for whatever URL a subscription names."""
    fresh = (
        Customer.objects.select_related("company", "owner", "team")
        .prefetch_related("tags")
        .filter(pk=customer.pk)
        .first()
    )
    if fresh is None:
        return {"id": customer.pk}
    payload = representation_json(CustomerSerializer(fresh).data)
    for name in CUSTOMER_SENSITIVE_FIELDS:
        payload.pop(name, None)
    return payload


class CustomerFilterSet(filters.FilterSet):
    """The customer list page's filters, for the API.

    Values are validated by the list page's form (CustomerApiFilterForm) and applied by the same
    selector (`customer_list_filter`); the filters below declare the parameters for the schema.
    """

    search = filters.CharFilter(
        label=_("Name, email, phone (any format) or company name contain this")
    )
    status = filters.MultipleChoiceFilter(choices=Customer.Status.choices)
    tier = filters.MultipleChoiceFilter(choices=Customer.Tier.choices)
    owner = filters.NumberFilter(label=_("Owner id"))
    team = filters.NumberFilter(label=_("Team id"))
    tag = filters.CharFilter(label=_("Tag name; repeat for any of several"))
    city = filters.CharFilter(label=_("City, exactly"))
    # On the birthday, so that a rule hiding it drops these too.
    age_min = filters.NumberFilter(field_name="birthday")
    age_max = filters.NumberFilter(field_name="birthday")
    spend_min = filters.NumberFilter(label=_("Total spend at least"))
    spend_max = filters.NumberFilter(label=_("Total spend at most"))
    contacted_after = filters.DateFilter(label=_("Last contact on or after"))
    contacted_before = filters.DateFilter(label=_("Last contact before"))
    never_contacted = filters.BooleanFilter()
    company = filters.NumberFilter(label=_("Company id"))

    class Meta:
        model = Customer
        fields = []

    @property
    def form(self):
        if not hasattr(self, "_form"):
            data = self.data if self.is_bound else None
            self._form = CustomerApiFilterForm(data, user=self.request.user)
        return self._form

    def filter_queryset(self, queryset):
        return selectors.customer_list_filter(
            queryset=queryset,
            filters=self.form.to_filter(),
            hidden=field_access(user=self.request.user, model=Customer).hidden,
        )


class CustomerOrdering(BaseFilterBackend):
    """`ordering=` with the list page's keys (`-` for descending), for the cursor pagination to
    follow; other values sort by name."""

    orderings = list(selectors.CUSTOMER_ORDERINGS)

    def get_ordering(self, request, queryset, view) -> tuple[str, ...]:
        ordering = request.query_params.get("ordering")
        return (ordering if ordering in self.orderings else selectors.DEFAULT_ORDERING,)

    def filter_queryset(self, request, queryset, view):
        return queryset

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "ordering",
                "required": False,
                "in": "query",
                "description": str(_("Sort order; unknown values sort by name.")),
                "schema": {"type": "string", "enum": self.orderings},
            }
        ]


class CanExportCustomers(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.user.has_perm(EXPORT_PERMISSION)


class ExportTooLargeError(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "export_too_large"


NEW_CUSTOMER_EXAMPLE = OpenApiExample(
    "A new lead",
    value={
        "name": "Li Wei",
        "email": "li.wei@example.com",
        "phone": "+86 138 0013 8000",
        "city": "Shanghai",
        "company": 12,
        "job_title": "Purchasing manager",
        "source": "referral",
        "status": "lead",
        "tier": "normal",
        "marketing_consent": True,
        "tags": ["trade-fair-2026"],
        "external_id": "ERP-100234",
    },
    request_only=True,
)
CUSTOMER_CHANGE_EXAMPLE = OpenApiExample(
    "Promote to VIP and hand over",
    value={"status": "customer", "tier": "vip", "owner": 7, "tags": ["vip", "shanghai"]},
    request_only=True,
)


@extend_schema_view(
    create=extend_schema(examples=[NEW_CUSTOMER_EXAMPLE]),
    update=extend_schema(examples=[NEW_CUSTOMER_EXAMPLE]),
    partial_update=extend_schema(examples=[CUSTOMER_CHANGE_EXAMPLE]),
)
class CustomerViewSet(FieldsMixin, viewsets.ModelViewSet):
    """Customers the caller may see. Writes go through the customer services, which clean and
    validate every value the way the browser's forms do."""

    serializer_class = CustomerSerializer
    filterset_class = CustomerFilterSet
    filter_backends = [filters.DjangoFilterBackend, CustomerOrdering]
    pagination_class = CursorPagination

    def get_queryset(self):
        return selectors.customer_list_visible(user=self.request.user).prefetch_related("tags")

    def list(self, request, *args, **kwargs):
        # A search reads a replica when there is one.
        with replica_reads_when(bool(request.query_params.get("search", "").strip())):
            return super().list(request, *args, **kwargs)

    def perform_create(self, serializer) -> None:
        serializer.instance = call_service(
            customer_create, actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer) -> None:
        serializer.instance = call_service(
            customer_update,
            actor=self.request.user,
            customer=serializer.instance,
            **serializer.validated_data,
        )

    def perform_destroy(self, instance) -> None:
        call_service(customer_delete, actor=self.request.user, customer=instance)

    def perform_content_negotiation(self, request, force=False):
        # The export answers CSV whatever the Accept header says; its errors are JSON.
        return super().perform_content_negotiation(request, force=force or self.action == "export")

    @extend_schema(
        filters=True,
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
        description=(
            f"The filtered list as CSV, in the requested order, up to {EXPORT_ROW_LIMIT:,} "
            "rows; a larger list is refused (export_too_large). Needs the export permission."
        ),
    )
    @action(
        detail=False,
        methods=["get"],
        permission_classes=[ModelPermissions, CanExportCustomers],
        pagination_class=None,
    )
    def export(self, request):
        form = CustomerApiFilterForm(request.query_params, user=request.user)
        if not form.is_valid():
            raise form_errors(form)
        try:
            return customer_export_response(
                user=request.user,
                filters=form.to_filter(),
                ordering=selectors.customer_ordering(request.query_params.get("ordering")),
                asynchronous=isinstance(request._request, ASGIRequest),
            )
        except ExportTooLarge as exc:
            raise ExportTooLargeError(str(exc)) from exc


class CompanySerializer(StrictModelSerializer):
    class Meta:
        model = Company
        fields = ["id", *COMPANY_EDITABLE_FIELDS, "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "owner" in self.fields:
            self.fields["owner"].queryset = user_list_active()
            self.fields["team"].queryset = Team.objects.all()


class CompanyViewSet(FieldsMixin, viewsets.ModelViewSet):
    serializer_class = CompanySerializer
    filter_backends = [filters.DjangoFilterBackend, SearchFilter, OrderingFilter]
    filterset_fields = ["industry", "size", "city", "country", "owner", "team"]
    search_fields = ["name", "city", "website"]
    ordering_fields = ["name", "created_at"]
    pagination_class = CursorPagination

    def get_queryset(self):
        return selectors.company_list_visible(user=self.request.user)

    def perform_create(self, serializer) -> None:
        serializer.instance = call_service(
            company_create, actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer) -> None:
        serializer.instance = call_service(
            company_update,
            actor=self.request.user,
            company=serializer.instance,
            **serializer.validated_data,
        )

    def perform_destroy(self, instance) -> None:
        call_service(company_delete, actor=self.request.user, company=instance)


routes = [
    ("customers", CustomerViewSet, "customer"),
    ("companies", CompanyViewSet, "company"),
]
urlpatterns = []
