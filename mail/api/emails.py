"""/api/v1/emails/: the mail the caller may see (through its customer), and sending one.

POST sends through `mail.services.outbound.email_send`, the compose page's service: the mail is
stored as queued with its interaction and delivered by a worker, so the answer (201) says
`queued`; follow the status with GET. JSON, or multipart/form-data to attach files."""

from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from crm.api.calls import call_service
from crm.api.fields import FieldsMixin
from crm.api.pagination import CursorPagination
from crm.api.serializers import StrictSerializer, representation_json
from customers.api.records import ContentTypeField, VisibleCustomerField
from mail import selectors
from mail.models import EmailAttachment, EmailMessage, EmailTemplate
from mail.services.outbound import email_send

EMAIL_EXAMPLE = {
    "id": 42,
    "direction": "outbound",
    "status": "sent",
    "kind": "personal",
    "message_id": "<171234.5678.1@crm.example.com>",
    "in_reply_to": "",
    "from_address": "sales@crm.example.com",
    "from_name": "Riley Chen",
    "to_addresses": ["li.na@example.com"],
    "cc_addresses": [],
    "subject": "Your quote for Fleet renewal [#D17-3f9a2c]",
    "body_text": "Dear Li Na, ...",
    "customer": 7,
    "related_type": "sales.deal",
    "related_id": 17,
    "template": 3,
    "sent_by": 5,
    "attempts": 1,
    "next_attempt_at": None,
    "last_error": "",
    "sent_at": "2025-05-01T09:30:05Z",
    "received_at": None,
    "opened_at": None,
    "open_count": 0,
    "clicked_at": None,
    "click_count": 0,
    "bounced_at": None,
    "created_at": "2025-05-01T09:30:00Z",
    "attachments": [],
}


class EmailAttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(
        help_text=_("Where to download the file (the same visibility rule applies).")
    )

    class Meta:
        model = EmailAttachment
        fields = ["id", "name", "size", "content_type", "url"]
        read_only_fields = fields

    def get_url(self, attachment: EmailAttachment) -> str:
        return reverse("mail:attachment_download", args=[attachment.pk])


# The addresses are customers' emails: hidden with the customer's email (field rules).
ADDRESS_FIELDS = frozenset({"from_address", "to_addresses", "cc_addresses"})


def email_fields_hidden(user) -> frozenset[str]:
    """The fields of an email `user` may not see, in the API and in webhook payloads alike."""
    return frozenset() if selectors.email_addresses_visible(user=user) else ADDRESS_FIELDS


class EmailMessageSerializer(serializers.ModelSerializer):
    """An email as stored. Received HTML is left out: it is never shown, only its text."""

    related_type = ContentTypeField(read_only=True)
    attachments = EmailAttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = EmailMessage
        fields = [
            "id",
            "direction",
            "status",
            "kind",
            "message_id",
            "in_reply_to",
            "from_address",
            "from_name",
            "to_addresses",
            "cc_addresses",
            "subject",
            "body_text",
            "customer",
            "related_type",
            "related_id",
            "template",
            "sent_by",
            "attempts",
            "next_attempt_at",
            "last_error",
            "sent_at",
            "received_at",
            "opened_at",
            "open_count",
            "clicked_at",
            "click_count",
            "bounced_at",
            "created_at",
            "attachments",
        ]
        read_only_fields = fields

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            for name in email_fields_hidden(request.user):
                fields.pop(name, None)
        return fields


def _addresses_field(**kwargs) -> serializers.ListField:
    # Checked by the service, which names every bad address under the field.
    return serializers.ListField(child=serializers.CharField(max_length=320), **kwargs)


class EmailSendSerializer(StrictSerializer):
    to = _addresses_field(help_text=_("Recipients' addresses."))
    cc = _addresses_field(required=False, default=list)
    subject = serializers.CharField(max_length=300)
    body = serializers.CharField(help_text=_("The text; the HTML version is made from it."))
    customer = VisibleCustomerField(
        required=False,
        allow_null=True,
        pk_field=serializers.IntegerField(),
        help_text=_("The customer the mail is about; a deal's or ticket's by default."),
    )
    deal = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("Send from this deal: the subject gets its reply token, replies thread."),
    )
    ticket = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("Send from this ticket: the mail is its public reply."),
    )
    template = serializers.PrimaryKeyRelatedField(
        queryset=EmailTemplate.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text=_("The template the text was written from, recorded with the mail."),
    )
    signature = serializers.BooleanField(
        default=True, help_text=_("Add the sender's signature below the text.")
    )
    attachments = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        help_text=_("Files to attach (multipart/form-data only); at most 10 MB each."),
    )

    def validate(self, attrs):
        named = [context for context in ("deal", "ticket") if attrs.get(context)]
        if len(named) > 1:
            raise serializers.ValidationError(
                {"ticket": [_("Send from a deal or from a ticket, not both.")]}
            )
        if not named and not attrs.get("customer"):
            raise serializers.ValidationError(
                {"customer": [_("Say which customer, deal or ticket the mail is about.")]}
            )
        if named:
            context = named[0]
            try:
                attrs["record"] = selectors.mail_record_get_visible(
                    user=self.context["request"].user, context=context, pk=attrs.pop(context)
                )
            except ObjectDoesNotExist as exc:
                raise serializers.ValidationError(
                    {context: [_("No such record, or one you may not see.")]}
                ) from exc
        return attrs


class EmailMessageFilter(filters.FilterSet):
    class Meta:
        model = EmailMessage
        fields = ["direction", "status", "kind", "customer"]


class EmailCursorPagination(CursorPagination):
    ordering = ("-created_at", "-id")


def email_payload(message: EmailMessage) -> dict:
    """The email as GET /api/v1/emails/{id}/ shows it: the record of its webhook events, read
    afresh so it shows the committed change (only its id once it is gone)."""
    fresh = (
        EmailMessage.objects.filter(pk=message.pk)
        .select_related("customer", "sent_by")
        .prefetch_related("attachments")
        .first()
    )
    return representation_json(EmailMessageSerializer(fresh).data) if fresh else {"id": message.pk}


@extend_schema_view(
    list=extend_schema(summary=str(_("The email you may see, newest first"))),
    retrieve=extend_schema(
        summary=str(_("One email, with its delivery, opens and clicks")),
        examples=[OpenApiExample("Email", value=EMAIL_EXAMPLE, response_only=True)],
    ),
)
class EmailMessageViewSet(
    FieldsMixin,
    mixins.CreateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Email sent and received, visible through its customer: another team's customer's mail
    answers 404 as if it did not exist."""

    serializer_class = EmailMessageSerializer
    filterset_class = EmailMessageFilter
    search_fields = ["subject", "from_address"]
    ordering_fields = ["created_at"]
    pagination_class = EmailCursorPagination
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        return selectors.email_list_visible(user=self.request.user).prefetch_related("attachments")

    def get_serializer_class(self):
        return EmailSendSerializer if self.action == "create" else EmailMessageSerializer

    @extend_schema(
        summary=str(_("Send an email")),
        description=str(
            _(
                "Queues the mail and answers at once with it, `queued`; a worker delivers it, "
                "trying again later when the mail server is unreachable."
            )
        ),
        request=EmailSendSerializer,
        responses={201: EmailMessageSerializer},
        examples=[
            OpenApiExample(
                "From a deal",
                value={
                    "to": ["li.na@example.com"],
                    "subject": "Your quote",
                    "body": "Dear Li Na, please find our quote.",
                    "deal": 17,
                },
                request_only=True,
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        serializer = EmailSendSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        message = call_service(email_send, actor=request.user, **serializer.validated_data)
        message = self.get_queryset().get(pk=message.pk)
        return Response(
            EmailMessageSerializer(message, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )
