"""/api/v1/ for webhooks: subscriptions (/webhooks/, with rotate-secret, enable, ping and their
deliveries), the delivery log (/webhook-deliveries/, attempts nested, with redeliver) and the
event catalogue (/webhook-events/).

Reads go through the selectors and writes through the services, so the API refuses exactly what
the webhook pages refuse (an address that is not public, an unknown event)."""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.accounts.selectors import user_is_admin
from crm.api.calls import ServiceWritesMixin, call_service
from crm.api.fields import FieldsMixin
from crm.api.permissions import ModelPermissions
from crm.api.serializers import StrictModelSerializer
from crm.webhooks import selectors, services
from crm.webhooks.events import EVENTS
from crm.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

SUBSCRIPTION_EXAMPLE = {
    "id": 7,
    "name": "ERP sync",
    "target_url": "https://erp.example.com/hooks/crm",
    "events": ["customer.created", "deal.won"],
    "is_active": True,
    "allow_private_network": False,
    "owner": 3,
    "consecutive_failures": 0,
    "disabled_at": None,
    "disabled_reason": "",
    "created_at": "2025-05-01T09:30:00Z",
    "updated_at": "2025-05-01T09:30:00Z",
}
SECRET_EXAMPLE = "5f0c2e9a" * 8


class ChangeOnPostPermissions(ModelPermissions):
    """For actions that change an existing subscription through POST."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


class MayChangeSubscriptions(permissions.BasePermission):
    """Redelivering acts on the subscription, so it takes the permission to change one."""

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("webhooks.change_webhooksubscription")


class WebhookSubscriptionSerializer(StrictModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(EVENTS.items())),
        allow_empty=False,
        help_text=_("The events to receive; GET /api/v1/webhook-events/ lists them."),
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "name",
            "target_url",
            "events",
            "is_active",
            "allow_private_network",
            "owner",
            "consecutive_failures",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "owner",
            "consecutive_failures",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        # Only an administrator may let a webhook call private addresses.
        if request is None or not user_is_admin(request.user):
            fields["allow_private_network"].read_only = True
        return fields


class WebhookSubscriptionWithSecretSerializer(WebhookSubscriptionSerializer):
    """A subscription with its signing secret: answered on create and on rotate-secret only."""

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]
        read_only_fields = [*WebhookSubscriptionSerializer.Meta.read_only_fields, "secret"]


class WebhookAttemptSerializer(StrictModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = [
            "number",
            "attempted_at",
            "status_code",
            "error",
            "response_excerpt",
            "duration_ms",
        ]
        read_only_fields = fields


class WebhookDeliverySerializer(StrictModelSerializer):
    attempts = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "subscription",
            "event",
            "event_id",
            "payload",
            "status",
            "attempt_count",
            "next_attempt_at",
            "last_status_code",
            "created_at",
            "delivered_at",
            "attempts",
        ]
        read_only_fields = fields


class WebhookEventSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()


class WebhookSubscriptionFilter(filters.FilterSet):
    class Meta:
        model = WebhookSubscription
        fields = ["is_active"]


@extend_schema_view(
    list=extend_schema(summary=str(_("List your webhooks (an admin sees everyone's)"))),
    retrieve=extend_schema(summary=str(_("Show a webhook"))),
    update=extend_schema(
        summary=str(_("Change a webhook")),
        examples=[OpenApiExample("Subscription", value=SUBSCRIPTION_EXAMPLE, response_only=True)],
    ),
    partial_update=extend_schema(summary=str(_("Change some of a webhook's fields"))),
    destroy=extend_schema(summary=str(_("Delete a webhook and its delivery log"))),
)
class WebhookSubscriptionViewSet(FieldsMixin, ServiceWritesMixin, viewsets.ModelViewSet):
    """Webhooks: the events POSTed, signed, to a URL of the caller's. The target must resolve to
    public addresses; only an admin may set `allow_private_network`."""

    serializer_class = WebhookSubscriptionSerializer
    filterset_class = WebhookSubscriptionFilter
    search_fields = ["name", "target_url"]
    ordering_fields = ["name", "created_at"]

    create_service = services.webhook_subscription_create
    update_service = services.webhook_subscription_update
    delete_service = services.webhook_subscription_delete
    record_argument = "subscription"

    def get_queryset(self):
        return selectors.webhook_subscription_list_visible(user=self.request.user)

    def _with_secret(self, subscription: WebhookSubscription) -> dict:
        return WebhookSubscriptionWithSecretSerializer(
            subscription, context=self.get_serializer_context()
        ).data

    @extend_schema(
        summary=str(_("Create a webhook")),
        description=str(
            _("The answer carries the signing `secret`; it is not shown again by reads.")
        ),
        responses={201: WebhookSubscriptionWithSecretSerializer},
        examples=[
            OpenApiExample(
                "New subscription",
                value={
                    "name": "ERP sync",
                    "target_url": "https://erp.example.com/hooks/crm",
                    "events": ["customer.created", "deal.won"],
                },
                request_only=True,
            ),
            OpenApiExample(
                "Created",
                value={**SUBSCRIPTION_EXAMPLE, "secret": SECRET_EXAMPLE},
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        body = self._with_secret(serializer.instance)
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=str(_("Replace the signing secret")),
        request=None,
        responses=WebhookSubscriptionWithSecretSerializer,
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="rotate-secret",
        permission_classes=[ChangeOnPostPermissions],
    )
    def rotate_secret(self, request, pk=None):
        subscription = self.get_object()
        call_service(services.webhook_secret_rotate, actor=request.user, subscription=subscription)
        return Response(self._with_secret(subscription))

    @extend_schema(
        summary=str(_("Switch a webhook on again, clearing its failures in a row")),
        request=None,
        responses=WebhookSubscriptionSerializer,
    )
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def enable(self, request, pk=None):
        subscription = self.get_object()
        call_service(
            services.webhook_subscription_enable, actor=request.user, subscription=subscription
        )
        return Response(self.get_serializer(subscription).data)

    @extend_schema(
        summary=str(_("Send a test ping event")),
        description=str(
            _(
                "Queues one `ping` delivery, tried once; follow it at "
                "/api/v1/webhook-deliveries/{id}/."
            )
        ),
        request=None,
        responses={202: WebhookDeliverySerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def ping(self, request, pk=None):
        subscription = self.get_object()
        delivery = call_service(
            services.webhook_test_ping, actor=request.user, subscription=subscription
        )
        delivery = WebhookDelivery.objects.prefetch_related("attempts").get(pk=delivery.pk)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary=str(_("The webhook's deliveries, newest first, with their attempts")),
        responses=WebhookDeliverySerializer(many=True),
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def deliveries(self, request, pk=None):
        subscription = self.get_object()
        deliveries = selectors.webhook_delivery_list_visible(
            user=request.user, subscription=subscription
        ).prefetch_related("attempts")
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class WebhookDeliveryFilter(filters.FilterSet):
    class Meta:
        model = WebhookDelivery
        fields = ["subscription", "status", "event", "event_id"]


@extend_schema_view(
    list=extend_schema(summary=str(_("The delivery log of your webhooks, newest first"))),
    retrieve=extend_schema(summary=str(_("One delivery, with its attempts"))),
)
class WebhookDeliveryViewSet(FieldsMixin, viewsets.ReadOnlyModelViewSet):
    """What was sent to the caller's webhooks: each event to each subscription, where its
    sending stands, and every attempt with the response code or the error."""

    serializer_class = WebhookDeliverySerializer
    filterset_class = WebhookDeliveryFilter
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return selectors.webhook_delivery_list_visible(user=self.request.user).prefetch_related(
            "attempts"
        )

    @extend_schema(
        summary=str(_("Send the delivery's event again")),
        description=str(
            _("A new delivery with the same event id and payload; answered with the new one.")
        ),
        request=None,
        responses={202: WebhookDeliverySerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[MayChangeSubscriptions])
    def redeliver(self, request, pk=None):
        delivery = self.get_object()
        again = call_service(
            services.webhook_delivery_redeliver, actor=request.user, delivery=delivery
        )
        again = self.get_queryset().get(pk=again.pk)
        return Response(self.get_serializer(again).data, status=status.HTTP_202_ACCEPTED)


class WebhookEventListView(FieldsMixin, APIView):
    """The events a webhook may subscribe to."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary=str(_("The event catalogue")),
        responses=WebhookEventSerializer(many=True),
        examples=[
            OpenApiExample(
                "Catalogue",
                value=[{"name": "customer.created", "description": "A customer was created"}],
                response_only=True,
            )
        ],
    )
    def get(self, request):
        return Response(WebhookEventSerializer(selectors.webhook_event_catalogue(), many=True).data)
