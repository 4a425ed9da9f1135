"""/api/v1/ endpoints for likely duplicates, merging, and privacy requests (export, erasure).

These are explicit paths, gathered before the router's, so customers/duplicates/ is not taken
for a customer's detail route.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from crm.api.fields import FieldsMixin
from crm.api.permissions import ModelPermissions
from crm.api.schema import ErrorSerializer
from crm.api.serializers import StrictModelSerializer
from customers.api.customers import CustomerSerializer
from customers.models import Customer, CustomerMerge, PrivacyRequest
from customers.selectors import duplicates as duplicate_selectors
from customers.selectors.customers import customer_get_visible
from customers.selectors.privacy import privacy_request_list_visible
from customers.services.merge import KEPT, MERGE_FIELDS, MERGE_PERMISSION, MERGED, customer_merge
from customers.services.privacy import (
    ERASE_PERMISSION,
    EXPORT_PERMISSION,
    customer_erase,
    customer_personal_data_export,
)

MAX_DUPLICATE_PAGE_SIZE = 100


class _RequiresPermission(BasePermission):
    permission = ""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.has_perm(self.permission))


def requires(permission: str) -> type[BasePermission]:
    """A DRF permission class granting the views whose callers hold `permission`."""
    return type(
        f"Requires{permission.title().replace('.', '').replace('_', '')}",
        (_RequiresPermission,),
        {"permission": permission},
    )


ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}


def _api_error(exc: DjangoValidationError) -> ValidationError:
    if hasattr(exc, "error_dict"):
        detail = exc.message_dict
        if "__all__" in detail:
            detail["non_field_errors"] = detail.pop("__all__")
        return ValidationError(detail)
    return ValidationError({"non_field_errors": exc.messages})


def _visible_customer(request, pk: int) -> Customer:
    try:
        return customer_get_visible(user=request.user, pk=pk)
    except Customer.DoesNotExist as exc:
        raise NotFound() from exc


class DuplicateQuerySerializer(serializers.Serializer):
    rule = serializers.ChoiceField(
        choices=duplicate_selectors.RULES, required=False, allow_blank=True, default=""
    )
    cursor = serializers.CharField(required=False, allow_blank=True, default="")
    page_size = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_DUPLICATE_PAGE_SIZE,
        default=duplicate_selectors.DEFAULT_PAGE_SIZE,
    )


class DuplicateGroupSerializer(serializers.Serializer):
    rule = serializers.ChoiceField(choices=duplicate_selectors.RULES)
    key = serializers.CharField(help_text="The shared email or phone, or the normalised name.")
    size = serializers.IntegerField(help_text="Visible customers in the group.")
    customers = CustomerSerializer(
        many=True, help_text=f"The first {duplicate_selectors.MEMBERS_SHOWN} by id."
    )


class DuplicatePageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    results = DuplicateGroupSerializer(many=True)


class DuplicateGroupListView(FieldsMixin, APIView):
    permission_classes = [requires("customers.view_customer")]

    @extend_schema(
        operation_id="customers_duplicates_list",
        summary="Likely duplicate customers",
        description=(
            "Groups of visible customers with the same email, the same phone, or similar names "
            "at the same company, in that order. Paged by position: follow `next`."
        ),
        parameters=[
            OpenApiParameter("rule", str, enum=list(duplicate_selectors.RULES)),
            OpenApiParameter("cursor", str, description="The position given in `next`."),
            OpenApiParameter("page_size", int),
        ],
        responses={200: DuplicatePageSerializer, **ERRORS},
    )
    def get(self, request):
        query = DuplicateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            page = duplicate_selectors.duplicate_groups_visible(
                user=request.user,
                rule=query.validated_data["rule"],
                cursor=query.validated_data["cursor"],
                limit=query.validated_data["page_size"],
            )
        except duplicate_selectors.DuplicateQueryError as exc:
            raise ValidationError({"cursor": [str(exc)]}) from exc
        next_url = (
            replace_query_param(request.build_absolute_uri(), "cursor", page.next_cursor)
            if page.next_cursor
            else None
        )
        body = {"next": next_url, "results": page.groups}
        return Response(DuplicatePageSerializer(body, context={"request": request}).data)


class MergeRequestSerializer(StrictModelSerializer):
    # Strict about unknown keys like every write; the model only names what is being created.
    merged = serializers.IntegerField(help_text="Id of the customer merged into this one.")
    fields = serializers.DictField(
        child=serializers.ChoiceField(choices=[KEPT, MERGED]),
        required=False,
        default=dict,
        help_text=(
            "Whose value to keep, per field, among: "
            + ", ".join(MERGE_FIELDS)
            + ". Blank fields of the kept customer are filled from the merged one anyway."
        ),
    )

    class Meta:
        model = CustomerMerge
        fields = ["merged", "fields"]


class CustomerMergeView(FieldsMixin, APIView):
    permission_classes = [requires(MERGE_PERMISSION)]

    @extend_schema(
        operation_id="customers_merge",
        summary="Merge a customer into this one",
        description=(
            "Moves every related record of `merged` (orders, interactions, needs, "
            "relationships, tags, shares, deals, tickets) to this customer, records the merge "
            "and deletes `merged`."
        ),
        request=MergeRequestSerializer,
        responses={200: CustomerSerializer, **ERRORS},
    )
    def post(self, request, pk: int):
        kept = _visible_customer(request, pk)
        body = MergeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        merged = _visible_customer(request, body.validated_data["merged"])
        try:
            merge = customer_merge(
                actor=request.user,
                kept=kept,
                merged=merged,
                field_choices=body.validated_data["fields"],
            )
        except Customer.DoesNotExist as exc:
            raise NotFound() from exc
        except DjangoValidationError as exc:
            raise _api_error(exc) from exc
        kept = customer_get_visible(user=request.user, pk=merge.kept_id)
        return Response(CustomerSerializer(kept, context={"request": request}).data)


class CustomerPersonalDataView(FieldsMixin, APIView):
    permission_classes = [requires(EXPORT_PERMISSION)]

    @extend_schema(
        operation_id="customers_personal_data",
        summary="Export everything held about a customer",
        description=(
            "Profile, company, tags, orders with lines, interactions, needs, relationships, "
            "merges, privacy requests and a section per app holding more. Every call is "
            "recorded as a privacy request."
        ),
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request, pk: int):
        customer = _visible_customer(request, pk)
        return Response(customer_personal_data_export(actor=request.user, customer=customer))


class PrivacyRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = PrivacyRequest
        fields = [
            "id",
            "customer",
            "customer_reference",
            "kind",
            "requested_by",
            "reason",
            "created_at",
        ]
        read_only_fields = fields


class EraseRequestSerializer(StrictModelSerializer):
    class Meta:
        model = PrivacyRequest
        fields = ["reason"]
        extra_kwargs = {"reason": {"required": True, "allow_blank": False}}


class CustomerEraseView(FieldsMixin, APIView):
    permission_classes = [requires(ERASE_PERMISSION)]

    @extend_schema(
        operation_id="customers_erase",
        summary="Erase a customer's personal data",
        description=(
            "Anonymises the customer for good, keeping orders, totals, city and country; "
            "refused for a customer already erased. Answers with the recorded request."
        ),
        request=EraseRequestSerializer,
        responses={200: PrivacyRequestSerializer, **ERRORS},
    )
    def post(self, request, pk: int):
        customer = _visible_customer(request, pk)
        body = EraseRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            privacy_request = customer_erase(
                actor=request.user, customer=customer, reason=body.validated_data["reason"]
            )
        except DjangoValidationError as exc:
            raise _api_error(exc) from exc
        return Response(PrivacyRequestSerializer(privacy_request).data)


@extend_schema_view(
    get=extend_schema(
        operation_id="privacy_requests_list",
        summary="Privacy requests carried out",
        description="The audit trail of exports and erasures, newest first.",
    )
)
class PrivacyRequestListView(FieldsMixin, generics.ListAPIView):
    permission_classes = [ModelPermissions, requires(EXPORT_PERMISSION)]
    serializer_class = PrivacyRequestSerializer
    filterset_fields = ["customer", "kind", "requested_by"]
    ordering_fields = ["created_at"]
    search_fields = ["customer_reference", "reason"]

    def get_queryset(self):
        return privacy_request_list_visible(user=self.request.user)


routes = []
urlpatterns = [
    path(
        "customers/duplicates/",
        DuplicateGroupListView.as_view(),
        name="api-customer-duplicates",
    ),
    path("customers/<int:pk>/merge/", CustomerMergeView.as_view(), name="api-customer-merge"),
    path(
        "customers/<int:pk>/personal-data/",
        CustomerPersonalDataView.as_view(),
        name="api-customer-personal-data",
    ),
    path("customers/<int:pk>/erase/", CustomerEraseView.as_view(), name="api-customer-erase"),
    path("privacy-requests/", PrivacyRequestListView.as_view(), name="api-privacy-requests"),
]
