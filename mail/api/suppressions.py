"""/api/v1/suppressed-addresses/, for administrators: the addresses mail no longer goes to (list,
read, add one, take one off). Providers' bounce and complaint reports add most of them.

Reads go through the selectors and writes through the services, so the API refuses exactly what
the pages refuse."""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from crm.api.calls import ServiceWritesMixin
from crm.api.fields import FieldsMixin
from crm.api.pagination import CursorPagination
from crm.api.serializers import StrictModelSerializer
from mail import selectors
from mail.models import SuppressedAddress
from mail.services import suppressions

SUPPRESSED_EXAMPLE = {
    "id": 12,
    "address": "old.mailbox@example.com",
    "reason": "bounced",
    "detail": "The server was unable to deliver your message (ex: unknown user, mailbox not "
    "found).",
    "provider": "Postmark",
    "event_id": "4323372036854775807",
    "created_at": "2025-05-01T09:30:00Z",
    "updated_at": "2025-05-01T09:30:00Z",
}


class SuppressedAddressSerializer(StrictModelSerializer):
    class Meta:
        model = SuppressedAddress
        fields = [
            "id",
            "address",
            "reason",
            "detail",
            "provider",
            "event_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "provider", "event_id", "created_at", "updated_at"]


class SuppressedAddressFilter(filters.FilterSet):
    class Meta:
        model = SuppressedAddress
        fields = ["reason", "provider"]


@extend_schema_view(
    list=extend_schema(summary=str(_("List the suppressed addresses, newest first"))),
    retrieve=extend_schema(
        summary=str(_("Show a suppressed address and why")),
        examples=[OpenApiExample("Suppressed", value=SUPPRESSED_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        summary=str(_("Suppress an address: no more mail goes to it")),
        examples=[
            OpenApiExample(
                "Suppress",
                value={"address": "old.mailbox@example.com", "reason": "bounced"},
                request_only=True,
            ),
            OpenApiExample(
                "Suppressed", value=SUPPRESSED_EXAMPLE, response_only=True, status_codes=["201"]
            ),
        ],
    ),
    destroy=extend_schema(summary=str(_("Take an address off the list: mail may go to it again"))),
)
class SuppressedAddressViewSet(
    FieldsMixin,
    ServiceWritesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Addresses the CRM sends no campaign mail to (and warns about in one-to-one mail): they
    bounced, were rejected, or marked our mail as spam. Administrators only."""

    serializer_class = SuppressedAddressSerializer
    pagination_class = CursorPagination
    ordering = ("-created_at", "-id")
    filterset_class = SuppressedAddressFilter
    search_fields = ["address", "detail"]
    ordering_fields = ["created_at", "address"]

    create_service = suppressions.address_suppress
    delete_service = suppressions.address_unsuppress
    record_argument = "suppressed"

    def get_queryset(self):
        return selectors.suppressed_address_list(user=self.request.user)
