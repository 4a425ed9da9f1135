"""Celery tasks of analytics, one module per area; importing them here registers them."""

from analytics.tasks import customer_values, network, recommendations, rollups, text, training

__all__ = ["customer_values", "network", "recommendations", "rollups", "text", "training"]
