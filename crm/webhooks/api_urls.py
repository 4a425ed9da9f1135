from django.urls import path

from crm.webhooks.api import (
    WebhookDeliveryViewSet,
    WebhookEventListView,
    WebhookSubscriptionViewSet,
)

routes = [
    ("webhooks", WebhookSubscriptionViewSet, "webhook"),
    ("webhook-deliveries", WebhookDeliveryViewSet, "webhook-delivery"),
]
urlpatterns = [path("webhook-events/", WebhookEventListView.as_view(), name="webhook-events")]
