"""/api/v1/ for receiving mail, for administrators: mailboxes (/mailboxes/, the IMAP password
write-only, with poll) and set-aside mail (/set-aside-emails/, read, with retry and dismiss).

Reads go through the selectors and writes through the services, so the API refuses exactly what
the pages refuse."""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api.calls import ServiceWritesMixin, call_service
from crm.api.fields import FieldsMixin
from crm.api.permissions import ModelPermissions
from crm.api.serializers import NoInputSerializer, StrictModelSerializer
from mail import selectors
from mail.models import InboundSetAside, Mailbox
from mail.services import inbound, mailboxes
from mail.services.mailboxes import MAILBOX_EDITABLE_FIELDS

MAILBOX_EXAMPLE = {
    "id": 2,
    "name": "Support",
    "address": "support@crm.example.com",
    "purpose": "support",
    "team": 1,
    "is_active": True,
    "imap_host": "imap.example.com",
    "imap_port": 993,
    "imap_security": "ssl",
    "imap_username": "support@crm.example.com",
    "imap_folder": "INBOX",
    "imap_last_uid": 1841,
    "last_polled_at": "2025-05-01T09:31:00Z",
    "last_error": "",
    "created_at": "2025-04-01T08:00:00Z",
    "updated_at": "2025-05-01T09:31:00Z",
}


class ChangeOnPostPermissions(ModelPermissions):
    """For actions that act on an existing record through POST."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


class MailboxSerializer(StrictModelSerializer):
    imap_password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text=_("Write-only: never shown; leave out (or blank) to keep the stored one."),
    )

    class Meta:
        model = Mailbox
        fields = [
            "id",
            *MAILBOX_EDITABLE_FIELDS,
            "imap_last_uid",
            "last_polled_at",
            "last_error",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "imap_last_uid",
            "last_polled_at",
            "last_error",
            "created_at",
            "updated_at",
        ]
        # The service checks the address (and its uniqueness) with the rest.
        extra_kwargs = {"address": {"validators": []}}


class MailboxFilter(filters.FilterSet):
    class Meta:
        model = Mailbox
        fields = ["purpose", "is_active", "team"]


@extend_schema_view(
    list=extend_schema(summary=str(_("List the mailboxes the CRM reads"))),
    retrieve=extend_schema(
        summary=str(_("Show a mailbox and where its polling stands")),
        examples=[OpenApiExample("Mailbox", value=MAILBOX_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(summary=str(_("Add a mailbox"))),
    update=extend_schema(summary=str(_("Change a mailbox"))),
    partial_update=extend_schema(summary=str(_("Change some of a mailbox's fields"))),
    destroy=extend_schema(summary=str(_("Delete a mailbox; its mail is kept"))),
)
class MailboxViewSet(FieldsMixin, ServiceWritesMixin, viewsets.ModelViewSet):
    """Mailboxes: the addresses the CRM reads, by IMAP polling and by the providers' inbound
    webhooks. Administrators only; the IMAP password can be written, never read."""

    serializer_class = MailboxSerializer
    filterset_class = MailboxFilter
    search_fields = ["name", "address"]
    ordering_fields = ["name", "address", "last_polled_at"]

    create_service = mailboxes.mailbox_create
    update_service = mailboxes.mailbox_update
    delete_service = mailboxes.mailbox_delete
    record_argument = "mailbox"

    def get_queryset(self):
        return selectors.mailbox_list(user=self.request.user)

    @extend_schema(
        summary=str(_("Poll the mailbox now")),
        description=str(_("Queues a poll; its outcome shows in last_polled_at and last_error.")),
        request=NoInputSerializer,
        responses={202: MailboxSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def poll(self, request, pk=None):
        mailbox = self.get_object()
        NoInputSerializer(data=request.data).is_valid(raise_exception=True)
        call_service(mailboxes.mailbox_poll_request, actor=request.user, mailbox=mailbox)
        return Response(self.get_serializer(mailbox).data, status=status.HTTP_202_ACCEPTED)


class SetAsideSerializer(StrictModelSerializer):
    class Meta:
        model = InboundSetAside
        fields = [
            "id",
            "mailbox",
            "source",
            "reason",
            "detail",
            "message_id",
            "from_address",
            "subject",
            "size",
            "received_at",
            "resolved_at",
            "resolved_by",
        ]
        read_only_fields = fields


class SetAsideRetrySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[inbound.STORED, inbound.DUPLICATE, inbound.SET_ASIDE],
        help_text=_("stored: taken in now; duplicate: taken in before; set_aside: still not."),
    )
    email = serializers.IntegerField(allow_null=True, help_text=_("The stored email's id."))
    set_aside = SetAsideSerializer()


class SetAsideFilter(filters.FilterSet):
    open = filters.BooleanFilter(
        field_name="resolved_at", lookup_expr="isnull", label=_("Still open")
    )

    class Meta:
        model = InboundSetAside
        fields = ["reason", "mailbox", "source"]


@extend_schema_view(
    list=extend_schema(summary=str(_("Received mail that could not be taken in, open first"))),
    retrieve=extend_schema(summary=str(_("One set-aside message"))),
)
class SetAsideViewSet(FieldsMixin, viewsets.ReadOnlyModelViewSet):
    """Received mail kept aside with the reason (too large, unreadable, no sender, failed on
    the way in). Administrators only; the raw message is downloaded from its page."""

    serializer_class = SetAsideSerializer
    filterset_class = SetAsideFilter
    search_fields = ["subject", "from_address", "message_id"]
    ordering_fields = ["received_at"]

    def get_queryset(self):
        return selectors.set_aside_list(user=self.request.user)

    @extend_schema(
        summary=str(_("Try to take the message in again")),
        request=NoInputSerializer,
        responses=SetAsideRetrySerializer,
    )
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def retry(self, request, pk=None):
        item = self.get_object()
        NoInputSerializer(data=request.data).is_valid(raise_exception=True)
        outcome = call_service(inbound.inbound_set_aside_retry, actor=request.user, item=item)
        item = self.get_queryset().get(pk=item.pk)
        return Response(
            {
                "status": outcome.status,
                "email": outcome.message.pk if outcome.message is not None else None,
                "set_aside": self.get_serializer(item).data,
            }
        )

    @extend_schema(
        summary=str(_("Mark the message dealt with, without taking it in")),
        request=NoInputSerializer,
        responses=SetAsideSerializer,
    )
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def dismiss(self, request, pk=None):
        item = self.get_object()
        NoInputSerializer(data=request.data).is_valid(raise_exception=True)
        call_service(inbound.inbound_set_aside_dismiss, actor=request.user, item=item)
        return Response(self.get_serializer(self.get_queryset().get(pk=item.pk)).data)
