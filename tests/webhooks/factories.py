import secrets

import factory

from crm.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from tests.accounts.factories import UserFactory


class WebhookSubscriptionFactory(factory.django.DjangoModelFactory):
    """Written straight to the table, for tests that need subscriptions but no send."""

    class Meta:
        model = WebhookSubscription

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Webhook {n}")
    target_url = "https://hooks.example.com/crm"
    secret = factory.LazyFunction(lambda: secrets.token_hex(32))
    events = factory.LazyFunction(lambda: ["customer.created"])


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    subscription = factory.SubFactory(WebhookSubscriptionFactory)
    event = "customer.created"
    payload = factory.LazyFunction(lambda: {"event": "customer.created", "data": {"id": 1}})


class WebhookAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookAttempt

    delivery = factory.SubFactory(WebhookDeliveryFactory)
    number = 1
    status_code = 500
    response_excerpt = "Internal error"
