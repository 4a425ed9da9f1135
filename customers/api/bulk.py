"""POST /api/v1/customers/bulk-upsert/: create or update up to 1,000 customers in one call, by
the CSV import's cleaning and matching rules (customers.services.bulk_upsert).

An explicit path, gathered before the router's, so customers/bulk-upsert/ is not taken for a
customer's detail route.
"""

from collections.abc import Mapping

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.calls import call_service
from crm.api.permissions import ReadOnlyTokenPermission
from crm.api.schema import ErrorSerializer
from crm.api.serializers import StrictSerializer
from customers.api.customers import CustomerSerializer
from customers.importing.rows import KEY_FIELDS
from customers.services.bulk_upsert import (
    BULK_UPSERT_MAX_ITEMS,
    BULK_UPSERT_PERMISSIONS,
    OUTCOMES,
    customer_bulk_upsert,
)


class CanUpsertCustomers(BasePermission):
    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perms(BULK_UPSERT_PERMISSIONS))


class BulkCustomerSerializer(CustomerSerializer):
    """One item, as the customer API writes a customer; owner and team are read-only here."""

    class Meta(CustomerSerializer.Meta):
        read_only_fields = [*CustomerSerializer.Meta.read_only_fields, "owner", "team"]


class CustomerItemsField(serializers.ListField):
    """The items, documented as customers; only the list is checked here, each item is cleaned
    and checked by the service, which answers per item."""

    def to_internal_value(self, data):
        if isinstance(data, (str, Mapping)) or not hasattr(data, "__iter__"):
            self.fail("not_a_list", input_type=type(data).__name__)
        return list(data)


class BulkUpsertRequestSerializer(StrictSerializer):
    customers = CustomerItemsField(
        child=BulkCustomerSerializer(),
        max_length=BULK_UPSERT_MAX_ITEMS,
        help_text=_(
            "Up to 1,000 customers, with the customer API's fields. Values are cleaned as the CSV "
            "import cleans them; a blank or null value leaves the field alone."
        ),
    )
    match_on = serializers.ListField(
        child=serializers.ChoiceField(choices=KEY_FIELDS),
        required=False,
        allow_empty=False,
        help_text=_(
            "The identifying fields a customer is matched on, most trusted first "
            "(default: external_id, email, phone)."
        ),
    )
    dry_run = serializers.BooleanField(
        default=False, help_text=_("Answer what would happen, and write nothing.")
    )


class BulkUpsertCountsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    failed = serializers.IntegerField()


class BulkUpsertItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text=_("The item's position in `customers`, from 0."))
    outcome = serializers.ChoiceField(choices=OUTCOMES)
    id = serializers.IntegerField(
        allow_null=True,
        help_text=_("The customer's id; null when the item failed, or on a dry run's creation."),
    )
    matched_on = serializers.ChoiceField(
        choices=KEY_FIELDS,
        allow_null=True,
        help_text=_("The field that found an existing customer (or an earlier item)."),
    )
    merged_into = serializers.IntegerField(
        allow_null=True,
        help_text=_(
            "The index of an earlier item that is the same customer: this item only filled in "
            "what that customer still lacked."
        ),
    )
    changed_fields = serializers.ListField(child=serializers.CharField())
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("Why the item failed: a field's name to its messages."),
    )
    notes = serializers.ListField(
        child=serializers.CharField(),
        help_text=_(
            "What was not copied or may need a look (a value that belongs to another "
            "customer, a likely duplicate)."
        ),
    )


class BulkUpsertResponseSerializer(serializers.Serializer):
    counts = BulkUpsertCountsSerializer()
    results = BulkUpsertItemResultSerializer(many=True)


REQUEST_EXAMPLE = {
    "customers": [
        {
            "external_id": "shop-1001",
            "name": "Li Wei",
            "email": " Li.Wei@Example.com ",
            "phone": "138 0013 8000",
            "country": "CN",
            "tags": ["newsletter"],
        },
        {"email": "ana@example.com", "city": "Lisbon"},
        {"name": "No Way", "owner": 7},
    ],
    "match_on": ["external_id", "email", "phone"],
    "dry_run": False,
}
RESPONSE_EXAMPLE = {
    "counts": {"created": 1, "updated": 1, "unchanged": 0, "failed": 1},
    "results": [
        {
            "index": 0,
            "outcome": "created",
            "id": 5012,
            "matched_on": None,
            "merged_into": None,
            "changed_fields": [],
            "errors": {},
            "notes": [],
        },
        {
            "index": 1,
            "outcome": "updated",
            "id": 311,
            "matched_on": "email",
            "merged_into": None,
            "changed_fields": ["city"],
            "errors": {},
            "notes": [],
        },
        {
            "index": 2,
            "outcome": "failed",
            "id": None,
            "matched_on": None,
            "merged_into": None,
            "changed_fields": [],
            "errors": {"owner": ["This field is read-only."]},
            "notes": [],
        },
    ],
}


class CustomerBulkUpsertView(APIView):
    permission_classes = [ReadOnlyTokenPermission, CanUpsertCustomers]

    @extend_schema(
        operation_id="customers_bulk_upsert",
        summary="Create or update up to 1,000 customers",
        description=(
            "Each item is cleaned and matched as a row of the CSV import: it is the customer the "
            "caller may edit with the same external id, else email, else phone (or the fields "
            "given in `match_on`); a matched customer takes the item's values, a later item "
            "matching an earlier one fills in only what is still blank. Every item gets its own "
            "result, in order; a failed item writes nothing and does not stop the others. "
            "Needs the permissions to add and to change customers."
        ),
        request=BulkUpsertRequestSerializer,
        responses={200: BulkUpsertResponseSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
        examples=[
            OpenApiExample("Three customers", value=REQUEST_EXAMPLE, request_only=True),
            OpenApiExample(
                "Created, updated and failed",
                value=RESPONSE_EXAMPLE,
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def post(self, request):
        serializer = BulkUpsertRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = call_service(
            customer_bulk_upsert,
            actor=request.user,
            items=data["customers"],
            match_on=data.get("match_on"),
            dry_run=data["dry_run"],
        )
        return Response(BulkUpsertResponseSerializer(result).data)


routes = []
urlpatterns = [
    path(
        "customers/bulk-upsert/",
        CustomerBulkUpsertView.as_view(),
        name="customer-bulk-upsert",
    ),
]
