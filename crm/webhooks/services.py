"""Writes of webhooks: subscriptions, the deliveries an event makes, and sending them."""

from django.db.models import Model


def webhook_deliveries_create(*, event: str, record: Model, extra: dict) -> list:
    """One delivery per active subscription to `event` whose owner may see `record`, each
    queued for sending. Called on commit by `event_publish`."""
    raise NotImplementedError
