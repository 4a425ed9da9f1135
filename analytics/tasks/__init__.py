"""Celery tasks of analytics, one module per area; importing them here registers them."""

from analytics.tasks import network, recommendations, text, training

__all__ = ["network", "recommendations", "text", "training"]
